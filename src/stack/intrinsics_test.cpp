// Intrinsic functions, through the public contract: a template is deployed with the fake
// provider and the properties it receives are checked. Test::Thing resources have Ref = their
// Name (or a generated name) and attributes Arn, Name, List and Dotted.Attr.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "stack/template.h"
#include "stack/testing/fake_provider.h"

namespace orderflow::stack {
namespace {

namespace json = boost::json;
using testing::FakeProvider;
using testing::test_context;

constexpr std::string_view kHeader = R"(
Parameters:
  Env:
    Type: String
    Default: dev
  Count:
    Type: Number
    Default: 3
  Names:
    Type: CommaDelimitedList
    Default: "a, b,c"
Mappings:
  Sizes:
    dev:
      Memory: "128"
      Zones: [z1, z2]
    prod:
      Memory: "1024"
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
Resources:
  Base:
    Type: Test::Thing
    Properties:
      Name: base
)";

// The properties resource `id` was created with, deploying kHeader + `resources`.
Result<json::object> resolved(std::string_view resources, std::string_view id = "T",
                              const ParameterOverrides& overrides = {}) {
  FakeProvider provider;
  std::string text = std::string(kHeader) + std::string(resources);
  auto d = deploy(text, overrides, StackState{}, provider, test_context());
  if (!d.status) return std::unexpected(d.status.error());
  const auto* call = provider.last("create", id);
  if (call == nullptr)
    return fail(ErrorCode::internal_error, "no create call for " + std::string(id));
  return call->properties;
}

json::value prop(std::string_view yaml_value, const ParameterOverrides& overrides = {}) {
  auto r = resolved(
      "  T:\n    Type: Test::Thing\n    Properties:\n      V: " + std::string(yaml_value) + "\n",
      "T", overrides);
  EXPECT_TRUE(r.has_value()) << yaml_value << ": " << (r ? "" : r.error().message);
  if (!r) return nullptr;
  const json::value* v = r->if_contains("V");
  return v == nullptr ? json::value("<absent>") : *v;
}

std::string prop_error(std::string_view yaml_value) {
  auto r = resolved(
      "  T:\n    Type: Test::Thing\n    Properties:\n      V: " + std::string(yaml_value) + "\n");
  EXPECT_FALSE(r.has_value()) << yaml_value << " resolved to " << (r ? json::serialize(*r) : "");
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::validation_error) << r.error().message;
  return r.error().message;
}

#define EXPECT_CONTAINS(haystack, needle)                          \
  do {                                                             \
    std::string h_ = (haystack);                                   \
    EXPECT_NE(h_.find(needle), std::string::npos) << "in: " << h_; \
  } while (0)

TEST(Ref, ReturnsParametersPseudoParametersAndPhysicalIds) {
  EXPECT_EQ(prop("!Ref Env"), json::value("dev"));
  EXPECT_EQ(prop("!Ref Env", {{"Env", "prod"}}), json::value("prod"));
  EXPECT_EQ(prop("!Ref Count"), json::value("3"));  // a Number parameter is a string
  EXPECT_EQ(prop("!Ref Names"), json::parse(R"(["a","b","c"])"));
  EXPECT_EQ(prop("!Ref Base"), json::value("base"));
  EXPECT_EQ(prop("!Ref AWS::Region"), json::value("us-east-1"));
  EXPECT_EQ(prop("!Ref AWS::AccountId"), json::value("000000000000"));
  EXPECT_EQ(prop("!Ref AWS::StackName"), json::value("teststack"));
  EXPECT_EQ(prop("!Ref AWS::StackId"),
            json::value("arn:aws:cloudformation:us-east-1:000000000000:stack/teststack/fixed-id"));
  EXPECT_EQ(prop("!Ref AWS::Partition"), json::value("aws"));
  EXPECT_EQ(prop("!Ref AWS::URLSuffix"), json::value("amazonaws.com"));
  EXPECT_EQ(prop("!Ref AWS::NotificationARNs"), json::array());
  EXPECT_EQ(prop("{Ref: Env}"), json::value("dev"));
}

TEST(Ref, NoValueRemovesTheKeyOrTheListElement) {
  EXPECT_EQ(prop("!Ref AWS::NoValue"), json::value("<absent>"));
  EXPECT_EQ(prop("[a, !Ref AWS::NoValue, b]"), json::parse(R"(["a","b"])"));
  EXPECT_EQ(prop("{k: !Ref AWS::NoValue, j: 1}"), json::parse(R"({"j":"1"})"));
}

TEST(Ref, ErrorsNameTheReferringResource) {
  auto m = prop_error("!Ref Nope");
  EXPECT_CONTAINS(m, "Resource T");
  EXPECT_CONTAINS(m, "unknown parameter or resource 'Nope'");
  EXPECT_CONTAINS(prop_error("!Ref [Env]"), "Ref's target must be a string");
  EXPECT_CONTAINS(prop_error("{Ref: Env, Other: 1}"), "must be the only key");
}

TEST(GetAtt, BothFormsAndAnAttributeFromAParameter) {
  EXPECT_EQ(prop("!GetAtt Base.Arn"), json::value("arn:test:base"));
  EXPECT_EQ(prop("!GetAtt [Base, Name]"), json::value("base"));
  EXPECT_EQ(prop("!GetAtt Base.Dotted.Attr"), json::value("dotted-base"));
  EXPECT_EQ(prop("!GetAtt Base.List"), json::parse(R"(["x","y"])"));
  EXPECT_EQ(prop("{\"Fn::GetAtt\": [Base, !Select [0, [Arn]]]}"), json::value("arn:test:base"));
}

TEST(GetAtt, Errors) {
  EXPECT_CONTAINS(prop_error("!GetAtt Nope.Arn"), "Fn::GetAtt to unknown resource 'Nope'");
  EXPECT_CONTAINS(prop_error("!GetAtt Env.Arn"), "unknown resource 'Env'");
  auto m = prop_error("!GetAtt Base.Colour");
  EXPECT_CONTAINS(m, "has no attribute 'Colour'");
  EXPECT_CONTAINS(m, "Arn, Dotted.Attr, List, Name");
  EXPECT_CONTAINS(prop_error("{\"Fn::GetAtt\": [Base]}"), "Fn::GetAtt takes [Resource, Attribute]");
}

TEST(Sub, StringForm) {
  EXPECT_EQ(prop("!Sub \"${Env}-${AWS::Region}-${Base}-${Base.Arn}\""),
            json::value("dev-us-east-1-base-arn:test:base"));
  EXPECT_EQ(prop("!Sub \"${Base.Dotted.Attr}\""), json::value("dotted-base"));
  EXPECT_EQ(prop("!Sub \"no variables $ {x} $x\""), json::value("no variables $ {x} $x"));
  EXPECT_EQ(prop("!Sub \"${!Literal} and ${!AWS::Region}-${Env}\""),
            json::value("${Literal} and ${AWS::Region}-dev"));
  EXPECT_EQ(prop("!Sub \"\""), json::value(""));
  EXPECT_EQ(prop("!Sub \"${Count}\""), json::value("3"));
}

TEST(Sub, MapFormVariablesShadowEverythingElse) {
  EXPECT_EQ(
      prop("!Sub [\"${Env}/${Other}/${AWS::Region}\", {Env: overridden, Other: !GetAtt Base.Arn}]"),
      json::value("overridden/arn:test:base/us-east-1"));
  EXPECT_EQ(prop("!Sub [\"${Base.Arn}\", {Base.Arn: literal}]"), json::value("literal"));
  EXPECT_EQ(prop("!Sub [\"${X}\", {X: !Join [\"+\", [a, b]]}]"), json::value("a+b"));
}

TEST(Sub, Errors) {
  EXPECT_CONTAINS(prop_error("!Sub \"${Nope}\""), "unknown parameter or resource 'Nope'");
  EXPECT_CONTAINS(prop_error("!Sub \"${Nope.Arn}\""), "unknown resource 'Nope'");
  EXPECT_CONTAINS(prop_error("!Sub \"${Base.Colour}\""), "no attribute 'Colour'");
  EXPECT_CONTAINS(prop_error("!Sub \"abc ${Env\""), "unterminated ${");
  EXPECT_CONTAINS(prop_error("!Sub \"${}\""), "empty variable");
  EXPECT_CONTAINS(prop_error("!Sub \"${Names}\""), "is not a string");
  EXPECT_CONTAINS(prop_error("!Sub \"${AWS::NoValue}\""), "AWS::NoValue");
  EXPECT_CONTAINS(prop_error("!Sub [a, b, c]"),
                  "Fn::Sub takes a string or [string, {variable: value}]");
  EXPECT_CONTAINS(prop_error("!Sub [\"${X}\", {X: [1]}]"), "is not a string");
}

TEST(Join, JoinsLiteralAndComputedLists) {
  EXPECT_EQ(prop("!Join [\"-\", [a, !Ref Env, !GetAtt Base.Name]]"), json::value("a-dev-base"));
  EXPECT_EQ(prop("!Join [\",\", !Ref Names]"), json::value("a,b,c"));
  EXPECT_EQ(prop("!Join [\"\", [a, !Ref AWS::NoValue, b]]"), json::value("ab"));
  EXPECT_EQ(prop("!Join [\"-\", []]"), json::value(""));
  EXPECT_EQ(prop("!Join [\":\", !Split [\",\", \"x,y\"]]"), json::value("x:y"));
  EXPECT_CONTAINS(prop_error("!Join [\"-\", [a, [b]]]"), "must hold strings");
  EXPECT_CONTAINS(prop_error("!Join [\"-\", notalist]"), "Fn::Join's list must be a list");
  EXPECT_CONTAINS(prop_error("!Join [\"-\"]"), "Fn::Join takes a list of 2 arguments");
}

TEST(Select, PicksByIndexWithBoundsChecked) {
  EXPECT_EQ(prop("!Select [1, [a, b, c]]"), json::value("b"));
  EXPECT_EQ(prop("!Select [\"0\", !Ref Names]"), json::value("a"));
  EXPECT_EQ(prop("!Select [0, !GetAZs \"\"]"), json::value("us-east-1a"));
  EXPECT_EQ(prop("!Select [!Ref Count, [a, b, c, d]]"), json::value("d"));
  EXPECT_CONTAINS(prop_error("!Select [3, [a, b, c]]"), "index 3 is out of bounds for a list of 3");
  EXPECT_CONTAINS(prop_error("!Select [0, []]"), "out of bounds for a list of 0");
  EXPECT_CONTAINS(prop_error("!Select [-1, [a]]"), "non-negative integer");
  EXPECT_CONTAINS(prop_error("!Select [x, [a]]"), "non-negative integer");
  EXPECT_CONTAINS(prop_error("!Select [99999999999999999999999, [a]]"), "non-negative integer");
  EXPECT_CONTAINS(prop_error("!Select [0, a]"), "must be a list");
}

TEST(Split, SplitsOnEveryDelimiter) {
  EXPECT_EQ(prop("!Split [\",\", \"a,b,,c\"]"), json::parse(R"(["a","b","","c"])"));
  EXPECT_EQ(prop("!Split [\"::\", \"a::b\"]"), json::parse(R"(["a","b"])"));
  EXPECT_EQ(prop("!Split [\",\", \"\"]"), json::parse(R"([""])"));
  EXPECT_EQ(prop("!Split [\",\", \"abc,\"]"), json::parse(R"(["abc",""])"));
  EXPECT_EQ(prop("!Select [2, !Split [\":\", !GetAtt Base.Arn]]"), json::value("base"));
}

TEST(Split, Errors) {
  EXPECT_CONTAINS(prop_error("!Split [\"\", abc]"), "delimiter cannot be empty");
  EXPECT_CONTAINS(prop_error("!Split [\",\", [a]]"), "must be a string");
}

TEST(If, ChoosesTheBranchOfTheCondition) {
  EXPECT_EQ(prop("!If [IsProd, big, small]"), json::value("small"));
  EXPECT_EQ(prop("!If [IsProd, big, small]", {{"Env", "prod"}}), json::value("big"));
  EXPECT_EQ(prop("!If [IsDev, !Ref AWS::NoValue, x]"), json::value("<absent>"));
  EXPECT_EQ(prop("[!If [IsDev, !Ref AWS::NoValue, x], y]"), json::parse(R"(["y"])"));
  EXPECT_EQ(prop("!If [IsDev, {a: !Ref Env}, [1]]"), json::parse(R"({"a":"dev"})"));
  EXPECT_CONTAINS(prop_error("!If [Nope, a, b]"), "unknown condition 'Nope'");
  EXPECT_CONTAINS(prop_error("!If [IsDev, a]"), "takes a list of 3 arguments");
}

TEST(If, OnlyTheTakenBranchMustResolve) {
  // The untaken branch names a missing resource: not an error, as on AWS.
  auto r = resolved(R"(
  Prod:
    Type: Test::Thing
    Condition: IsProd
  T:
    Type: Test::Thing
    Properties:
      V: !If [IsProd, !GetAtt Prod.Arn, none]
)");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->at("V"), json::value("none"));
}

TEST(FindInMap, LooksUpTwoLevels) {
  EXPECT_EQ(prop("!FindInMap [Sizes, !Ref Env, Memory]"), json::value("128"));
  EXPECT_EQ(prop("!FindInMap [Sizes, !Ref Env, Memory]", {{"Env", "prod"}}), json::value("1024"));
  EXPECT_EQ(prop("!FindInMap [Sizes, dev, Zones]"), json::parse(R"(["z1","z2"])"));
  EXPECT_CONTAINS(prop_error("!FindInMap [Nope, dev, Memory]"), "unknown mapping 'Nope'");
  EXPECT_CONTAINS(prop_error("!FindInMap [Sizes, test, Memory]"), "has no key 'test'");
  EXPECT_CONTAINS(prop_error("!FindInMap [Sizes, prod, Zones]"), "has no key 'Zones' under 'prod'");
  EXPECT_CONTAINS(prop_error("!FindInMap [Sizes, dev]"), "takes a list of 3 arguments");
  EXPECT_CONTAINS(prop_error("!FindInMap [Sizes, dev, Memory, {DefaultValue: x}]"),
                  "takes a list of 3 arguments");
}

TEST(Base64, EncodesTheString) {
  EXPECT_EQ(prop("!Base64 hello"), json::value("aGVsbG8="));
  EXPECT_EQ(prop("{\"Fn::Base64\": !Sub \"#!/bin/sh\\necho ${Env}\"}"),
            json::value("IyEvYmluL3NoCmVjaG8gZGV2"));
  EXPECT_CONTAINS(prop_error("!Base64 [a]"), "must be a string");
}

TEST(GetAZs, ReturnsThreeZonesOfTheRegion) {
  EXPECT_EQ(prop("!GetAZs \"\""), json::parse(R"(["us-east-1a","us-east-1b","us-east-1c"])"));
  EXPECT_EQ(prop("!GetAZs {Ref: AWS::Region}"),
            json::parse(R"(["us-east-1a","us-east-1b","us-east-1c"])"));
  EXPECT_EQ(prop("!GetAZs eu-west-1"), json::parse(R"(["eu-west-1a","eu-west-1b","eu-west-1c"])"));
}

TEST(Intrinsics, UnsupportedOnesAreValidationErrors) {
  EXPECT_CONTAINS(prop_error("!ImportValue SharedVpc"), "Fn::ImportValue is not supported");
  EXPECT_CONTAINS(prop_error("!Cidr [10.0.0.0/16, 4, 8]"), "Fn::Cidr is not supported");
  EXPECT_CONTAINS(prop_error("{\"Fn::Transform\": {Name: x}}"), "Fn::Transform is not supported");
  EXPECT_CONTAINS(prop_error("{\"Fn::Length\": [a]}"), "Fn::Length is not supported");
  EXPECT_CONTAINS(prop_error("{\"Fn::Frobnicate\": x}"),
                  "unknown intrinsic function Fn::Frobnicate");
  EXPECT_CONTAINS(prop_error("!Equals [a, a]"), "Fn::Equals can only be used in Conditions");
  EXPECT_CONTAINS(prop_error("!Contains [[a], a]"), "Fn::Contains can only be used in Rules");
}

TEST(Intrinsics, UnsupportedOnesFailBeforeAnythingIsCreated) {
  FakeProvider provider;
  std::string text = std::string(kHeader) +
                     "  T:\n    Type: Test::Thing\n    Properties:\n      V: !ImportValue X\n";
  auto d = deploy(text, {}, StackState{}, provider, test_context());
  ASSERT_FALSE(d.status.has_value());
  EXPECT_TRUE(provider.calls.empty());
  EXPECT_TRUE(d.state.resources.empty());
}

TEST(Intrinsics, NestedFunctionsCompose) {
  EXPECT_EQ(prop("!Join [\"\", [!Select [0, !Split [\"-\", !Sub \"${Env}-x\"]], !FindInMap [Sizes, "
                 "!Ref Env, Memory]]]"),
            json::value("dev128"));
  EXPECT_EQ(prop("!Select [1, !Split [\":\", !Join [\":\", [!If [IsProd, p, d], !Base64 z]]]]"),
            json::value("eg=="));
}

TEST(Intrinsics, DeeplyNestedExpressionsEvaluate) {
  std::string v = "x";
  for (int i = 0; i < 30; ++i) v = "{\"Fn::Select\": [0, [" + v + "]]}";  // 90 levels of YAML
  EXPECT_EQ(prop(v), json::value("x"));
}

TEST(Intrinsics, OutputBudgetStopsExplosions) {
  std::string bomb = "!Join [\",\", !Split [\"z\", " + std::string(200000, 'z') + "]]";
  auto r = resolved("  T:\n    Type: Test::Thing\n    Properties:\n      V: " + bomb +
                    "\n      W: " + bomb + "\n");
  // 200001 empty strings joined by 200000 commas, twice: large, but within the budget.
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::string many;
  for (int i = 0; i < 40; ++i)
    many += "      V" + std::to_string(i) +
            ": !Join [\"\", [!Ref Big, !Ref Big, !Ref Big, !Ref Big]]\n";
  std::string text = std::string(
                         "Parameters:\n  Big:\n    Type: String\nResources:\n  T:\n    Type: "
                         "Test::Thing\n    Properties:\n") +
                     many;
  // 31 resources x 40 properties x 16 KiB: more than the budget.
  for (int i = 0; i < 30; ++i) {
    text += "  T" + std::to_string(i) + ":\n    Type: Test::Thing\n    Properties:\n" + many;
  }
  FakeProvider provider;
  auto d = deploy(text, {{"Big", std::string(4096, 'b')}}, StackState{}, provider, test_context());
  ASSERT_FALSE(d.status.has_value());
  EXPECT_CONTAINS(d.status.error().message, "bytes of strings");
}

}  // namespace
}  // namespace orderflow::stack
