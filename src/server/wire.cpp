#include "server/wire.h"

#include "common/util.h"
#include "server/xml.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace orderflow::server {

std::string valid_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len != 0 && i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

ApiResponse query_error(std::string_view xmlns, const Error& error, const RequestContext& ctx) {
  const ErrorInfo& info = error.info();
  ApiResponse r;
  r.status = info.http_status;
  r.headers.emplace_back("Content-Type", "text/xml");
  r.body.reserve(256 + error.message.size());
  r.body += "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"";
  r.body += xmlns;
  r.body += "\"><Error><Type>";
  r.body += info.sender_fault ? "Sender" : "Receiver";
  r.body += "</Type><Code>";
  r.body += xml::escape(info.code);
  r.body += "</Code><Message>";
  r.body += xml::escape(valid_utf8(error.message));
  r.body += "</Message><Detail/></Error><RequestId>";
  r.body += xml::escape(ctx.request_id);
  r.body += "</RequestId></ErrorResponse>";
  return r;
}

ApiResponse json_error(const Error& error, const RequestContext& ctx, JsonErrorStyle style) {
  (void)ctx;
  const ErrorInfo& info = error.info();
  ApiResponse r;
  r.status = info.http_status;
  r.headers.emplace_back("Content-Type", std::string(style.content_type));
  if (style.query_compatible) {
    r.headers.emplace_back("x-amzn-query-error",
                           std::string(info.code) + (info.sender_fault ? ";Sender" : ";Receiver"));
  }
  boost::json::object body;
  body["__type"] = info.json_type;
  body["message"] = valid_utf8(error.message);
  r.body = boost::json::serialize(body);
  return r;
}

ApiResponse ok_response(std::string body, std::string_view content_type) {
  ApiResponse r;
  r.headers.emplace_back("Content-Type", std::string(content_type));
  r.body = std::move(body);
  return r;
}

}  // namespace orderflow::server
