#include "aws/uri.h"

#include <gtest/gtest.h>

#include "aws/http_types.h"

namespace orderflow::aws {
namespace {

TEST(Uri, EncodeKeepsUnreservedCharacters) {
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  EXPECT_EQ(uri_encode(unreserved), unreserved);
}

TEST(Uri, EncodeWritesUppercaseHexAndPercent20ForSpace) {
  EXPECT_EQ(uri_encode("a b+c*d=e&f?g#h%i"), "a%20b%2Bc%2Ad%3De%26f%3Fg%23h%25i");
  EXPECT_EQ(uri_encode(std::string_view("\x00\xff", 2)), "%00%FF");
}

TEST(Uri, EncodeWritesUtf8ByteByByte) { EXPECT_EQ(uri_encode("\xE1\x88\xB4"), "%E1%88%B4"); }

TEST(Uri, EncodeKeepsSlashOnlyWhenAsked) {
  EXPECT_EQ(uri_encode("/a/b c"), "%2Fa%2Fb%20c");
  EXPECT_EQ(uri_encode("/a/b c", Slash::keep), "/a/b%20c");
}

TEST(Uri, DecodeAcceptsEitherHexCase) {
  EXPECT_EQ(uri_decode("%2f%2F%e1%88%B4").value(), "//\xE1\x88\xB4");
  EXPECT_EQ(uri_decode("").value(), "");
}

TEST(Uri, DecodeKeepsPlusLiteralByDefault) { EXPECT_EQ(uri_decode("a+b%2Bc").value(), "a+b+c"); }

TEST(Uri, DecodeReadsPlusAsSpaceForForms) {
  EXPECT_EQ(uri_decode("a+b%2Bc", Plus::space).value(), "a b+c");
}

TEST(Uri, DecodeRejectsMalformedEscapes) {
  for (const char* bad : {"%", "%4", "abc%G1", "%%41", "x%4g"}) {
    auto r = uri_decode(bad);
    EXPECT_FALSE(r.has_value()) << bad;
  }
  auto r = uri_decode("abc%G1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().offset, 3u);
  EXPECT_EQ(r.error().message, "malformed percent-escape '%G1'");
}

TEST(Uri, ReencodeNormalizesToCanonicalEncoding) {
  EXPECT_EQ(uri_reencode("%7e%2f%41b"), "~%2FAb");
  EXPECT_EQ(uri_reencode("a b\xE1"), "a%20b%E1");
  EXPECT_EQ(uri_reencode("a+b"), "a%2Bb");
  EXPECT_EQ(uri_reencode("a+b", Plus::space), "a%20b");
}

TEST(Uri, ReencodeEncodesAStrayPercent) {
  EXPECT_EQ(uri_reencode("100%"), "100%25");
  EXPECT_EQ(uri_reencode("%zz"), "%25zz");
}

TEST(Uri, ParseQueryKeepsOrderAndRepeatedNames) {
  auto p = parse_query("b=2&a=1&b=3").value();
  QueryParams expected = {{"b", "2"}, {"a", "1"}, {"b", "3"}};
  EXPECT_EQ(p, expected);
}

TEST(Uri, ParseQueryDecodesFormEncoding) {
  auto p = parse_query("Action=SendMessage&MessageBody=hello+world%21&Attr%2E1=x%3Dy").value();
  QueryParams expected = {
      {"Action", "SendMessage"}, {"MessageBody", "hello world!"}, {"Attr.1", "x=y"}};
  EXPECT_EQ(p, expected);
}

TEST(Uri, ParseQueryCanKeepPlusLiteral) {
  auto p = parse_query("a=1+2", Plus::literal).value();
  EXPECT_EQ(p[0].second, "1+2");
}

TEST(Uri, ParseQuerySkipsEmptySegments) {
  auto p = parse_query("&a=1&&b=2&").value();
  QueryParams expected = {{"a", "1"}, {"b", "2"}};
  EXPECT_EQ(p, expected);
  EXPECT_TRUE(parse_query("").value().empty());
}

TEST(Uri, ParseQueryGivesNameWithoutEqualsAnEmptyValue) {
  auto p = parse_query("flag&x=").value();
  QueryParams expected = {{"flag", ""}, {"x", ""}};
  EXPECT_EQ(p, expected);
}

TEST(Uri, ParseQuerySplitsAtTheFirstEquals) {
  auto p = parse_query("a=b=c").value();
  EXPECT_EQ(p[0].first, "a");
  EXPECT_EQ(p[0].second, "b=c");
}

TEST(Uri, ParseQueryReportsOffsetOfMalformedEscape) {
  auto r = parse_query("Action=Send&Body=ab%ZZ");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().offset, 19u);
  auto n = parse_query("ok=1&b%a=2");
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().offset, 6u);
}

TEST(Uri, FormatQueryRoundTripsThroughParseQuery) {
  QueryParams params = {{"Action", "Publish"}, {"Message", "a b+c/d=&\xE1\x88\xB4"}, {"e", ""}};
  std::string text = format_query(params);
  EXPECT_EQ(text, "Action=Publish&Message=a%20b%2Bc%2Fd%3D%26%E1%88%B4&e=");
  EXPECT_EQ(parse_query(text).value(), params);
}

TEST(HttpRequest, HeaderLookupIgnoresCase) {
  HttpRequest req;
  req.headers = {{"Content-Type", "a"}, {"X-Amz-Date", "d"}, {"content-type", "b"}};
  EXPECT_EQ(req.header("CONTENT-TYPE"), "a");
  EXPECT_EQ(req.header("x-amz-date"), "d");
  EXPECT_FALSE(req.header("Host").has_value());
  auto all = req.header_values("Content-type");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1], "b");
}

TEST(HttpRequest, SetHeaderReplacesEveryValue) {
  HttpRequest req;
  req.headers = {{"A", "1"}, {"B", "2"}, {"a", "3"}};
  req.set_header("A", "4");
  ASSERT_EQ(req.headers.size(), 2u);
  EXPECT_EQ(req.header("a"), "4");
  EXPECT_EQ(req.remove_header("b"), 1u);
  EXPECT_EQ(req.headers.size(), 1u);
}

TEST(HttpRequest, SplitsTargetIntoPathAndQuery) {
  HttpRequest req;
  req.target = "/queue/x?Action=A&b=c?d";
  EXPECT_EQ(req.path(), "/queue/x");
  EXPECT_EQ(req.query(), "Action=A&b=c?d");
  req.target = "/plain";
  EXPECT_EQ(req.path(), "/plain");
  EXPECT_EQ(req.query(), "");
  req.target = "/empty?";
  EXPECT_EQ(req.query(), "");
}

}  // namespace
}  // namespace orderflow::aws
