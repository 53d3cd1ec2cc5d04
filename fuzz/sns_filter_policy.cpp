// Fuzz target: SNS subscription filter policies (engine/sns/filter_policy.h).
//
// Input: the scope on the first line ("MessageAttributes" or "MessageBody"; anything else is
// parsed as a FilterPolicyScope value and then taken as MessageAttributes), the policy JSON,
// then optionally a line "---" followed by a published message body. A policy that parses is
// matched against that body and against a fixed set of message attributes (String, Number,
// String.Array, Binary), in both scopes' ways.
#include <cstddef>
#include <cstdint>

#include "engine/message_attributes.h"
#include "engine/sns/filter_policy.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace engine = orderflow::engine;
namespace sns = orderflow::engine::sns;

const engine::MessageAttributes& attributes() {
  static const engine::MessageAttributes a = {
      {"status", {"String", "paid", ""}},
      {"total", {"Number", "25.5", ""}},
      {"quantity", {"Number.int", "3", ""}},
      {"tags", {"String.Array", R"(["gift", 5, true, null])", ""}},
      {"ip", {"String", "10.0.0.7", ""}},
      {"raw", {"Binary", "", std::string("\x00\x01", 2)}},
  };
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = orderflow::fuzz::as_text(data, size);
  std::string_view scope_text = orderflow::fuzz::take_line(in);
  std::string_view policy_text = in;
  std::string_view body = R"({"orderId":"ord-1","status":"paid","total":25.5,"items":[{"sku":"A-1","quantity":2}]})";
  if (auto sep = in.find("\n---\n"); sep != std::string_view::npos) {
    policy_text = in.substr(0, sep);
    body = in.substr(sep + 5);
  }
  sns::FilterPolicyScope scope = sns::FilterPolicyScope::message_attributes;
  if (auto parsed = sns::parse_filter_policy_scope(scope_text)) scope = *parsed;

  for (auto source : {sns::FilterPolicySource::set_subscription_attributes, sns::FilterPolicySource::subscribe}) {
    auto policy = sns::FilterPolicy::parse(policy_text, scope, source);
    if (!policy) continue;
    (void)policy->empty();
    (void)policy->matches(attributes());
    (void)policy->matches(engine::MessageAttributes{});
    (void)policy->matches_body(body);
    (void)policy->matches_message(body, attributes());
    break;
  }
  return 0;
}
