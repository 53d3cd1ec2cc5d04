// Fuzz target: application/x-www-form-urlencoded bodies and query strings (aws/uri.h), and the
// query protocol (SQS and SNS) that reads its parameters from them.
//
// Input: a form body, e.g. "Action=SendMessage&QueueUrl=...&MessageBody=hi". A leading '?'
// sends the rest as the query string of a GET instead. The parsers run on it directly (with
// '+' as space and as itself), with two properties: formatting what was parsed and parsing it
// again gives the same pairs, and percent-decoding what uri_encode made gives the text back.
// Then the request is signed (for SNS when its Action is an SNS action, else SQS) and answered
// by the router, on an engine holding the order pipeline's queues and topic.
#include <cstddef>
#include <cstdint>

#include "aws/uri.h"
#include "fuzz/fuzz_engine.h"

namespace {

namespace aws = orderflow::aws;
using orderflow::fuzz::contract_broken;

bool is_sns_action(std::string_view a) {
  for (std::string_view s : {"CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
                             "Subscribe", "Unsubscribe", "ListSubscriptions", "ListSubscriptionsByTopic",
                             "GetSubscriptionAttributes", "SetSubscriptionAttributes", "Publish", "PublishBatch",
                             "ConfirmSubscription", "TagResource", "UntagResource", "ListTagsForResource"})
    if (a == s) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static orderflow::fuzz::FuzzEngine* fuzz_engine =
      new orderflow::fuzz::FuzzEngine(orderflow::fuzz::create_pipeline_resources);
  std::string_view text = orderflow::fuzz::as_text(data, size);
  bool in_query = text.starts_with('?');
  if (in_query) text.remove_prefix(1);

  (void)aws::uri_decode(text, aws::Plus::literal);
  (void)aws::uri_reencode(text, aws::Plus::space);
  (void)aws::parse_query(text, aws::Plus::literal);
  std::string encoded = aws::uri_encode(text);
  auto decoded = aws::uri_decode(encoded);
  if (!decoded || *decoded != text) contract_broken("uri_decode(uri_encode(x)) != x");
  if (encoded != aws::uri_reencode(encoded))
    contract_broken("uri_reencode changes a canonically encoded text");

  auto params = aws::parse_query(text);
  if (params) {
    auto again = aws::parse_query(aws::format_query(*params));
    if (!again || *again != *params) contract_broken("parse_query(format_query(p)) != p", text);
  }

  aws::HttpRequest req;
  req.method = in_query ? "GET" : "POST";
  req.target = in_query ? "/?" + std::string(text) : "/";
  req.headers = {{"Host", "127.0.0.1:4566"}};
  if (!in_query) {
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    req.body = std::string(text);
  }
  std::string_view service = "sqs";
  if (params)
    for (const auto& [k, v] : *params)
      if (k == "Action" && is_sns_action(v)) service = "sns";
  fuzz_engine->call_signed(std::move(req), service);
  return 0;
}
