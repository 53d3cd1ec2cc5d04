#include "cli/output.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace orderflow::cli {
namespace {

TEST(Table, AlignsColumnsUnderTheirHeadersWithoutTrailingSpaces) {
  Table t({"ID", "NAME", "N"});
  t.align_right(2);
  t.add_row({"a", "first", "7"});
  t.add_row({"bbbb", "x", "123"});
  EXPECT_EQ(t.render(),
            "ID    NAME     N\n"
            "a     first    7\n"
            "bbbb  x      123\n");
}

TEST(Table, MissingCellsAreEmptyAndExtraCellsDropped) {
  Table t({"A", "B"});
  t.add_row({"1"});
  t.add_row({"2", "3", "4"});
  EXPECT_EQ(t.render(), "A  B\n1\n2  3\n");
}

TEST(Table, CutsCellsToTheirMaximumWidthWithAnEllipsis) {
  Table t({"K", "V"});
  t.set_max_width(1, 5);
  t.add_row({"k", "abcdefgh"});
  EXPECT_EQ(t.render(), "K  V\nk  abcd\xE2\x80\xA6\n");
}

TEST(Table, MessageBodiesCannotBreakTheLayout) {
  Table t({"V", "W"});
  t.add_row({"line1\nline2\ttab\x1b[31m", "x"});
  EXPECT_EQ(t.render(), "V" + std::string(21, ' ') + "W\nline1 line2 tab [31m  x\n");
}

TEST(Table, CountsUtf8CodePointsAsOneColumn) {
  Table t({"NAME", "X"});
  t.add_row({"\xC3\xBCn\xC3\xAF", "1"});  // "ünï": 3 columns, 5 bytes
  EXPECT_EQ(t.render(), "NAME  X\n\xC3\xBCn\xC3\xAF   1\n");
}

TEST(Text, TruncationKeepsWholeCodePoints) {
  EXPECT_EQ(truncate_to_width("\xC3\xBC\xC3\xBC\xC3\xBC", 2), "\xC3\xBC\xE2\x80\xA6");
  EXPECT_EQ(truncate_to_width("abc", 3), "abc");
  EXPECT_EQ(truncate_to_width("abc", 0), "");
  EXPECT_EQ(display_width("\xE2\x80\xA6"), 1u);
}

TEST(Text, FormatsTimesAndCounts) {
  EXPECT_EQ(format_epoch_ms(1'714'566'600'250), "2024-05-01T12:30:00.250Z");
  EXPECT_EQ(format_epoch_ms(0), "-");
  EXPECT_EQ(plural(1, "order", "orders"), "1 order");
  EXPECT_EQ(plural(0, "order", "orders"), "0 orders");
  EXPECT_EQ(format_seconds(0.123), "0.12 s");
  EXPECT_EQ(format_seconds(42.25), "42.2 s");
  EXPECT_EQ(format_seconds(125), "2 min 05 s");
}

TEST(Progress, DrawsABarWhenTheTotalIsKnown) {
  EXPECT_EQ(progress_line(5, 10, 812.4, "orders", 10), "[#####-----]  50% 5/10 orders  812/s");
  EXPECT_EQ(progress_line(20, 10, 1, "orders", 4), "[####] 100% 20/10 orders  1/s");
}

TEST(Progress, ShowsACountWhenTheTotalIsUnknown) {
  EXPECT_EQ(progress_line(1000, std::nullopt, 99.6, "orders"), "1000 orders  100/s");
}

TEST(Json, PrettyPrintsNestedDocumentsWithTwoSpaces) {
  auto doc = boost::json::parse(R"({"a":[1,{"b":null}],"c":{},"d":[]})");
  EXPECT_EQ(
      pretty_json(doc),
      "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {},\n  \"d\": []\n}");
}

}  // namespace
}  // namespace orderflow::cli
