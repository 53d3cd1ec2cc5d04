#include "common/function_log.h"

#include <boost/json.hpp>

namespace orderflow {

std::optional<FunctionLogRecord> parse_function_log_line(std::string_view line) {
  auto brace = line.find('{');
  if (brace == std::string_view::npos) return std::nullopt;
  line.remove_prefix(brace);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(line, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto& o = doc.get_object();
  auto str = [&](std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  return FunctionLogRecord{str("messageId"), str("orderId"), str("outcome"), str("reason")};
}

}  // namespace orderflow
