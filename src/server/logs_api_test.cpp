// The CloudWatch Logs adapter (server/logs_api.h) driven through the router with SigV4-signed
// requests, as SDKs send them: every operation, the JSON 1.1 shapes clients parse, pagination
// tokens, and the error shapes.
#include "server/logs_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "aws/sigv4.h"
#include "server/router.h"
#include "server/testing/test_support.h"

namespace orderflow::server {
namespace {

namespace json = boost::json;
using testing::header;

struct Reply {
  int status = 0;
  json::object body;
  std::string raw;
  std::string type() const {
    const auto* t = body.if_contains("__type");
    return t != nullptr ? std::string(t->as_string()) : std::string();
  }
  std::string message() const {
    const auto* m = body.if_contains("message");
    return m != nullptr ? std::string(m->as_string()) : std::string();
  }
};

class LogsApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(t_.engine); }

  std::int64_t now() const { return to_epoch_ms(t_.clock.now()); }

  // A request signed for `logs` as the SDKs send it.
  Reply call(std::string_view op, std::string_view body, std::string_view service = "logs") {
    aws::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"Host", "127.0.0.1:4566"},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "Logs_20140328." + std::string(op)}};
    r.body = std::string(body);
    aws::sign(r, aws::Credentials{"test", "test", ""}, "us-east-1", service, t_.clock.now());
    testing::Reply reply;
    handle(*t_.engine, r, options_, reply.respond());
    ApiResponse res = reply.get();
    EXPECT_EQ(header(res, "Content-Type"), "application/x-amz-json-1.1") << res.body;
    EXPECT_TRUE(header(res, "x-amzn-RequestId"));
    Reply out;
    out.status = res.status;
    out.raw = res.body;
    boost::system::error_code ec;
    auto v = json::parse(res.body, ec);
    EXPECT_FALSE(ec) << "not JSON: " << res.body;
    if (!ec && v.is_object()) out.body = v.get_object();
    return out;
  }
  Reply call(std::string_view op, const json::object& body) {
    return call(op, json::serialize(body));
  }

  json::object ok(std::string_view op, const json::object& body) {
    Reply r = call(op, body);
    EXPECT_EQ(r.status, 200) << op << ": " << r.raw;
    return r.body;
  }

  void expect_error(const Reply& r, std::string_view type, std::string_view message) {
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(r.type(), type) << r.raw;
    EXPECT_EQ(r.message(), message) << r.raw;
  }

  testing::TestEngine t_;
  RouterOptions options_;
};

TEST_F(LogsApiTest, LogGroupLifecycle) {
  EXPECT_TRUE(
      ok("CreateLogGroup", {{"logGroupName", "/aws/lambda/fn"}, {"tags", {{"team", "orders"}}}})
          .empty());
  auto d = ok("DescribeLogGroups", {});
  const auto& g = d.at("logGroups").as_array().at(0).as_object();
  EXPECT_EQ(g.at("logGroupName"), "/aws/lambda/fn");
  EXPECT_EQ(g.at("creationTime").as_int64(), now());
  EXPECT_EQ(g.at("metricFilterCount").as_int64(), 0);
  EXPECT_EQ(g.at("arn"), "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*");
  EXPECT_EQ(g.at("logGroupArn"), "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn");
  EXPECT_EQ(g.at("storedBytes").as_int64(), 0);
  EXPECT_EQ(g.at("logGroupClass"), "STANDARD");
  EXPECT_FALSE(g.contains("retentionInDays"));
  EXPECT_FALSE(d.contains("nextToken"));

  expect_error(call("CreateLogGroup", json::object{{"logGroupName", "/aws/lambda/fn"}}),
               "ResourceAlreadyExistsException", "The specified log group already exists");

  EXPECT_TRUE(ok("PutRetentionPolicy", {{"logGroupName", "/aws/lambda/fn"}, {"retentionInDays", 7}})
                  .empty());
  EXPECT_EQ(
      ok("DescribeLogGroups", {}).at("logGroups").as_array()[0].at("retentionInDays").as_int64(),
      7);
  Reply bad = call("PutRetentionPolicy",
                   json::object{{"logGroupName", "/aws/lambda/fn"}, {"retentionInDays", 8}});
  EXPECT_EQ(bad.type(), "InvalidParameterException");
  EXPECT_NE(bad.message().find("Value '8' at 'retentionInDays'"), std::string::npos) << bad.raw;
  ok("DeleteRetentionPolicy", {{"logGroupName", "/aws/lambda/fn"}});
  EXPECT_FALSE(ok("DescribeLogGroups", {})
                   .at("logGroups")
                   .as_array()[0]
                   .as_object()
                   .contains("retentionInDays"));

  ok("DeleteLogGroup", {{"logGroupName", "/aws/lambda/fn"}});
  expect_error(call("DeleteLogGroup", json::object{{"logGroupName", "/aws/lambda/fn"}}),
               "ResourceNotFoundException", "The specified log group does not exist.");
  EXPECT_TRUE(ok("DescribeLogGroups", {}).at("logGroups").as_array().empty());
}

TEST_F(LogsApiTest, DescribeLogGroupsPaginatesWithNextToken) {
  for (int i = 0; i < 5; ++i) ok("CreateLogGroup", {{"logGroupName", "/p/g" + std::to_string(i)}});
  ok("CreateLogGroup", {{"logGroupName", "/q/other"}});
  json::object req{{"logGroupNamePrefix", "/p/"}, {"limit", 2}};
  std::vector<std::string> names;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = ok("DescribeLogGroups", req);
    for (const auto& g : page.at("logGroups").as_array())
      names.emplace_back(g.at("logGroupName").as_string());
    if (!page.contains("nextToken")) break;
    req["nextToken"] = page.at("nextToken");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"/p/g0", "/p/g1", "/p/g2", "/p/g3", "/p/g4"}));
  // With a pattern only the pattern view is answered.
  auto pat = ok("DescribeLogGroups", {{"logGroupNamePattern", "other"}});
  const auto& g = pat.at("logGroups").as_array().at(0).as_object();
  EXPECT_EQ(g.at("logGroupName"), "/q/other");
  EXPECT_FALSE(g.contains("storedBytes"));
  expect_error(call("DescribeLogGroups", json::object{{"nextToken", "bogus"}}),
               "InvalidParameterException", "The specified nextToken is invalid.");
  expect_error(call("DescribeLogGroups", json::object{{"limit", 0}}), "InvalidParameterException",
               "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
               "Member must have value "
               "greater than or equal to 1");
}

TEST_F(LogsApiTest, StreamsEventsAndTokens) {
  ok("CreateLogGroup", {{"logGroupName", "g"}});
  ok("CreateLogStream", {{"logGroupName", "g"}, {"logStreamName", "s"}});
  expect_error(call("CreateLogStream", json::object{{"logGroupName", "g"}, {"logStreamName", "s"}}),
               "ResourceAlreadyExistsException", "The specified log stream already exists");
  json::array events;
  for (int i = 0; i < 5; ++i)
    events.push_back(
        json::object{{"timestamp", now() - 10 + i}, {"message", "m" + std::to_string(i)}});
  auto put =
      ok("PutLogEvents", {{"logGroupName", "g"}, {"logStreamName", "s"}, {"logEvents", events}});
  EXPECT_TRUE(put.at("nextSequenceToken").is_string());
  EXPECT_FALSE(put.contains("rejectedLogEventsInfo"));

  auto rejected = ok("PutLogEvents",
                     {{"logGroupName", "g"},
                      {"logStreamName", "s"},
                      {"sequenceToken", "ignored"},
                      {"logEvents", json::array{json::object{{"timestamp", now() + 3 * 3600 * 1000},
                                                             {"message", "from the future"}}}}});
  EXPECT_EQ(rejected.at("rejectedLogEventsInfo").at("tooNewLogEventStartIndex").as_int64(), 0);

  auto streams = ok("DescribeLogStreams", {{"logGroupName", "g"}});
  const auto& s = streams.at("logStreams").as_array().at(0).as_object();
  EXPECT_EQ(s.at("logStreamName"), "s");
  EXPECT_EQ(s.at("firstEventTimestamp").as_int64(), now() - 10);
  EXPECT_EQ(s.at("lastEventTimestamp").as_int64(), now() - 6);
  EXPECT_EQ(s.at("lastIngestionTime").as_int64(), now());
  EXPECT_EQ(s.at("arn"), "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s");
  EXPECT_EQ(s.at("storedBytes").as_int64(), 0);
  expect_error(call("DescribeLogStreams", json::object{{"logGroupName", "g"},
                                                       {"orderBy", "LastEventTime"},
                                                       {"logStreamNamePrefix", "s"}}),
               "InvalidParameterException",
               "Cannot order by LastEventTime with a logStreamNamePrefix.");
  auto by_arn = ok("DescribeLogStreams",
                   {{"logGroupIdentifier", "arn:aws:logs:us-east-1:000000000000:log-group:g"}});
  EXPECT_EQ(by_arn.at("logStreams").as_array().size(), 1u);

  // GetLogEvents, forward from the head two at a time until the token repeats.
  json::object req{
      {"logGroupName", "g"}, {"logStreamName", "s"}, {"startFromHead", true}, {"limit", 2}};
  std::vector<std::string> got;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = ok("GetLogEvents", req);
    for (const auto& e : page.at("events").as_array()) {
      got.emplace_back(e.at("message").as_string());
      EXPECT_EQ(e.at("ingestionTime").as_int64(), now());
    }
    std::string forward(page.at("nextForwardToken").as_string());
    EXPECT_TRUE(forward.starts_with("f/"));
    EXPECT_TRUE(std::string(page.at("nextBackwardToken").as_string()).starts_with("b/"));
    if (req.contains("nextToken") && req.at("nextToken").as_string() == forward) break;
    req["nextToken"] = forward;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));

  // FilterLogEvents pages with nextToken until it is absent.
  json::object freq{
      {"logGroupName", "g"}, {"limit", 2}, {"interleaved", true}, {"filterPattern", "m"}};
  std::vector<std::string> filtered;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = ok("FilterLogEvents", freq);
    EXPECT_TRUE(page.at("searchedLogStreams").as_array().empty());
    for (const auto& e : page.at("events").as_array()) {
      filtered.emplace_back(e.at("message").as_string());
      EXPECT_EQ(e.at("logStreamName"), "s");
      EXPECT_EQ(e.at("eventId").as_string().size(), 56u);
    }
    if (!page.contains("nextToken")) break;
    freq["nextToken"] = page.at("nextToken");
  }
  EXPECT_EQ(filtered, got);
  expect_error(
      call("FilterLogEvents", json::object{{"logGroupName", "g"}, {"filterPattern", "\"open"}}),
      "InvalidParameterException", "Invalid filter pattern");

  ok("DeleteLogStream", {{"logGroupName", "g"}, {"logStreamName", "s"}});
  expect_error(call("GetLogEvents", json::object{{"logGroupName", "g"}, {"logStreamName", "s"}}),
               "ResourceNotFoundException", "The specified log stream does not exist.");
}

TEST_F(LogsApiTest, TagOperationsOldAndNew) {
  ok("CreateLogGroup", {{"logGroupName", "g"}, {"tags", {{"a", "1"}}}});
  std::string arn = "arn:aws:logs:us-east-1:000000000000:log-group:g";
  ok("TagLogGroup", {{"logGroupName", "g"}, {"tags", {{"b", "2"}}}});
  ok("TagResource", {{"resourceArn", arn}, {"tags", {{"c", "3"}}}});
  EXPECT_EQ(ok("ListTagsLogGroup", {{"logGroupName", "g"}}).at("tags"),
            (json::object{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  ok("UntagLogGroup", {{"logGroupName", "g"}, {"tags", json::array{"a"}}});
  ok("UntagResource", {{"resourceArn", arn + ":*"}, {"tagKeys", json::array{"b"}}});
  EXPECT_EQ(ok("ListTagsForResource", {{"resourceArn", arn}}).at("tags"),
            (json::object{{"c", "3"}}));
  json::object many;
  for (int i = 0; i < 50; ++i) many["k" + std::to_string(i)] = "v";
  Reply too_many = call("TagResource", json::object{{"resourceArn", arn}, {"tags", many}});
  EXPECT_EQ(too_many.type(), "TooManyTagsException") << too_many.raw;
  expect_error(call("ListTagsForResource", json::object{{"resourceArn", arn + "x"}}),
               "ResourceNotFoundException", "The specified log group does not exist.");
}

TEST_F(LogsApiTest, ValidationErrorsNameTheMembers) {
  expect_error(call("CreateLogGroup", "{}"), "InvalidParameterException",
               "1 validation error detected: Value null at 'logGroupName' failed to satisfy "
               "constraint: Member must "
               "not be null");
  expect_error(call("PutLogEvents", "{}"), "InvalidParameterException",
               "3 validation errors detected: Value null at 'logGroupName' failed to satisfy "
               "constraint: Member must "
               "not be null; Value null at 'logStreamName' failed to satisfy constraint: Member "
               "must not be null; "
               "Value null at 'logEvents' failed to satisfy constraint: Member must not be null");
  expect_error(
      call("PutLogEvents",
           json::object{{"logGroupName", "g"},
                        {"logStreamName", "s"},
                        {"logEvents", json::array{json::object{{"message", "x"}}}}}),
      "InvalidParameterException",
      "1 validation error detected: Value null at 'logEvents.1.member.timestamp' failed to satisfy "
      "constraint: Member must not be null");
  expect_error(call("DescribeLogStreams", json::object{{"logGroupName", "g"}, {"orderBy", "Size"}}),
               "InvalidParameterException",
               "1 validation error detected: Value 'Size' at 'orderBy' failed to satisfy "
               "constraint: Member must "
               "satisfy enum value set: [LogStreamName, LastEventTime]");
  expect_error(
      call("DescribeLogStreams", json::object{{"logGroupName", "g"}, {"logGroupIdentifier", "g"}}),
      "ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  Reply neither = call("GetLogEvents", json::object{{"logStreamName", "s"}});
  EXPECT_EQ(neither.type(), "InvalidParameterException") << neither.raw;
  expect_error(call("CreateLogGroup", json::object{{"logGroupName", "a b"}}),
               "InvalidParameterException",
               "1 validation error detected: Value 'a b' at 'logGroupName' failed to satisfy "
               "constraint: Member must "
               "satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
  expect_error(call("GetLogEvents",
                    json::object{{"logGroupName", "g"}, {"logStreamName", "s"}, {"nextToken", ""}}),
               "InvalidParameterException",
               "1 validation error detected: Value '' at 'nextToken' failed to satisfy constraint: "
               "Member must have "
               "length greater than or equal to 1");
}

TEST_F(LogsApiTest, MalformedBodiesAndUnknownOperations) {
  Reply bad_json = call("DescribeLogGroups", "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.type(), "com.amazon.coral.service#SerializationException") << bad_json.raw;
  Reply wrong_type = call("CreateLogGroup", R"({"logGroupName": 5})");
  EXPECT_EQ(wrong_type.type(), "com.amazon.coral.service#SerializationException") << wrong_type.raw;
  Reply array = call("CreateLogGroup", "[]");
  EXPECT_EQ(array.type(), "com.amazon.coral.service#SerializationException") << array.raw;
  Reply unknown = call("StartLiveTail", "{}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.type(), "com.amazon.coral.service#UnknownOperationException") << unknown.raw;
  // Signed for another service: refused in the JSON shape.
  Reply scoped = call("DescribeLogGroups", "{}", "sqs");
  EXPECT_EQ(scoped.status, 400);
  EXPECT_EQ(scoped.type(), "com.amazon.coral.service#InvalidSignatureException") << scoped.raw;
}

TEST_F(LogsApiTest, LambdaLinesWrittenThroughTheSinkAreServed) {
  t_.engine->logs().write("/aws/lambda/ProcessOrder", "2027/01/15/[$LATEST]abc", t_.clock.now(),
                          "START RequestId: r-1 Version: $LATEST");
  ASSERT_TRUE(t_.engine->logs().flush());
  auto page = ok("FilterLogEvents",
                 {{"logGroupName", "/aws/lambda/ProcessOrder"}, {"filterPattern", "START"}});
  ASSERT_EQ(page.at("events").as_array().size(), 1u);
  EXPECT_EQ(page.at("events").as_array()[0].at("logStreamName"), "2027/01/15/[$LATEST]abc");
}

}  // namespace
}  // namespace orderflow::server
