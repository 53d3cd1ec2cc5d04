// parse_template: YAML and JSON text to the long form, and the limits on hostile input.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "stack/template.h"

namespace orderflow::stack {
namespace {

namespace json = boost::json;

json::object parse_ok(std::string_view text) {
  auto r = parse_template(text);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : json::object();
}

std::string parse_error(std::string_view text) {
  auto r = parse_template(text);
  EXPECT_FALSE(r.has_value()) << "parsed: " << (r ? json::serialize(*r) : "");
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::validation_error);
  return r.error().message;
}

json::value value_of(std::string_view yaml) {
  return parse_ok(std::string("v: ") + std::string(yaml)).at("v");
}

TEST(ParseTemplate, ShortTagsBecomeTheLongForm) {
  EXPECT_EQ(value_of("!Ref Queue"), json::parse(R"({"Ref":"Queue"})"));
  EXPECT_EQ(value_of("!GetAtt Queue.Arn"), json::parse(R"({"Fn::GetAtt":["Queue","Arn"]})"));
  EXPECT_EQ(value_of("!GetAtt [Queue, Arn]"), json::parse(R"({"Fn::GetAtt":["Queue","Arn"]})"));
  EXPECT_EQ(value_of("!GetAtt Db.Endpoint.Address"),
            json::parse(R"({"Fn::GetAtt":["Db","Endpoint.Address"]})"));
  EXPECT_EQ(value_of("!Sub 'a-${AWS::Region}'"), json::parse(R"({"Fn::Sub":"a-${AWS::Region}"})"));
  EXPECT_EQ(value_of("!Sub [\"${x}\", {x: !Ref P}]"),
            json::parse(R"({"Fn::Sub":["${x}",{"x":{"Ref":"P"}}]})"));
  EXPECT_EQ(value_of("!Join [\",\", [a, !Ref B]]"),
            json::parse(R"({"Fn::Join":[",",["a",{"Ref":"B"}]]})"));
  EXPECT_EQ(value_of("!Select [0, !GetAZs '']"),
            json::parse(R"({"Fn::Select":["0",{"Fn::GetAZs":""}]})"));
  EXPECT_EQ(value_of("!GetAZs"), json::parse(R"({"Fn::GetAZs":""})"));
  EXPECT_EQ(value_of("!Split [',', 'a,b']"), json::parse(R"({"Fn::Split":[",","a,b"]})"));
  EXPECT_EQ(value_of("!If [C, a, !Ref AWS::NoValue]"),
            json::parse(R"({"Fn::If":["C","a",{"Ref":"AWS::NoValue"}]})"));
  EXPECT_EQ(value_of("!Equals [a, b]"), json::parse(R"({"Fn::Equals":["a","b"]})"));
  EXPECT_EQ(value_of("!Not [!Condition C]"), json::parse(R"({"Fn::Not":[{"Condition":"C"}]})"));
  EXPECT_EQ(value_of("!And [!Condition A, !Condition B]"),
            json::parse(R"({"Fn::And":[{"Condition":"A"},{"Condition":"B"}]})"));
  EXPECT_EQ(value_of("!Or [!Condition A, !Condition B]"),
            json::parse(R"({"Fn::Or":[{"Condition":"A"},{"Condition":"B"}]})"));
  EXPECT_EQ(value_of("!FindInMap [M, K, L]"), json::parse(R"({"Fn::FindInMap":["M","K","L"]})"));
  EXPECT_EQ(value_of("!Base64 text"), json::parse(R"({"Fn::Base64":"text"})"));
  EXPECT_EQ(value_of("!ImportValue Shared"), json::parse(R"({"Fn::ImportValue":"Shared"})"));
  EXPECT_EQ(value_of("!Cidr [a, 1, 2]"), json::parse(R"({"Fn::Cidr":["a","1","2"]})"));
}

TEST(ParseTemplate, BlockStyleTagsOnMappingsAndSequences) {
  auto t = parse_ok(R"(
R:
  Value: !Sub
    - "${A}-x"
    - A: !Ref P
  Cond: !Equals
    - !Ref P
    - prod
)");
  EXPECT_EQ(t.at("R").at("Value"), json::parse(R"({"Fn::Sub":["${A}-x",{"A":{"Ref":"P"}}]})"));
  EXPECT_EQ(t.at("R").at("Cond"), json::parse(R"({"Fn::Equals":[{"Ref":"P"},"prod"]})"));
}

TEST(ParseTemplate, ScalarsStayStringsAndNullsAreNull) {
  auto t = parse_ok("a: 10\nb: true\nc: \"10\"\nd: 060\ne:\nf: ~\ng: null\nh: !!str 5\ni: 1.50\n");
  EXPECT_EQ(t.at("a"), json::value("10"));
  EXPECT_EQ(t.at("b"), json::value("true"));
  EXPECT_EQ(t.at("c"), json::value("10"));
  EXPECT_EQ(t.at("d"), json::value("060"));
  EXPECT_TRUE(t.at("e").is_null());
  EXPECT_TRUE(t.at("f").is_null());
  EXPECT_TRUE(t.at("g").is_null());
  EXPECT_EQ(t.at("h"), json::value("5"));
  EXPECT_EQ(t.at("i"), json::value("1.50"));
}

TEST(ParseTemplate, AcceptsJsonTemplates) {
  auto t = parse_ok(R"({
	"Resources": {
		"Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30, "Fifo": false,
		      "Name": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "q"]]}, "Text": "\u00e9"}}
	}
})");
  const auto& p = t.at("Resources").at("Q").at("Properties");
  EXPECT_EQ(p.at("VisibilityTimeout"), json::value("30"));
  EXPECT_EQ(p.at("Fifo"), json::value("false"));
  EXPECT_EQ(p.at("Name"), json::parse(R"({"Fn::Join":["-",[{"Ref":"AWS::StackName"},"q"]]})"));
  EXPECT_EQ(p.at("Text"), json::value("\xc3\xa9"));
}

TEST(ParseTemplate, KeepsKeyOrder) {
  auto t = parse_ok("z: 1\na: 2\nm: 3\n");
  std::string keys;
  for (const auto& kv : t) keys += kv.key();
  EXPECT_EQ(keys, "zam");
}

TEST(ParseTemplate, MalformedYamlReportsTheLine) {
  auto m = parse_error("a: 1\nb: [1, 2\nc: 3\n");
  EXPECT_NE(m.find("YAML not well-formed"), std::string::npos) << m;
  EXPECT_NE(m.find("line "), std::string::npos) << m;
  m = parse_error("a:\n  b: 1\n c: 2\n");
  EXPECT_NE(m.find("line 3"), std::string::npos) << m;
}

TEST(ParseTemplate, RejectsDuplicateKeysWithTheirLine) {
  auto m = parse_error("a: 1\nb: 2\na: 3\n");
  EXPECT_NE(m.find("duplicate key 'a'"), std::string::npos) << m;
  EXPECT_NE(m.find("line 3"), std::string::npos) << m;
}

TEST(ParseTemplate, RejectsAliasesUnknownTagsAndNonStringKeys) {
  EXPECT_NE(parse_error("a: &x [1]\nb: *x\n").find("aliases are not supported"), std::string::npos);
  auto m = parse_error("a: 1\nb: !Frobnicate x\n");
  EXPECT_NE(m.find("unknown tag !Frobnicate"), std::string::npos) << m;
  EXPECT_NE(m.find("line 2"), std::string::npos) << m;
  EXPECT_NE(parse_error("a: !!binary aGk=\n").find("unsupported YAML tag"), std::string::npos);
  EXPECT_NE(parse_error("? [1, 2]\n: x\n").find("keys must be plain strings"), std::string::npos);
  EXPECT_NE(parse_error("a: !GetAtt NoDot\n").find("Resource.Attribute"), std::string::npos);
}

TEST(ParseTemplate, RejectsWhatIsNotOneMapping) {
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("# only a comment\n").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("- a\n- b\n").find("mapping of sections"), std::string::npos);
  EXPECT_NE(parse_error("just text").find("mapping of sections"), std::string::npos);
  EXPECT_NE(parse_error("a: 1\n---\nb: 2\n").find("one YAML document"), std::string::npos);
}

TEST(ParseTemplate, BoundsSizeNestingAndEncoding) {
  std::string big = "a: \"" + std::string(kMaxTemplateBytes, 'x') + "\"\n";
  EXPECT_NE(parse_error(big).find("bytes"), std::string::npos);

  std::string deep =
      "a: " + std::string(kMaxNestingDepth + 1, '[') + std::string(kMaxNestingDepth + 1, ']');
  EXPECT_NE(parse_error(deep).find("nesting deeper"), std::string::npos);
  std::string ok =
      "a: " + std::string(kMaxNestingDepth - 1, '[') + std::string(kMaxNestingDepth - 1, ']');
  parse_ok(ok);
  // Far deeper than yaml-cpp's own recursion limit: still a clean error.
  std::string abyss = "a: " + std::string(100000, '[');
  EXPECT_FALSE(parse_template(abyss).has_value());

  EXPECT_NE(parse_error("a: \"\xff\xfe\"\n").find("UTF-8"), std::string::npos);
}

TEST(ParseTemplate, SurvivesGarbage) {
  const char* inputs[] = {"{",
                          "}",
                          "[",
                          "a: {b: [c: d]",
                          "\"unterminated",
                          "a: 'x",
                          "\t- a",
                          ":",
                          "? ? ?",
                          "a: !Ref",
                          "!Ref",
                          "&a a: *a",
                          "%YAML 9.9\n---\na: 1",
                          "a: b: c",
                          "\x00\x01"};
  for (const char* in : inputs) {
    auto r = parse_template(in);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::validation_error) << in;
    }
  }
}

}  // namespace
}  // namespace orderflow::stack
