#include "cli/logs.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace orderflow::cli {
namespace {

using std::chrono::seconds;

TEST(Since, ReadsDurationsWithUnits) {
  EXPECT_EQ(parse_duration("90s"), seconds(90));
  EXPECT_EQ(parse_duration("10m"), seconds(600));
  EXPECT_EQ(parse_duration("1h"), seconds(3600));
  EXPECT_EQ(parse_duration("2d"), seconds(172800));
  EXPECT_EQ(parse_duration("1w"), seconds(604800));
  EXPECT_EQ(parse_duration("1h30m"), seconds(5400));
  EXPECT_EQ(parse_duration("45"), seconds(45));
  EXPECT_EQ(parse_duration("0m"), seconds(0));
}

TEST(Since, RefusesWhatIsNotADuration) {
  for (const char* bad :
       {"", "h", "-1h", "1x", "1.5h", "1h30", "1 h", "99999999999999999999s", "5000w"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(FilterLogEvents, ReadsTheEventsOfAnAnswer) {
  auto answer =
      boost::json::parse(
          R"({"events":[{"logStreamName":"s1","timestamp":1714566600250,"message":"hello\n","ingestionTime":1714566600300,"eventId":"e1"},)"
          R"({"timestamp":"oops"},7],"searchedLogStreams":[],"nextToken":"t"})")
          .as_object();
  auto events = events_of(answer);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].stream, "s1");
  EXPECT_EQ(events[0].timestamp, 1714566600250);
  EXPECT_EQ(events[0].ingestion_time, 1714566600300);
  EXPECT_EQ(events[0].event_id, "e1");
  EXPECT_EQ(format_event(events[0]), "2024-05-01T12:30:00.250Z s1 hello");
  EXPECT_EQ(events[1].timestamp, 0);
  EXPECT_TRUE(events_of(boost::json::parse("{}").as_object()).empty());
}

TEST(Follow, ShowsEachEventOnceAcrossOverlappingPolls) {
  EventDeduper d;
  EXPECT_TRUE(d.first_time({1000, 0, "s", "a", "e1"}));
  EXPECT_TRUE(d.first_time({1000, 0, "s", "b", "e2"}));
  EXPECT_EQ(d.newest(), 1000);
  // The next poll starts at 1000 again and returns both plus a new one.
  EXPECT_FALSE(d.first_time({1000, 0, "s", "a", "e1"}));
  EXPECT_FALSE(d.first_time({1000, 0, "s", "b", "e2"}));
  EXPECT_TRUE(d.first_time({1000, 0, "s", "c", "e3"}));
  EXPECT_TRUE(d.first_time({2000, 0, "s", "d", "e4"}));
  EXPECT_EQ(d.newest(), 2000);
}

TEST(Follow, EventsWithoutIdsAreKeyedByContent) {
  EventDeduper d;
  EXPECT_TRUE(d.first_time({5, 0, "s", "a", ""}));
  EXPECT_FALSE(d.first_time({5, 0, "s", "a", ""}));
  EXPECT_TRUE(d.first_time({5, 0, "s2", "a", ""}));
}

TEST(Follow, ForgetsEventsOlderThanTheHorizon) {
  EventDeduper d(std::chrono::milliseconds(100));
  for (int i = 0; i < 1000; ++i) d.first_time({i * 10, 0, "s", "m", "e" + std::to_string(i)});
  EXPECT_LE(d.remembered(), 11u);
  EXPECT_FALSE(d.first_time({9990, 0, "s", "m", "e999"}));
}

}  // namespace
}  // namespace orderflow::cli
