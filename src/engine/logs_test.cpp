// CloudWatch Logs semantics (engine/logs.h) on a real store: names, groups and streams, the
// LogSink, every query's pagination and tokens, filter patterns, retention on a manual clock,
// restart, the message cache, and deletion.
#include "engine/logs.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

constexpr std::int64_t kDay = 24LL * 3600 * 1000;

class LogsTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  // Destroys and reopens the service and the store on the same directory. The store runs
  // without fsync: this data is throwaway and no test here simulates power loss.
  void reopen(LogsOptions options = {}) {
    logs_.reset();
    store_.reset();
    auto s = Store::open(dir_.path(), StoreOptions{.sync = false});
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto l = Logs::open(*store_, clock_, std::move(options));
    ASSERT_TRUE(l) << l.error().message;
    logs_ = std::move(*l);
  }

  std::int64_t now() const { return to_epoch_ms(clock_.now()); }

  void group(std::string name) {
    CreateLogGroupRequest r;
    r.log_group_name = std::move(name);
    auto st = logs_->create_log_group(r);
    ASSERT_TRUE(st) << st.error().message;
  }

  void stream(std::string_view g, std::string_view s) {
    auto st = logs_->create_log_stream(g, s);
    ASSERT_TRUE(st) << st.error().message;
  }

  // Puts `messages` one ms apart, starting at `start`.
  void put(std::string_view g, std::string_view s, const std::vector<std::string>& messages,
           std::int64_t start) {
    std::vector<InputLogEvent> events;
    for (std::size_t i = 0; i < messages.size(); ++i)
      events.push_back(InputLogEvent{start + static_cast<std::int64_t>(i), messages[i]});
    auto r = logs_->put_log_events(g, s, events);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_FALSE(r->too_new_log_event_start_index || r->too_old_log_event_end_index ||
                 r->expired_log_event_end_index);
  }

  std::vector<std::string> all_messages(std::string_view g, std::string_view s) {
    GetLogEventsRequest req;
    req.log_group = std::string(g);
    req.log_stream_name = std::string(s);
    req.start_from_head = true;
    std::vector<std::string> out;
    for (int guard = 0; guard < 1000; ++guard) {
      auto r = logs_->get_log_events(req);
      EXPECT_TRUE(r) << r.error().message;
      if (!r) return out;
      for (auto& e : r->events) out.push_back(e.message);
      if (req.next_token == r->next_forward_token) return out;
      req.next_token = r->next_forward_token;
    }
    ADD_FAILURE() << "pagination did not end";
    return out;
  }

  static std::string message_of(const Error& e) { return e.message; }

  orderflow::testing::TempDir dir_;
  ManualClock clock_{from_epoch_ms(1'750'000'000'000)};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Logs> logs_;
};

// ---------------------------------------------------------------- groups and streams

TEST_F(LogsTest, CreatesGroupsWithAwsAttributes) {
  group("/aws/lambda/ProcessOrder");
  DescribeLogGroupsRequest req;
  auto r = logs_->describe_log_groups(req);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->log_groups.size(), 1u);
  const auto& g = r->log_groups[0];
  EXPECT_EQ(g.log_group_name, "/aws/lambda/ProcessOrder");
  EXPECT_EQ(g.creation_time, now());
  EXPECT_FALSE(g.retention_in_days);
  EXPECT_EQ(g.metric_filter_count, 0);
  EXPECT_EQ(g.arn, "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/ProcessOrder:*");
  EXPECT_EQ(g.log_group_arn,
            "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/ProcessOrder");
  EXPECT_EQ(g.stored_bytes, 0);
  EXPECT_EQ(g.log_group_class, "STANDARD");
  EXPECT_EQ(logs_->log_group_arn("x"), "arn:aws:logs:us-east-1:000000000000:log-group:x:*");

  CreateLogGroupRequest dup;
  dup.log_group_name = "/aws/lambda/ProcessOrder";
  auto again = logs_->create_log_group(dup);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::logs_resource_already_exists);
  EXPECT_EQ(again.error().message, "The specified log group already exists");
}

TEST_F(LogsTest, RejectsInvalidGroupAndStreamNames) {
  CreateLogGroupRequest r;
  r.log_group_name = "has space";
  auto bad = logs_->create_log_group(r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::logs_invalid_parameter);
  EXPECT_EQ(bad.error().message,
            "1 validation error detected: Value 'has space' at 'logGroupName' failed to satisfy "
            "constraint: Member "
            "must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
  r.log_group_name = "";
  EXPECT_EQ(logs_->create_log_group(r).error().code, ErrorCode::logs_invalid_parameter);
  r.log_group_name = std::string(513, 'a');
  EXPECT_EQ(logs_->create_log_group(r).error().message,
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512.");
  r.log_group_name = std::string(512, 'a');
  EXPECT_TRUE(logs_->create_log_group(r));
  r.log_group_name = "ok";
  r.log_group_class = "CHEAP";
  EXPECT_EQ(logs_->create_log_group(r).error().code, ErrorCode::logs_invalid_parameter);

  group("g");
  for (std::string_view s : {"a:b", "a*", ""}) {
    auto st = logs_->create_log_stream("g", s);
    ASSERT_FALSE(st) << s;
    EXPECT_EQ(st.error().code, ErrorCode::logs_invalid_parameter) << s;
  }
  EXPECT_TRUE(logs_->create_log_stream("g", "2024/05/01/[$LATEST]abc #1"));
}

TEST_F(LogsTest, StreamsNeedTheirGroupAndAreUnique) {
  auto missing = logs_->create_log_stream("nope", "s");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::logs_resource_not_found);
  EXPECT_EQ(missing.error().message, "The specified log group does not exist.");
  group("g");
  stream("g", "s");
  auto dup = logs_->create_log_stream("g", "s");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::logs_resource_already_exists);
  EXPECT_EQ(dup.error().message, "The specified log stream already exists");
  auto gone = logs_->delete_log_stream("g", "other");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message, "The specified log stream does not exist.");
  EXPECT_TRUE(logs_->delete_log_stream("g", "s"));
  auto put = logs_->put_log_events("g", "s", {InputLogEvent{now(), "x"}});
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ErrorCode::logs_resource_not_found);
}

TEST_F(LogsTest, AcceptsGroupArnsAsIdentifiers) {
  group("/app/orders");
  stream("/app/orders", "s1");
  DescribeLogStreamsRequest req;
  for (std::string id : {"/app/orders", "arn:aws:logs:us-east-1:000000000000:log-group:/app/orders",
                         "arn:aws:logs:us-east-1:000000000000:log-group:/app/orders:*"}) {
    req.log_group = id;
    auto r = logs_->describe_log_streams(req);
    ASSERT_TRUE(r) << id << ": " << r.error().message;
    ASSERT_EQ(r->log_streams.size(), 1u);
    EXPECT_EQ(r->log_streams[0].arn,
              "arn:aws:logs:us-east-1:000000000000:log-group:/app/orders:log-stream:s1");
  }
  req.log_group = "arn:aws:logs:eu-west-1:000000000000:log-group:/app/orders";
  EXPECT_EQ(logs_->describe_log_streams(req).error().code, ErrorCode::logs_resource_not_found);
}

TEST_F(LogsTest, TagsAreMergedRemovedAndBounded) {
  CreateLogGroupRequest r;
  r.log_group_name = "g";
  r.tags = {{"env", "test"}};
  ASSERT_TRUE(logs_->create_log_group(r));
  ASSERT_TRUE(logs_->tag_log_group("g", {{"team", "orders"}, {"env", "prod"}}));
  EXPECT_EQ(*logs_->list_tags("g"), (LogTags{{"env", "prod"}, {"team", "orders"}}));
  ASSERT_TRUE(
      logs_->untag_log_group("arn:aws:logs:us-east-1:000000000000:log-group:g", {"env", "absent"}));
  EXPECT_EQ(*logs_->list_tags("g"), (LogTags{{"team", "orders"}}));
  LogTags many;
  for (int i = 0; i < 50; ++i) many["k" + std::to_string(i)] = "v";
  auto too_many = logs_->tag_log_group("g", many);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, ErrorCode::logs_too_many_tags);
  EXPECT_EQ(logs_->tag_log_group("g", {{"bad{key", "v"}}).error().code,
            ErrorCode::logs_invalid_parameter);
  EXPECT_EQ(logs_->list_tags("missing").error().code, ErrorCode::logs_resource_not_found);
}

TEST_F(LogsTest, DeletionProtectionBlocksDeletesUntilDisabled) {
  CreateLogGroupRequest r;
  r.log_group_name = "kept";
  r.deletion_protection_enabled = true;
  ASSERT_TRUE(logs_->create_log_group(r));
  stream("kept", "s");
  EXPECT_EQ(logs_->delete_log_group("kept").error().code, ErrorCode::logs_validation);
  EXPECT_EQ(logs_->delete_log_stream("kept", "s").error().code, ErrorCode::logs_validation);
  ASSERT_TRUE(logs_->put_deletion_protection("kept", false));
  EXPECT_TRUE(logs_->delete_log_group("kept"));
}

// ---------------------------------------------------------------- the sink

TEST_F(LogsTest, LogSinkCreatesGroupAndStreamOnFirstUse) {
  LogSink& sink = *logs_;
  sink.write("/aws/lambda/fn", "2025/06/15/[$LATEST]0123", clock_.now(),
             "START RequestId: r1 Version: $LATEST");
  clock_.advance(Millis(5));
  sink.write("/aws/lambda/fn", "2025/06/15/[$LATEST]0123", clock_.now(), "END RequestId: r1");
  ASSERT_TRUE(logs_->flush());
  DescribeLogStreamsRequest req;
  req.log_group = "/aws/lambda/fn";
  auto r = logs_->describe_log_streams(req);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->log_streams.size(), 1u);
  const auto& s = r->log_streams[0];
  EXPECT_EQ(s.log_stream_name, "2025/06/15/[$LATEST]0123");
  EXPECT_EQ(s.first_event_timestamp, now() - 5);
  EXPECT_EQ(s.last_event_timestamp, now());
  EXPECT_EQ(s.last_ingestion_time, now());
  EXPECT_TRUE(s.upload_sequence_token);
  EXPECT_EQ(
      all_messages("/aws/lambda/fn", "2025/06/15/[$LATEST]0123"),
      (std::vector<std::string>{"START RequestId: r1 Version: $LATEST", "END RequestId: r1"}));
  sink.write("bad name", "s", clock_.now(), "dropped");
  sink.write("g", "bad:stream", clock_.now(), "dropped");
  EXPECT_EQ(logs_->stats().dropped_lines, 2u);
}

TEST_F(LogsTest, ConcurrentSinkWritersLoseNothing) {
  constexpr int kThreads = 4, kLines = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i)
        logs_->write("/aws/lambda/fn", "w" + std::to_string(t), clock_.now(),
                     "line " + std::to_string(i));
    });
  for (auto& th : threads) th.join();
  ASSERT_TRUE(logs_->flush());
  EXPECT_EQ(logs_->stats().events, static_cast<std::uint64_t>(kThreads * kLines));
  reopen();
  EXPECT_EQ(logs_->stats().events, static_cast<std::uint64_t>(kThreads * kLines));
  for (int t = 0; t < kThreads; ++t) {
    auto got = all_messages("/aws/lambda/fn", "w" + std::to_string(t));
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kLines));
    EXPECT_EQ(got.front(), "line 0");
    EXPECT_EQ(got.back(), "line " + std::to_string(kLines - 1));
  }
}

// ---------------------------------------------------------------- describe pagination

TEST_F(LogsTest, DescribeLogGroupsPaginatesByPrefixAndPattern) {
  for (std::string n : {"/app/e", "/app/a", "/other/x", "/app/c", "/app/b", "/app/d", "zeta"})
    group(n);
  DescribeLogGroupsRequest req;
  req.log_group_name_prefix = "/app/";
  req.limit = 2;
  std::vector<std::string> seen;
  int pages = 0;
  for (;; ++pages) {
    auto r = logs_->describe_log_groups(req);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_LE(r->log_groups.size(), 2u);
    for (const auto& g : r->log_groups) seen.push_back(g.log_group_name);
    if (!r->next_token) break;
    req.next_token = r->next_token;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"/app/a", "/app/b", "/app/c", "/app/d", "/app/e"}));
  EXPECT_EQ(pages, 2);

  DescribeLogGroupsRequest pat;
  pat.log_group_name_pattern = "app/d";
  auto p = logs_->describe_log_groups(pat);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->log_groups.size(), 1u);
  EXPECT_EQ(p->log_groups[0].log_group_name, "/app/d");

  pat.log_group_name_prefix = "/app";
  EXPECT_EQ(logs_->describe_log_groups(pat).error().message,
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  DescribeLogGroupsRequest bad;
  bad.next_token = "nonsense";
  EXPECT_EQ(logs_->describe_log_groups(bad).error().message, "The specified nextToken is invalid.");
  bad.next_token.reset();
  bad.limit = 51;
  EXPECT_EQ(logs_->describe_log_groups(bad).error().message,
            "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: "
            "Member must have value "
            "less than or equal to 50");
  bad.limit = 0;
  EXPECT_EQ(logs_->describe_log_groups(bad).error().code, ErrorCode::logs_invalid_parameter);
}

TEST_F(LogsTest, DescribeLogStreamsOrdersByNameOrLastEventTimeAndPaginates) {
  group("g");
  // Names in one order, last event times in another.
  std::vector<std::pair<std::string, std::int64_t>> streams = {
      {"a", 40}, {"b", 10}, {"c", 30}, {"d", 20}, {"e", 50}};
  for (const auto& [name, offset] : streams) {
    stream("g", name);
    put("g", name, {"m"}, now() - 1000 + offset);
  }
  stream("g", "f-empty");
  auto collect = [&](DescribeLogStreamsRequest req) {
    std::vector<std::string> names;
    for (int guard = 0; guard < 20; ++guard) {
      auto r = logs_->describe_log_streams(req);
      EXPECT_TRUE(r) << r.error().message;
      if (!r) break;
      EXPECT_LE(r->log_streams.size(), 2u);
      for (const auto& s : r->log_streams) names.push_back(s.log_stream_name);
      if (!r->next_token) break;
      req.next_token = r->next_token;
    }
    return names;
  };
  DescribeLogStreamsRequest req;
  req.log_group = "g";
  req.limit = 2;
  EXPECT_EQ(collect(req), (std::vector<std::string>{"a", "b", "c", "d", "e", "f-empty"}));
  req.descending = true;
  EXPECT_EQ(collect(req), (std::vector<std::string>{"f-empty", "e", "d", "c", "b", "a"}));
  req.order_by = LogStreamOrder::last_event_time;
  EXPECT_EQ(collect(req), (std::vector<std::string>{"e", "a", "c", "d", "b", "f-empty"}));
  req.descending = false;
  EXPECT_EQ(collect(req), (std::vector<std::string>{"f-empty", "b", "d", "c", "a", "e"}));

  req.log_stream_name_prefix = "a";
  auto bad = logs_->describe_log_streams(req);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::logs_invalid_parameter);
  EXPECT_EQ(bad.error().message, "Cannot order by LastEventTime with a logStreamNamePrefix.");

  DescribeLogStreamsRequest prefixed;
  prefixed.log_group = "g";
  prefixed.log_stream_name_prefix = "f";
  auto f = logs_->describe_log_streams(prefixed);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->log_streams.size(), 1u);
  EXPECT_FALSE(f->log_streams[0].last_event_timestamp);
  EXPECT_FALSE(f->log_streams[0].upload_sequence_token);
  // A token of one order is not valid in the other.
  DescribeLogStreamsRequest by_name;
  by_name.log_group = "g";
  by_name.limit = 1;
  auto first = logs_->describe_log_streams(by_name);
  ASSERT_TRUE(first && first->next_token);
  DescribeLogStreamsRequest by_time = by_name;
  by_time.order_by = LogStreamOrder::last_event_time;
  by_time.next_token = first->next_token;
  EXPECT_EQ(logs_->describe_log_streams(by_time).error().message,
            "The specified nextToken is invalid.");
}

// ---------------------------------------------------------------- PutLogEvents

TEST_F(LogsTest, PutLogEventsEnforcesAwsBatchRules) {
  group("g");
  stream("g", "s");
  auto unordered = logs_->put_log_events("g", "s", {{now(), "b"}, {now() - 1, "a"}});
  ASSERT_FALSE(unordered);
  EXPECT_EQ(unordered.error().message,
            "Log events in a single PutLogEvents request must be in chronological order.");

  std::vector<InputLogEvent> big(2, InputLogEvent{now(), std::string(524'288, 'x')});
  auto too_big = logs_->put_log_events("g", "s", big);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().message, "Upload too large: 1048628 bytes exceeds limit of 1048576");
  big[0].message.resize(524'288 - 26 - 26);  // exactly 1,048,576 with the overheads
  EXPECT_TRUE(logs_->put_log_events("g", "s", big));

  auto empty = logs_->put_log_events("g", "s", {{now(), ""}});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message,
            "1 validation error detected: Value '' at 'logEvents.1.member.message' failed to "
            "satisfy constraint: "
            "Member must have length greater than or equal to 1");
  EXPECT_EQ(logs_->put_log_events("g", "s", {}).error().code, ErrorCode::logs_invalid_parameter);
  std::vector<InputLogEvent> many(10'001, InputLogEvent{now(), "x"});
  EXPECT_EQ(logs_->put_log_events("g", "s", many).error().code, ErrorCode::logs_invalid_parameter);

  auto span = logs_->put_log_events("g", "s", {{now() - kDay - 1, "a"}, {now(), "b"}});
  ASSERT_FALSE(span);
  EXPECT_EQ(
      span.error().message,
      "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
}

TEST_F(LogsTest, PutLogEventsSkipsTooOldTooNewAndExpiredEventsAndSaysWhich) {
  group("g");
  stream("g", "s");
  std::int64_t t = now();
  auto r = logs_->put_log_events("g", "s",
                                 {{t - 15 * kDay, "too old 1"},
                                  {t - 14 * kDay - 1, "too old 2"},
                                  {t - 1000, "ok 1"},
                                  {t, "ok 2"},
                                  {t + 2 * 3600 * 1000, "ok 3: exactly 2h ahead"},
                                  {t + 2 * 3600 * 1000 + 1, "too new"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->too_old_log_event_end_index, 2);
  EXPECT_EQ(r->too_new_log_event_start_index, 5);
  EXPECT_FALSE(r->expired_log_event_end_index);
  EXPECT_FALSE(r->next_sequence_token.empty());
  EXPECT_EQ(all_messages("g", "s"),
            (std::vector<std::string>{"ok 1", "ok 2", "ok 3: exactly 2h ahead"}));

  ASSERT_TRUE(logs_->put_retention_policy("g", 1));
  auto expired = logs_->put_log_events("g", "s", {{t - 2 * kDay, "expired"}, {t, "kept"}});
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->expired_log_event_end_index, 1);
  EXPECT_FALSE(expired->too_old_log_event_end_index);
  auto token1 = expired->next_sequence_token;
  auto again = logs_->put_log_events("g", "s", {{t, "later"}});
  ASSERT_TRUE(again);
  EXPECT_NE(again->next_sequence_token, token1);
}

// ---------------------------------------------------------------- GetLogEvents

TEST_F(LogsTest, GetLogEventsPaginatesForwardUntilTheTokenRepeats) {
  group("g");
  stream("g", "s");
  std::vector<std::string> msgs;
  for (int i = 0; i < 25; ++i) msgs.push_back("event " + std::to_string(i));
  std::int64_t t0 = now() - 100;
  put("g", "s", msgs, t0);

  GetLogEventsRequest req;
  req.log_group = "g";
  req.log_stream_name = "s";
  req.start_from_head = true;
  req.limit = 10;
  std::vector<std::string> got;
  std::vector<std::size_t> sizes;
  for (int guard = 0; guard < 10; ++guard) {
    auto r = logs_->get_log_events(req);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->next_forward_token.starts_with("f/"));
    ASSERT_TRUE(r->next_backward_token.starts_with("b/"));
    sizes.push_back(r->events.size());
    for (auto& e : r->events) got.push_back(e.message);
    if (req.next_token == r->next_forward_token) break;
    req.next_token = r->next_forward_token;
  }
  EXPECT_EQ(got, msgs);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 5, 0}));

  // Nothing new: the same token again, and events that arrive later are found from it.
  auto last = req.next_token;
  auto idle = logs_->get_log_events(req);
  ASSERT_TRUE(idle);
  EXPECT_TRUE(idle->events.empty());
  EXPECT_EQ(idle->next_forward_token, *last);
  put("g", "s", {"late"}, now());
  auto later = logs_->get_log_events(req);
  ASSERT_TRUE(later);
  ASSERT_EQ(later->events.size(), 1u);
  EXPECT_EQ(later->events[0].message, "late");
  EXPECT_EQ(later->events[0].ingestion_time, now());
}

TEST_F(LogsTest, GetLogEventsFromTheTailPagesBackward) {
  group("g");
  stream("g", "s");
  std::vector<std::string> msgs;
  for (int i = 0; i < 25; ++i) msgs.push_back("e" + std::to_string(i));
  put("g", "s", msgs, now() - 100);
  GetLogEventsRequest req;
  req.log_group = "g";
  req.log_stream_name = "s";
  req.limit = 10;
  auto tail = logs_->get_log_events(req);
  ASSERT_TRUE(tail);
  ASSERT_EQ(tail->events.size(), 10u);
  EXPECT_EQ(tail->events.front().message, "e15");  // the newest ten, oldest first
  EXPECT_EQ(tail->events.back().message, "e24");
  std::vector<std::string> got;
  for (auto& e : tail->events) got.push_back(e.message);
  req.next_token = tail->next_backward_token;
  for (int guard = 0; guard < 10; ++guard) {
    auto r = logs_->get_log_events(req);
    ASSERT_TRUE(r);
    std::vector<std::string> page;
    for (auto& e : r->events) page.push_back(e.message);
    got.insert(got.begin(), page.begin(), page.end());
    if (r->next_backward_token == req.next_token) break;
    req.next_token = r->next_backward_token;
  }
  EXPECT_EQ(got, msgs);
}

TEST_F(LogsTest, GetLogEventsHonoursTheTimeRangeAndRejectsBadInput) {
  group("g");
  stream("g", "s");
  std::int64_t t0 = now() - 1000;
  put("g", "s", {"a", "b", "c", "d", "e"}, t0);
  GetLogEventsRequest req;
  req.log_group = "g";
  req.log_stream_name = "s";
  req.start_from_head = true;
  req.start_time = t0 + 1;  // inclusive
  req.end_time = t0 + 3;    // exclusive
  auto r = logs_->get_log_events(req);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].message, "b");
  EXPECT_EQ(r->events[0].timestamp, t0 + 1);
  EXPECT_EQ(r->events[1].message, "c");

  req.next_token = "f/garbage";
  EXPECT_EQ(logs_->get_log_events(req).error().message, "The specified nextToken is invalid.");
  req.next_token.reset();
  req.limit = 10'001;
  EXPECT_EQ(logs_->get_log_events(req).error().message,
            "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
            "Member must have "
            "value less than or equal to 10000");
  req.limit.reset();
  req.log_stream_name = "missing";
  EXPECT_EQ(logs_->get_log_events(req).error().message, "The specified log stream does not exist.");
}

TEST_F(LogsTest, GetLogEventsStopsAtOneMegabytePerPage) {
  group("g");
  stream("g", "s");
  std::string chunk(200'000, 'x');
  for (int i = 0; i < 3; ++i) put("g", "s", {chunk, chunk}, now() - 10 + 2 * i);
  GetLogEventsRequest req;
  req.log_group = "g";
  req.log_stream_name = "s";
  req.start_from_head = true;
  auto r = logs_->get_log_events(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events.size(), 5u);  // 6 would be over 1,048,576 bytes
  EXPECT_EQ(all_messages("g", "s").size(), 6u);
}

// ---------------------------------------------------------------- FilterLogEvents

class LogsFilterTest : public LogsTest {
 protected:
  void SetUp() override {
    LogsTest::SetUp();
    group("g");
    t0_ = now() - 10'000;
    // Three streams whose events interleave in time.
    for (int i = 0; i < 30; ++i) {
      std::string s = "s" + std::to_string(i % 3);
      if (i < 3) stream("g", s);
      put("g", s, {"event " + std::to_string(i) + (i % 2 == 0 ? " ERROR" : " INFO")}, t0_ + i * 10);
    }
  }

  std::vector<FilteredLogEvent> filter_all(FilterLogEventsRequest req, int* pages = nullptr) {
    std::vector<FilteredLogEvent> out;
    int n = 0;
    for (; n < 100; ++n) {
      auto r = logs_->filter_log_events(req);
      EXPECT_TRUE(r) << r.error().message;
      if (!r) break;
      EXPECT_TRUE(r->searched_log_streams.empty());
      out.insert(out.end(), r->events.begin(), r->events.end());
      if (!r->next_token) break;
      req.next_token = r->next_token;
    }
    if (pages != nullptr) *pages = n + 1;
    return out;
  }

  std::int64_t t0_ = 0;
};

TEST_F(LogsFilterTest, InterleavesStreamsByTimestampAndPaginates) {
  FilterLogEventsRequest req;
  req.log_group = "g";
  req.limit = 7;
  int pages = 0;
  auto events = filter_all(req, &pages);
  ASSERT_EQ(events.size(), 30u);
  EXPECT_EQ(pages, 5);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].timestamp, t0_ + static_cast<std::int64_t>(i) * 10);
    EXPECT_EQ(events[i].log_stream_name, "s" + std::to_string(i % 3));
    EXPECT_TRUE(events[i].message.starts_with("event " + std::to_string(i) + " "));
    EXPECT_EQ(events[i].event_id.size(), 56u);
    ids.insert(events[i].event_id);
  }
  EXPECT_EQ(ids.size(), 30u);

  req.start_from_head = false;  // newest first
  auto desc = filter_all(req);
  ASSERT_EQ(desc.size(), 30u);
  EXPECT_EQ(desc.front().timestamp, t0_ + 290);
  EXPECT_EQ(desc.back().timestamp, t0_);
}

TEST_F(LogsFilterTest, SelectsStreamsAndTimeRangeInclusively) {
  FilterLogEventsRequest req;
  req.log_group = "g";
  req.log_stream_names = {"s1", "missing"};
  auto one = filter_all(req);
  ASSERT_EQ(one.size(), 10u);
  for (const auto& e : one) EXPECT_EQ(e.log_stream_name, "s1");

  req.log_stream_names.clear();
  req.log_stream_name_prefix = "s2";
  EXPECT_EQ(filter_all(req).size(), 10u);

  req.log_stream_name_prefix.reset();
  req.start_time = t0_ + 100;
  req.end_time = t0_ + 200;  // both ends inclusive
  auto range = filter_all(req);
  ASSERT_EQ(range.size(), 11u);
  EXPECT_EQ(range.front().timestamp, t0_ + 100);
  EXPECT_EQ(range.back().timestamp, t0_ + 200);

  FilterLogEventsRequest both;
  both.log_group = "g";
  both.log_stream_names = {"s1"};
  both.log_stream_name_prefix = "s";
  EXPECT_EQ(logs_->filter_log_events(both).error().code, ErrorCode::logs_invalid_parameter);
  FilterLogEventsRequest bad_token;
  bad_token.log_group = "g";
  bad_token.next_token = "e/a/1";
  EXPECT_EQ(logs_->filter_log_events(bad_token).error().message,
            "The specified nextToken is invalid.");
  FilterLogEventsRequest no_group;
  no_group.log_group = "nope";
  EXPECT_EQ(logs_->filter_log_events(no_group).error().code, ErrorCode::logs_resource_not_found);
}

TEST_F(LogsFilterTest, AppliesFilterPatternsAcrossPages) {
  FilterLogEventsRequest req;
  req.log_group = "g";
  req.filter_pattern = "ERROR";
  req.limit = 4;
  auto errors = filter_all(req);
  ASSERT_EQ(errors.size(), 15u);
  for (const auto& e : errors) EXPECT_TRUE(e.message.ends_with("ERROR"));
  req.filter_pattern = "?INFO ?\"event 0 \"";
  EXPECT_EQ(filter_all(req).size(), 16u);
  req.filter_pattern = "event -ERROR";
  EXPECT_EQ(filter_all(req).size(), 15u);
  req.filter_pattern = "\"unterminated";
  auto bad = logs_->filter_log_events(req);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::logs_invalid_parameter);
  EXPECT_EQ(bad.error().message, "Invalid filter pattern");
}

TEST(LogsFilterPattern, MatchesTermsPhrasesAlternativesAndExclusions) {
  auto p = [](std::string_view s) {
    auto r = FilterPattern::parse(s);
    EXPECT_TRUE(r) << s;
    return *r;
  };
  EXPECT_TRUE(p("").matches("anything"));
  EXPECT_TRUE(p("   ").matches_everything());
  EXPECT_TRUE(p("ERROR").matches("[ERROR] boom"));
  EXPECT_FALSE(p("ERROR").matches("error: lower case"));
  EXPECT_TRUE(p("ERROR Exception").matches("ERROR: NullPointerException"));
  EXPECT_FALSE(p("ERROR Exception").matches("ERROR only"));
  EXPECT_TRUE(p("\"Out of memory\"").matches("fatal: Out of memory!"));
  EXPECT_FALSE(p("\"Out of memory\"").matches("Out of the memory"));
  EXPECT_TRUE(p("\"say \\\"hi\\\"\"").matches("they say \"hi\""));
  EXPECT_TRUE(p("?ERROR ?WARN").matches("WARN disk"));
  EXPECT_FALSE(p("?ERROR ?WARN").matches("INFO ok"));
  EXPECT_TRUE(p("ERROR -Exiting").matches("ERROR boom"));
  EXPECT_FALSE(p("ERROR -Exiting").matches("ERROR Exiting now"));
  EXPECT_TRUE(p("orderId=o-1").matches("processed orderId=o-1 ok"));
}

TEST(LogsFilterPattern, MatchesJsonSelectors) {
  auto p = [](std::string_view s) {
    auto r = FilterPattern::parse(s);
    EXPECT_TRUE(r) << s << ": " << (r ? "" : r.error().message);
    return r ? *r : *FilterPattern::parse("");
  };
  std::string line =
      R"({"level":"error","n":5,"user":{"id":"u-17","admin":true},"tags":["a","b"],"gone":null})";
  EXPECT_TRUE(p(R"({ $.level = "error" })").matches(line));
  EXPECT_FALSE(p(R"({ $.level = "info" })").matches(line));
  EXPECT_TRUE(p(R"({ $.level = err* })").matches(line));
  EXPECT_TRUE(p("{ $.n > 3 }").matches(line));
  EXPECT_FALSE(p("{ $.n > 5 }").matches(line));
  EXPECT_TRUE(p("{ $.n >= 5 && $.n <= 5 }").matches(line));
  EXPECT_TRUE(p("{ $.n = 5 }").matches(line));
  EXPECT_TRUE(p("{ $.n != 4 }").matches(line));
  EXPECT_TRUE(p(R"({ $.user.id = "u-17" })").matches(line));
  EXPECT_TRUE(p("{ $.user.admin IS TRUE }").matches(line));
  EXPECT_TRUE(p("{ $.gone IS NULL }").matches(line));
  EXPECT_TRUE(p("{ $.missing NOT EXISTS }").matches(line));
  EXPECT_FALSE(p("{ $.n NOT EXISTS }").matches(line));
  EXPECT_TRUE(p(R"({ $.tags[1] = "b" })").matches(line));
  EXPECT_TRUE(p(R"({ $.tags[*] = "a" })").matches(line));
  EXPECT_TRUE(p(R"({ ($.level = "info" || $.n = 5) && $.user.admin IS TRUE })").matches(line));
  EXPECT_FALSE(p(R"({ $.level = "error" })").matches("level=error (not JSON)"));
}

TEST(LogsFilterPattern, RejectsUnparseablePatterns) {
  for (std::string_view bad :
       {"\"unterminated", "\"\"", "{ $.a = }", "{ $.a = 1", "{ a = 1 }", "{ $.a > \"x\" }",
        "{ ($.a = 1 }", "a(b", "?", "-", "[ip, user]", "%ERR.*%", "{ $. = 1 }"}) {
    auto r = FilterPattern::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::logs_invalid_parameter);
    EXPECT_EQ(r.error().message, "Invalid filter pattern") << bad;
  }
}

// ---------------------------------------------------------------- retention

TEST_F(LogsTest, RetentionHidesExpiredEventsAndTheSweepDeletesThem) {
  group("g");
  stream("g", "s");
  put("g", "s", {"old 1", "old 2"}, now() - 2000);
  ASSERT_TRUE(logs_->put_retention_policy("g", 1));
  DescribeLogGroupsRequest dreq;
  auto d = logs_->describe_log_groups(dreq);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->log_groups[0].retention_in_days, 1);
  EXPECT_EQ(d->log_groups[0].stored_bytes, 10);

  clock_.advance(Millis(kDay - 5000));
  put("g", "s", {"new"}, now());
  clock_.advance(Millis(4000));  // "old" events are now a day and a bit old
  EXPECT_EQ(all_messages("g", "s"), (std::vector<std::string>{"new"}));
  FilterLogEventsRequest f;
  f.log_group = "g";
  auto filtered = logs_->filter_log_events(f);
  ASSERT_TRUE(filtered);
  ASSERT_EQ(filtered->events.size(), 1u);

  ASSERT_TRUE(logs_->sweep_expired());
  auto st = logs_->stats();
  EXPECT_EQ(st.events, 1u);
  EXPECT_EQ(st.expired_events, 2u);
  EXPECT_EQ(logs_->describe_log_groups(dreq)->log_groups[0].stored_bytes, 3);
  reopen();
  EXPECT_EQ(logs_->stats().events, 1u);

  // Without a retention policy nothing expires.
  ASSERT_TRUE(logs_->delete_retention_policy("g"));
  clock_.advance(Millis(30 * kDay));
  ASSERT_TRUE(logs_->sweep_expired());
  EXPECT_EQ(all_messages("g", "s"), (std::vector<std::string>{"new"}));
  EXPECT_FALSE(logs_->describe_log_groups(dreq)->log_groups[0].retention_in_days);

  auto bad = logs_->put_retention_policy("g", 2);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::logs_invalid_parameter);
  EXPECT_TRUE(bad.error().message.find("Member must satisfy enum value set: [1, 3, 5, 7, 14") !=
              std::string::npos);
}

TEST_F(LogsTest, TheBackgroundSweepRunsOnTheClock) {
  logs_.reset();
  LogsOptions o;
  o.sweep_interval = Millis(60'000);
  reopen(o);
  group("g");
  stream("g", "s");
  put("g", "s", {"a", "b", "c"}, now());
  ASSERT_TRUE(logs_->put_retention_policy("g", 1));
  clock_.advance(Millis(2 * kDay));  // wakes the background thread, which sweeps
  // Poll (the sweep runs on the background thread); never sleep a fixed time. Each round moves
  // the clock past the next sweep time too, in case the thread had not yet gone to wait.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (logs_->stats().expired_events < 3 && std::chrono::steady_clock::now() < deadline) {
    clock_.advance(o.sweep_interval + Millis(1));
    std::this_thread::yield();
  }
  EXPECT_EQ(logs_->stats().expired_events, 3u);
  ASSERT_TRUE(logs_->flush());
  reopen();
  EXPECT_EQ(logs_->stats().events, 0u);
}

// ---------------------------------------------------------------- durability and memory

TEST_F(LogsTest, RestartKeepsGroupsStreamsEventsAndSinkLines) {
  CreateLogGroupRequest r;
  r.log_group_name = "api";
  r.tags = {{"k", "v"}};
  r.kms_key_id = "arn:aws:kms:us-east-1:000000000000:key/x";
  ASSERT_TRUE(logs_->create_log_group(r));
  ASSERT_TRUE(logs_->put_retention_policy("api", 14));
  stream("api", "s");
  put("api", "s", {"one", "two"}, now() - 10);
  for (int i = 0; i < 100; ++i)
    logs_->write("/aws/lambda/fn", "w", clock_.now(), "sink " + std::to_string(i));
  // No flush: destroying the service submits the buffered lines and waits for them.
  reopen();
  auto groups = logs_->describe_log_groups({});
  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->log_groups.size(), 2u);
  EXPECT_EQ(groups->log_groups[1].log_group_name, "api");
  EXPECT_EQ(groups->log_groups[1].retention_in_days, 14);
  EXPECT_EQ(groups->log_groups[1].kms_key_id, r.kms_key_id);
  EXPECT_EQ(*logs_->list_tags("api"), r.tags);
  EXPECT_EQ(all_messages("api", "s"), (std::vector<std::string>{"one", "two"}));
  auto sink = all_messages("/aws/lambda/fn", "w");
  ASSERT_EQ(sink.size(), 100u);
  EXPECT_EQ(sink[99], "sink 99");
  DescribeLogStreamsRequest sreq;
  sreq.log_group = "/aws/lambda/fn";
  auto streams = logs_->describe_log_streams(sreq);
  ASSERT_TRUE(streams);
  EXPECT_EQ(streams->log_streams[0].last_event_timestamp, now());

  // Writes after the restart sort after the earlier ones and survive another restart.
  logs_->write("/aws/lambda/fn", "w", clock_.now(), "after restart");
  put("api", "s", {"three"}, now());
  reopen();
  EXPECT_EQ(all_messages("api", "s"), (std::vector<std::string>{"one", "two", "three"}));
  sink = all_messages("/aws/lambda/fn", "w");
  ASSERT_EQ(sink.size(), 101u);
  EXPECT_EQ(sink.back(), "after restart");
}

TEST_F(LogsTest, MessagesBeyondTheCacheAreReadBackFromTheStore) {
  LogsOptions o;
  o.message_cache_bytes = 16 * 1024;
  reopen(o);
  constexpr int kLines = 3000;
  std::vector<std::string> want;
  for (int i = 0; i < kLines; ++i) {
    std::string m =
        "line " + std::to_string(i) + " " + std::string(100, static_cast<char>('a' + i % 26));
    want.push_back(m);
    logs_->write("/aws/lambda/fn", "w", clock_.now(), m);
  }
  ASSERT_TRUE(logs_->flush());
  auto st = logs_->stats();
  EXPECT_EQ(st.events, static_cast<std::uint64_t>(kLines));
  EXPECT_LE(st.cached_bytes, o.message_cache_bytes);
  EXPECT_LT(st.cached_messages, static_cast<std::uint64_t>(kLines / 10));
  EXPECT_EQ(all_messages("/aws/lambda/fn", "w"), want);
  EXPECT_GE(logs_->stats().store_reads, static_cast<std::uint64_t>(kLines * 9 / 10));

  FilterLogEventsRequest f;
  f.log_group = "/aws/lambda/fn";
  f.filter_pattern = "\"line 7 \"";
  auto r = logs_->filter_log_events(f);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].message, want[7]);

  // After a restart the index is rebuilt and the cache stays within its budget.
  reopen(o);
  EXPECT_LE(logs_->stats().cached_bytes, o.message_cache_bytes);
  EXPECT_EQ(all_messages("/aws/lambda/fn", "w").size(), static_cast<std::size_t>(kLines));
}

TEST_F(LogsTest, DeleteLogGroupDeletesItsStreamsAndEvents) {
  group("g");
  stream("g", "s1");
  put("g", "s1", {"a", "b"}, now());
  logs_->write("g", "s2", clock_.now(), "from the sink, still buffered");
  ASSERT_TRUE(logs_->delete_log_group("g"));
  EXPECT_EQ(logs_->stats().events, 0u);
  EXPECT_EQ(logs_->stats().cached_bytes, 0u);
  EXPECT_EQ(logs_->delete_log_group("g").error().message,
            "The specified log group does not exist.");
  reopen();
  EXPECT_EQ(logs_->stats().groups, 0u);
  // Nothing of it is left on disk.
  logs_.reset();
  int records = 0;
  for (Space sp : {Space::log_group, Space::log_stream, Space::log_event})
    ASSERT_TRUE(store_->scan(sp, [&](std::string_view, std::string_view) { ++records; }));
  EXPECT_EQ(records, 0);
  reopen();
  group("g");
  DescribeLogStreamsRequest sreq;
  sreq.log_group = "g";
  EXPECT_TRUE(logs_->describe_log_streams(sreq)->log_streams.empty());
}

TEST_F(LogsTest, DeleteLogStreamDeletesItsEvents) {
  group("g");
  stream("g", "a");
  stream("g", "b");
  put("g", "a", {"1"}, now());
  put("g", "b", {"2"}, now());
  ASSERT_TRUE(logs_->delete_log_stream("g", "a"));
  reopen();
  EXPECT_EQ(logs_->stats().events, 1u);
  EXPECT_EQ(all_messages("g", "b"), (std::vector<std::string>{"2"}));
}

}  // namespace
}  // namespace orderflow::engine
