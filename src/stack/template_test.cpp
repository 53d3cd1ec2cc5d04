// Template validation: parameters, conditions, rules, resources, dependency order, cycles and
// references; the generated names and property helpers; and the two real templates.
#include "stack/template.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "stack/testing/fake_provider.h"

namespace orderflow::stack {
namespace {

namespace json = boost::json;
using testing::FakeProvider;
using testing::read_source_file;
using testing::test_context;

#define EXPECT_CONTAINS(haystack, needle)                          \
  do {                                                             \
    std::string h_ = (haystack);                                   \
    EXPECT_NE(h_.find(needle), std::string::npos) << "in: " << h_; \
  } while (0)

Result<std::vector<std::string>> order_of(std::string_view text,
                                          const ParameterOverrides& overrides = {}) {
  return validate_template(text, overrides, test_context());
}

std::string error_of(std::string_view text, const ParameterOverrides& overrides = {}) {
  auto r = order_of(text, overrides);
  EXPECT_FALSE(r.has_value()) << text;
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::validation_error);
  return r.error().message;
}

// A template with one parameter declared as `decl` and one resource using it.
std::string with_parameter(std::string_view decl) {
  return "Parameters:\n  P:\n" + std::string(decl) +
         "Resources:\n  T:\n    Type: Test::Thing\n    Properties:\n      V: !Ref P\n";
}

std::string param_error(std::string_view decl, std::optional<std::string> value) {
  ParameterOverrides o;
  if (value) o["P"] = *value;
  return error_of(with_parameter(decl), o);
}

bool param_ok(std::string_view decl, std::optional<std::string> value) {
  ParameterOverrides o;
  if (value) o["P"] = *value;
  auto r = order_of(with_parameter(decl), o);
  EXPECT_TRUE(r.has_value()) << decl << " = " << value.value_or("<default>") << ": "
                             << (r ? "" : r.error().message);
  return r.has_value();
}

// ---- Parameters ------------------------------------------------------------------------------

TEST(Parameters, ValueComesFromOverrideElseDefault) {
  EXPECT_TRUE(param_ok("    Type: String\n    Default: d\n", std::nullopt));
  EXPECT_TRUE(param_ok("    Type: String\n", "given"));
  EXPECT_TRUE(param_ok("    Type: String\n    Default: d\n", ""));  // empty is a value
}

TEST(Parameters, MissingValueNamesTheParameter) {
  auto m = param_error("    Type: String\n", std::nullopt);
  EXPECT_CONTAINS(m, "Parameter P");
  EXPECT_CONTAINS(m, "must have a value");
}

TEST(Parameters, UnknownOverrideIsAnError) {
  auto m = error_of(with_parameter("    Type: String\n    Default: d\n"), {{"Typo", "x"}});
  EXPECT_CONTAINS(m, "Parameter Typo is given a value but the template does not declare it");
}

TEST(Parameters, AllowedValues) {
  std::string decl = "    Type: String\n    AllowedValues: [dev, prod]\n";
  EXPECT_TRUE(param_ok(decl, "prod"));
  auto m = param_error(decl, "test");
  EXPECT_CONTAINS(m, "Parameter P");
  EXPECT_CONTAINS(m, "must be one of the AllowedValues [dev, prod]");
  EXPECT_CONTAINS(param_error("    Type: String\n    AllowedValues: []\n", "x"), "non-empty list");
}

TEST(Parameters, AllowedPatternMatchesTheWholeValue) {
  std::string decl = "    Type: String\n    AllowedPattern: \"[a-z]+\"\n";
  EXPECT_TRUE(param_ok(decl, "abc"));
  EXPECT_CONTAINS(param_error(decl, "abc1"), "must match the AllowedPattern [a-z]+");
  EXPECT_CONTAINS(param_error(decl + "    ConstraintDescription: lowercase letters only\n", "ABC"),
                  "'ABC' lowercase letters only");
  EXPECT_CONTAINS(param_error("    Type: String\n    AllowedPattern: \"([a-z\"\n", "a"),
                  "not a valid regular expression");
}

TEST(Parameters, PathologicalPatternsFailInsteadOfHanging) {
  std::string decl = "    Type: String\n    AllowedPattern: \"(a+)+b\"\n";
  auto r = order_of(with_parameter(decl), {{"P", std::string(4000, 'a') + "c"}});
  EXPECT_FALSE(r.has_value());
}

TEST(Parameters, LengthsCountCharacters) {
  std::string decl = "    Type: String\n    MinLength: 2\n    MaxLength: 3\n";
  EXPECT_TRUE(param_ok(decl, "ab"));
  EXPECT_TRUE(param_ok(decl, "\xc3\xa9\xc3\xa9\xc3\xa9"));  // 3 characters, 6 bytes
  EXPECT_CONTAINS(param_error(decl, "a"), "at least 2 characters");
  EXPECT_CONTAINS(param_error(decl, "abcd"), "at most 3 characters");
  EXPECT_CONTAINS(param_error("    Type: String\n    MinLength: two\n", "x"),
                  "MinLength must be a number");
}

TEST(Parameters, NumbersAreCheckedAndBounded) {
  std::string decl = "    Type: Number\n    MinValue: 1\n    MaxValue: 900\n";
  EXPECT_TRUE(param_ok(decl, "30"));
  EXPECT_TRUE(param_ok(decl, "1.5"));
  EXPECT_TRUE(param_ok(decl, "9e2"));
  EXPECT_CONTAINS(param_error(decl, "0"), "must be at least 1");
  EXPECT_CONTAINS(param_error(decl, "901"), "must be at most 900");
  for (const char* bad : {"abc", "", " 5", "0x10", "inf", "nan", "5s"}) {
    EXPECT_CONTAINS(param_error(decl, bad), "must be a number");
  }
}

TEST(Parameters, ListsAreSplitTrimmedAndCheckedPerMember) {
  FakeProvider provider;
  auto d = deploy(with_parameter("    Type: CommaDelimitedList\n    AllowedValues: [a, b, c]\n"),
                  {{"P", "a, b ,c"}}, StackState{}, provider, test_context());
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message;
  EXPECT_EQ(provider.last("create", "T")->properties.at("V"), json::parse(R"(["a","b","c"])"));
  EXPECT_EQ(d.state.parameters.at("P"), "a, b ,c");
  EXPECT_CONTAINS(param_error("    Type: CommaDelimitedList\n    AllowedValues: [a, b]\n", "a,z"),
                  "AllowedValues");
  EXPECT_TRUE(param_ok("    Type: List<Number>\n    MaxValue: 10\n", "1,2, 3"));
  EXPECT_CONTAINS(param_error("    Type: List<Number>\n", "1,x"), "must be a number");
  EXPECT_CONTAINS(param_error("    Type: List<Number>\n    MaxValue: 10\n", "1,20"), "at most 10");
}

TEST(Parameters, UnsupportedAndUnknownTypes) {
  EXPECT_CONTAINS(param_error("    Type: AWS::EC2::KeyPair::KeyName\n", "k"), "not supported");
  EXPECT_CONTAINS(param_error("    Type: AWS::SSM::Parameter::Value<String>\n", "k"),
                  "not supported");
  EXPECT_CONTAINS(param_error("    Type: List<AWS::EC2::Subnet::Id>\n", "k"), "not supported");
  EXPECT_CONTAINS(param_error("    Type: Integer\n", "1"), "unknown Type 'Integer'");
  EXPECT_CONTAINS(param_error("    Default: x\n", std::nullopt), "Type is required");
  EXPECT_CONTAINS(param_error("    Type: String\n    Colour: red\n", "x"),
                  "unknown parameter attribute 'Colour'");
}

TEST(Parameters, ValuesAreBounded) {
  EXPECT_CONTAINS(param_error("    Type: String\n", std::string(kMaxParameterValueBytes + 1, 'x')),
                  "longer than");
  EXPECT_CONTAINS(param_error("    Type: String\n", "\xff"), "UTF-8");
}

TEST(Parameters, NoEchoValuesAreMaskedInTheState) {
  FakeProvider provider;
  auto d = deploy(with_parameter("    Type: String\n    NoEcho: true\n"), {{"P", "secret"}},
                  StackState{}, provider, test_context());
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message;
  EXPECT_EQ(d.state.parameters.at("P"), "****");
  EXPECT_EQ(provider.last("create", "T")->properties.at("V"), json::value("secret"));
}

// ---- Conditions and Rules --------------------------------------------------------------------

constexpr std::string_view kConditions = R"(
Parameters:
  Env: {Type: String, Default: dev}
  Region2: {Type: String, Default: ""}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Equals [dev, !Ref Env]
  HasRegion2: !Not [!Equals [!Ref Region2, ""]]
  ProdWithRegion2: !And [!Condition IsProd, !Condition HasRegion2]
  Either: !Or [!Condition IsProd, !Condition HasRegion2, !Equals [a, b]]
  InUsEast1: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  Always:
    Type: Test::Thing
  ProdOnly:
    Type: Test::Thing
    Condition: IsProd
  DevOnly:
    Type: Test::Thing
    Condition: IsDev
  Pair:
    Type: Test::Thing
    Condition: ProdWithRegion2
  Any:
    Type: Test::Thing
    Condition: Either
  East:
    Type: Test::Thing
    Condition: InUsEast1
Outputs:
  ProdName:
    Condition: IsProd
    Value: !Ref ProdOnly
  Always:
    Value: !Ref Always
)";

TEST(Conditions, DecideWhichResourcesExist) {
  using V = std::vector<std::string>;
  EXPECT_EQ(order_of(kConditions).value(), (V{"Always", "DevOnly", "East"}));
  EXPECT_EQ(order_of(kConditions, {{"Env", "prod"}}).value(),
            (V{"Always", "ProdOnly", "Any", "East"}));
  EXPECT_EQ(order_of(kConditions, {{"Env", "prod"}, {"Region2", "eu-west-1"}}).value(),
            (V{"Always", "ProdOnly", "Pair", "Any", "East"}));
  EXPECT_EQ(order_of(kConditions, {{"Region2", "eu-west-1"}}).value(),
            (V{"Always", "DevOnly", "Any", "East"}));
}

TEST(Conditions, DecideWhichOutputsExist) {
  FakeProvider provider;
  auto d = deploy(kConditions, {}, StackState{}, provider, test_context());
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message;
  ASSERT_EQ(d.state.outputs.size(), 1u);
  EXPECT_EQ(d.state.outputs[0].key, "Always");
  auto p = deploy(kConditions, {{"Env", "prod"}}, StackState{}, provider, test_context());
  ASSERT_TRUE(p.status.has_value()) << p.status.error().message;
  ASSERT_EQ(p.state.outputs.size(), 2u);
  EXPECT_EQ(p.state.outputs[0].key, "ProdName");
}

TEST(Conditions, Errors) {
  auto base = [](std::string_view conditions) {
    return "Parameters:\n  Env: {Type: String, Default: dev}\nConditions:\n" +
           std::string(conditions) + "Resources:\n  T:\n    Type: Test::Thing\n";
  };
  auto m = error_of(base(
      "  A: !Condition B\n  B: !And [!Condition C, !Equals [a, a]]\n  C: !Not [!Condition A]\n"));
  EXPECT_CONTAINS(m, "Circular dependency between conditions: [A, B, C]");
  EXPECT_CONTAINS(error_of(base("  A: !Condition Nope\n")),
                  "Condition A: unknown condition 'Nope'");
  EXPECT_CONTAINS(error_of(base("  A: !Equals [!Ref T, x]\n")),
                  "only parameters can be referenced here");
  EXPECT_CONTAINS(error_of(base("  A: !And [!Equals [a, a]]\n")),
                  "Fn::And takes a list of 2 to 10 arguments");
  EXPECT_CONTAINS(error_of(base("  A: !Not [yes]\n")), "expected a condition");
  EXPECT_CONTAINS(error_of(base("  A: !Equals [a]\n")), "Fn::Equals takes a list of 2 arguments");
  EXPECT_CONTAINS(error_of(base("  A: !If [B, x, y]\n  B: !Equals [a, a]\n")),
                  "Fn::If can only be used in Resources");
  EXPECT_CONTAINS(error_of(base("  A: !Equals [!Ref AWS::NoValue, x]\n")),
                  "AWS::NoValue can only be used");
  EXPECT_CONTAINS(error_of(base("  A: dev\n")), "expected a condition");
  EXPECT_CONTAINS(error_of(base("  Bad-Name: !Equals [a, a]\n")), "alphanumeric");
  std::string chain;
  for (int i = 0; i < 300; ++i)
    chain += "  C" + std::to_string(i) + ": !Condition C" + std::to_string(i + 1) + "\n";
  chain += "  C300: !Equals [a, a]\n";
  EXPECT_CONTAINS(error_of(base(chain)), "deep");
}

TEST(Conditions, CanUseMappingsAndPseudoParameters) {
  auto r = order_of(R"(
Mappings:
  M: {us-east-1: {Big: "yes"}}
Conditions:
  Big: !Equals [!FindInMap [M, !Ref "AWS::Region", Big], "yes"]
Resources:
  T: {Type: Test::Thing, Condition: Big}
)");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->size(), 1u);
}

TEST(Rules, AssertionsGuardParameterCombinations) {
  constexpr std::string_view t = R"(
Parameters:
  Size: {Type: Number, Default: 10}
  Window: {Type: Number, Default: 0}
  Envs: {Type: CommaDelimitedList, Default: "dev,test"}
Rules:
  BigNeedsWindow:
    RuleCondition: !Not [!Contains [["1", "5", "10"], !Ref Size]]
    Assertions:
      - Assert: !Not [!Equals [!Ref Window, "0"]]
        AssertDescription: Window must be set when Size is above 10
  KnownEnvs:
    Assertions:
      - Assert: !EachMemberIn [!Ref Envs, [dev, test, prod]]
      - Assert: !Not [!EachMemberEquals [!Ref Envs, prod]]
        AssertDescription: not only prod
Resources:
  T: {Type: Test::Thing}
)";
  EXPECT_TRUE(order_of(t).has_value());
  EXPECT_TRUE(order_of(t, {{"Size", "100"}, {"Window", "1"}}).has_value());
  EXPECT_CONTAINS(error_of(t, {{"Size", "100"}}),
                  "Rule BigNeedsWindow: Window must be set when Size is above 10");
  EXPECT_CONTAINS(error_of(t, {{"Envs", "dev,qa"}}), "Rule KnownEnvs: assertion failed");
  EXPECT_CONTAINS(error_of(t, {{"Envs", "prod,prod"}}), "Rule KnownEnvs: not only prod");
  EXPECT_CONTAINS(error_of("Rules:\n  R:\n    Assertions:\n      - Assert: !Condition "
                           "X\nResources:\n  T: {Type: Test::Thing}\n"),
                  "Rule R");
  EXPECT_CONTAINS(error_of("Rules:\n  R:\n    Assertions:\n      - Assert: {\"Fn::ValueOf\": [P, "
                           "A]}\nResources:\n  T: {Type: Test::Thing}\n"),
                  "Fn::ValueOf is not supported");
}

// ---- Resources, order and references -----------------------------------------------------------

TEST(Order, FollowsReferencesAndDependsOnWithTiesInTemplateOrder) {
  auto r = order_of(R"(
Resources:
  D: {Type: Test::Thing, Properties: {V: !Sub "${C.Arn}"}}
  C: {Type: Test::Thing, Properties: {V: !GetAtt B.Arn}}
  B: {Type: Test::Thing, Properties: {V: [!Ref A]}}
  A: {Type: Test::Thing}
  Z: {Type: Test::Thing, DependsOn: [Y, A]}
  Y: {Type: Test::Thing, DependsOn: D}
  Free: {Type: Test::Thing}
)");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"A", "B", "C", "D", "Y", "Z", "Free"}));
}

TEST(Order, CyclesAreNamed) {
  auto m = error_of(R"(
Resources:
  Free: {Type: Test::Thing}
  A: {Type: Test::Thing, Properties: {V: !Ref B}}
  B: {Type: Test::Thing, Properties: {V: !Sub "${C.Arn}"}}
  C: {Type: Test::Thing, DependsOn: A}
  Tail: {Type: Test::Thing, Properties: {V: !Ref A}}
)");
  EXPECT_CONTAINS(m, "Circular dependency between resources: [");
  for (const char* id : {"A", "B", "C"}) EXPECT_CONTAINS(m, id);
  EXPECT_EQ(m.find("Free"), std::string::npos) << m;
  EXPECT_EQ(m.find("Tail"), std::string::npos) << m;
  EXPECT_CONTAINS(error_of("Resources:\n  S: {Type: Test::Thing, DependsOn: S}\n"),
                  "Circular dependency between resources: [S]");
}

TEST(Order, ReferencesInsideFalseIfBranchesDoNotCount) {
  auto r = order_of(R"(
Conditions:
  Never: !Equals [a, b]
Resources:
  A: {Type: Test::Thing, Properties: {V: !If [Never, !Ref B, x]}}
  B: {Type: Test::Thing, Properties: {V: !Ref A}}
)");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"A", "B"}));
}

TEST(References, UnknownTargetsNameTheReferrer) {
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing, Properties: {V: !Ref Ghost}}\n"),
                  "Resource A: Ref to unknown parameter or resource 'Ghost'");
  EXPECT_CONTAINS(
      error_of("Resources:\n  A: {Type: Test::Thing, Properties: {V: !GetAtt Ghost.Arn}}\n"),
      "Resource A: Fn::GetAtt to unknown resource 'Ghost'");
  EXPECT_CONTAINS(
      error_of("Resources:\n  A: {Type: Test::Thing, Properties: {V: !Sub \"x${Ghost}\"}}\n"),
      "Resource A: Fn::Sub to unknown parameter or resource 'Ghost'");
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing, DependsOn: [Ghost]}\n"),
                  "Resource A: DependsOn unknown resource 'Ghost'");
  EXPECT_CONTAINS(
      error_of("Resources:\n  A: {Type: Test::Thing}\nOutputs:\n  O: {Value: !Ref Ghost}\n"),
      "Output O: Ref to unknown parameter or resource 'Ghost'");
}

TEST(References, ToResourcesThatAreNotCreatedAreErrors) {
  std::string t = R"(
Conditions:
  Never: !Equals [a, b]
Resources:
  Off: {Type: Test::Thing, Condition: Never}
  On: {Type: Test::Thing, Properties: {V: !GetAtt Off.Arn}}
)";
  EXPECT_CONTAINS(error_of(t),
                  "Resource On: Fn::GetAtt to resource 'Off', which is not created (its condition "
                  "'Never' is false)");
  EXPECT_CONTAINS(error_of("Conditions:\n  Never: !Equals [a, b]\nResources:\n  Off: {Type: "
                           "Test::Thing, Condition: Never}\n"
                           "  On: {Type: Test::Thing, DependsOn: Off}\n"),
                  "which is not created");
  // A conditioned-out resource may reference another one.
  EXPECT_TRUE(order_of("Conditions:\n  Never: !Equals [a, b]\nResources:\n  Off: {Type: "
                       "Test::Thing, Condition: Never}\n"
                       "  Off2: {Type: Test::Thing, Condition: Never, Properties: {V: !Ref Off}}\n "
                       " On: {Type: Test::Thing}\n")
                  .has_value());
}

TEST(Template, SectionAndAttributeErrors) {
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing}\nResource:\n  B: {}\n"),
                  "unknown section 'Resource'");
  EXPECT_CONTAINS(
      error_of("Transform: AWS::Serverless-2016-10-31\nResources:\n  A: {Type: Test::Thing}\n"),
      "Transform");
  EXPECT_CONTAINS(
      error_of("AWSTemplateFormatVersion: 2011-01-01\nResources:\n  A: {Type: Test::Thing}\n"),
      "AWSTemplateFormatVersion");
  EXPECT_CONTAINS(error_of("Description: x\n"), "needs Resources");
  EXPECT_CONTAINS(error_of("Resources: {}\n"), "at least one resource");
  EXPECT_CONTAINS(error_of("Resources: [a]\n"), "Resources must be a mapping");
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Properties: {}}\n"), "Resource A: Type is required");
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing, Propertis: {}}\n"),
                  "Resource A: unknown resource attribute 'Propertis'");
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing, Properties: [1]}\n"),
                  "Properties must be a mapping");
  EXPECT_CONTAINS(error_of("Resources:\n  My-Queue: {Type: Test::Thing}\n"), "alphanumeric");
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing, Condition: Ghost}\n"),
                  "unknown condition 'Ghost'");
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing, DeletionPolicy: Keep}\n"),
                  "DeletionPolicy must be");
  EXPECT_CONTAINS(error_of("Resources:\n  A: {Type: Test::Thing, DependsOn: {x: 1}}\n"),
                  "DependsOn must be");
  EXPECT_CONTAINS(
      error_of("Resources:\n  A: {Type: Test::Thing}\nOutputs:\n  O: {Description: x}\n"),
      "Output O: must be a mapping with a Value");
  EXPECT_CONTAINS(
      error_of(
          "Parameters:\n  A: {Type: String, Default: x}\nResources:\n  A: {Type: Test::Thing}\n"),
      "a parameter has the same name");
  std::string many = "Resources:\n";
  for (std::size_t i = 0; i <= kMaxResources; ++i)
    many += "  R" + std::to_string(i) + ": {Type: Test::Thing}\n";
  EXPECT_CONTAINS(error_of(many), "more than 500 resources");
}

TEST(Template, AcceptsResourceAttributesItDoesNotUse) {
  auto r = order_of(R"(
Resources:
  A:
    Type: Test::Thing
    Metadata: {Note: x}
    CreationPolicy: {ResourceSignal: {Timeout: PT5M}}
    UpdatePolicy: {}
    DeletionPolicy: Snapshot
    UpdateReplacePolicy: Retain
    Properties:
)");
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST(Template, JsonTemplatesDeployLikeYaml) {
  FakeProvider provider;
  auto d = deploy(R"({
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {"Size": {"Type": "Number", "Default": 5, "MaxValue": 10}},
  "Resources": {
    "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-q"}, "DelaySeconds": {"Ref": "Size"},
          "FifoQueue": false, "Tags": [{"Key": "n", "Value": 1.5}]}},
    "T": {"Type": "AWS::SNS::Topic", "DependsOn": "Q"}
  },
  "Outputs": {"Url": {"Value": {"Fn::Join": ["|", [{"Ref": "Q"}, {"Fn::GetAtt": ["Q", "Arn"]}]]}}}
})",
                  {}, StackState{}, provider, test_context("json"));
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message;
  EXPECT_EQ(provider.ops(), (std::vector<std::string>{"create Q", "create T"}));
  EXPECT_EQ(
      d.state.resources.at("Q").properties,
      json::parse(
          R"({"QueueName":"json-q","DelaySeconds":"5","FifoQueue":"false","Tags":[{"Key":"n","Value":"1.5"}]})"));
  EXPECT_EQ(d.state.outputs[0].value,
            "https://sqs.us-east-1.amazonaws.com/000000000000/"
            "json-q|arn:aws:sqs:us-east-1:000000000000:json-q");
}

TEST(Template, UnsupportedResourceTypesAreTheProvidersError) {
  FakeProvider provider;
  auto d = deploy("Resources:\n  A: {Type: Test::Thing}\n  B: {Type: Custom::Widget}\n", {},
                  StackState{}, provider, test_context());
  ASSERT_FALSE(d.status.has_value());
  EXPECT_CONTAINS(
      d.status.error().message,
      "Resource B (Custom::Widget): create failed: unsupported resource type Custom::Widget");
  EXPECT_EQ(provider.ops(), (std::vector<std::string>{"create A", "create B"}));
}

// ---- Helpers for providers -------------------------------------------------------------------

TEST(GeneratedName, IsStackLogicalIdAndThirteenRandomCharacters) {
  DeployContext ctx;
  ctx.stack_name = "orders";
  std::string n = ctx.generated_name("OrderQueue", 80);
  ASSERT_EQ(n.size(), std::string("orders-OrderQueue-").size() + 13) << n;
  EXPECT_TRUE(n.starts_with("orders-OrderQueue-")) << n;
  EXPECT_TRUE(std::all_of(n.end() - 13, n.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  })) << n;
  EXPECT_NE(ctx.generated_name("OrderQueue", 80), n);
}

TEST(GeneratedName, ShortensStackAndLogicalIdButNotTheRandomPart) {
  DeployContext ctx = test_context(std::string(100, 's'));
  for (std::size_t max : {16u, 20u, 32u, 64u, 80u}) {
    std::string n = ctx.generated_name(std::string(60, 'L'), max);
    EXPECT_EQ(n.size(), max) << n;
    EXPECT_NE(n.find("RAND"), std::string::npos) << n;
  }
  std::string n = ctx.generated_name(std::string(60, 'L'), 64);
  EXPECT_TRUE(n.starts_with(std::string(24, 's') + "-" + std::string(25, 'L') + "-")) << n;
  // A short logical id keeps all of it; the stack name gets the rest.
  std::string m = test_context(std::string(100, 's')).generated_name("Q", 64);
  EXPECT_EQ(m, std::string(48, 's') + "-Q-RAND000000001");
}

TEST(PropertyHelpers, AcceptStringsAndJsonScalars) {
  json::object p = {{"a", "10"},  {"b", 10},      {"c", "x"},     {"d", "true"},
                    {"e", false}, {"f", "False"}, {"g", nullptr}, {"h", json::array{1}},
                    {"i", 2.0},   {"j", 2.5}};
  EXPECT_EQ(int_property(p, "a").value(), 10);
  EXPECT_EQ(int_property(p, "b").value(), 10);
  EXPECT_EQ(int_property(p, "i").value(), 2);
  EXPECT_FALSE(int_property(p, "j").has_value());
  EXPECT_EQ(int_property(p, "missing").value(), std::nullopt);
  EXPECT_EQ(int_property(p, "g").value(), std::nullopt);
  ASSERT_FALSE(int_property(p, "c").has_value());
  EXPECT_CONTAINS(int_property(p, "c").error().message, "Property c must be an integer");
  EXPECT_EQ(bool_property(p, "d").value(), true);
  EXPECT_EQ(bool_property(p, "e").value(), false);
  EXPECT_EQ(bool_property(p, "f").value(), false);
  EXPECT_FALSE(bool_property(p, "a").has_value());
  EXPECT_EQ(string_property(p, "b").value(), "10");
  EXPECT_FALSE(string_property(p, "h").has_value());
}

// ---- The real templates ----------------------------------------------------------------------

std::string real_template() {
  std::string t = read_source_file("deploy/template.yaml");
  EXPECT_FALSE(t.empty()) << "deploy/template.yaml not found (set ORDERFLOW_SOURCE_DIR)";
  return t;
}

const ParameterOverrides kCode = {{"CodeS3Bucket", "orderflow-artifacts"}};

TEST(RealTemplate, NeedsOnlyTheCodeBucket) {
  auto m = error_of(real_template());
  EXPECT_CONTAINS(m, "Parameter CodeS3Bucket: must have a value");
  EXPECT_TRUE(order_of(real_template(), kCode).has_value());
  EXPECT_CONTAINS(error_of(real_template(), {{"CodeS3Bucket", "Not_A_Bucket"}}),
                  "valid S3 bucket name");
}

TEST(RealTemplate, ParametersAreConstrained) {
  auto with = [](ParameterOverrides extra) {
    extra.insert(kCode.begin(), kCode.end());
    return extra;
  };
  EXPECT_CONTAINS(error_of(real_template(), with({{"FunctionTimeout", "901"}})),
                  "Parameter FunctionTimeout");
  EXPECT_CONTAINS(error_of(real_template(), with({{"FunctionMemorySize", "64"}})),
                  "Parameter FunctionMemorySize");
  EXPECT_CONTAINS(error_of(real_template(), with({{"LogRetentionDays", "13"}})), "AllowedValues");
  EXPECT_CONTAINS(error_of(real_template(), with({{"BatchSize", "0"}})), "Parameter BatchSize");
  EXPECT_CONTAINS(error_of(real_template(), with({{"BatchSize", "100"}})),
                  "Rule LargeBatchesNeedABatchingWindow");
  EXPECT_TRUE(
      order_of(real_template(), with({{"BatchSize", "100"}, {"BatchingWindow", "1"}})).has_value());
  EXPECT_CONTAINS(error_of(real_template(), with({{"QueueVisibilityTimeout", "43201"}})),
                  "QueueVisibilityTimeout");
}

std::size_t position(const std::vector<std::string>& order, std::string_view id) {
  auto it = std::find(order.begin(), order.end(), id);
  EXPECT_NE(it, order.end()) << id;
  return static_cast<std::size_t>(it - order.begin());
}

TEST(RealTemplate, DeploysInDependencyOrder) {
  auto order = order_of(real_template(), kCode);
  ASSERT_TRUE(order.has_value()) << order.error().message;
  EXPECT_EQ(order->size(), 12u);
  auto before = [&](std::string_view a, std::string_view b) {
    EXPECT_LT(position(*order, a), position(*order, b)) << a << " before " << b;
  };
  before("OrderDeadLetterQueue", "OrderQueue");
  before("OrderQueue", "OrderQueuePolicy");
  before("OrderTopic", "OrderQueuePolicy");
  before("OrderQueuePolicy", "OrderQueueSubscription");
  before("ProcessOrderLogGroup", "ProcessOrderRole");
  before("ProcessOrderLogGroup", "ProcessOrderFunction");
  before("OrdersTable", "ProcessOrderRole");
  before("ProcessOrderRole", "ProcessOrderFunction");
  before("ProcessOrderFunction", "OrderQueueEventSourceMapping");
  before("OrderQueue", "OrderQueueEventSourceMapping");
  before("OrderAlertsTopic", "DeadLetterQueueAlarm");
  before("OrderDeadLetterQueue", "DeadLetterQueueAlarm");
}

TEST(RealTemplate, ResolvesEveryReferenceAsOnAws) {
  FakeProvider provider;
  auto d = deploy(real_template(), kCode, StackState{}, provider, test_context("orderflow"));
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message;
  EXPECT_EQ(d.state.status, "CREATE_COMPLETE");
  const auto& res = d.state.resources;
  ASSERT_EQ(res.size(), 12u);
  auto props = [&](const std::string& id) -> const json::object& { return res.at(id).properties; };
  auto attr = [&](const std::string& id, const std::string& a) -> const json::value& {
    return res.at(id).attributes.at(a);
  };
  const std::string dlq_arn = "arn:aws:sqs:us-east-1:000000000000:OrderQueueDLQ-CF";
  const std::string queue_arn = "arn:aws:sqs:us-east-1:000000000000:OrderQueue-CF";
  const std::string topic_arn = "arn:aws:sns:us-east-1:000000000000:OrderTopic";

  EXPECT_EQ(props("OrdersTable").at("TableName"), json::value("Orders"));
  EXPECT_EQ(props("OrdersTable").at("KeySchema"),
            json::parse(R"([{"AttributeName":"orderId","KeyType":"HASH"}])"));
  EXPECT_EQ(props("OrdersTable").at("BillingMode"), json::value("PAY_PER_REQUEST"));

  EXPECT_EQ(attr("OrderDeadLetterQueue", "Arn"), json::value(dlq_arn));
  EXPECT_EQ(props("OrderQueue").at("QueueName"), json::value("OrderQueue-CF"));
  EXPECT_EQ(props("OrderQueue").at("VisibilityTimeout"), json::value("180"));
  EXPECT_EQ(props("OrderQueue").at("RedrivePolicy"),
            json::parse(R"({"deadLetterTargetArn":")" + dlq_arn + R"(","maxReceiveCount":"3"})"));
  EXPECT_EQ(
      int_property(props("OrderQueue").at("RedrivePolicy").as_object(), "maxReceiveCount").value(),
      3);
  EXPECT_EQ(
      props("OrderDeadLetterQueue").at("RedriveAllowPolicy"),
      json::parse(R"({"redrivePermission":"byQueue","sourceQueueArns":[")" + queue_arn + R"("]})"));

  const auto& sub = props("OrderQueueSubscription");
  EXPECT_EQ(sub.at("Protocol"), json::value("sqs"));
  EXPECT_EQ(sub.at("TopicArn"), json::value(res.at("OrderTopic").physical_id));
  EXPECT_EQ(sub.at("TopicArn"), json::value(topic_arn));
  EXPECT_EQ(sub.at("Endpoint"), attr("OrderQueue", "Arn"));
  EXPECT_EQ(bool_property(sub, "RawMessageDelivery").value(), false);

  const auto& policy = props("OrderQueuePolicy");
  EXPECT_EQ(policy.at("Queues"), json::array{json::value(res.at("OrderQueue").physical_id)});
  const auto& statement = policy.at("PolicyDocument").at("Statement").at(0);
  EXPECT_EQ(statement.at("Principal"), json::parse(R"({"Service":"sns.amazonaws.com"})"));
  EXPECT_EQ(statement.at("Action"), json::value("sqs:SendMessage"));
  EXPECT_EQ(statement.at("Resource"), json::value(queue_arn));
  EXPECT_EQ(statement.at("Condition"),
            json::parse(R"({"ArnEquals":{"aws:SourceArn":")" + topic_arn + R"("}})"));

  const auto& fn = props("ProcessOrderFunction");
  EXPECT_EQ(fn.at("FunctionName"), json::value("ProcessOrderLambda"));
  EXPECT_EQ(fn.at("Runtime"), json::value("provided.al2023"));
  EXPECT_EQ(fn.at("Handler"), json::value("bootstrap"));
  EXPECT_EQ(fn.at("Architectures"), json::parse(R"(["x86_64"])"));
  EXPECT_EQ(fn.at("Timeout"), json::value("30"));
  EXPECT_EQ(fn.at("MemorySize"), json::value("256"));
  EXPECT_EQ(fn.at("Environment"), json::parse(R"({"Variables":{"ORDERS_TABLE":"Orders"}})"));
  EXPECT_EQ(fn.at("Role"), attr("ProcessOrderRole", "Arn"));
  EXPECT_EQ(
      fn.at("Code"),
      json::parse(R"({"S3Bucket":"orderflow-artifacts","S3Key":"orderflow/process-order.zip"})"));
  EXPECT_EQ(res.at("ProcessOrderFunction").depends_on,
            (std::vector<std::string>{"OrdersTable", "ProcessOrderLogGroup", "ProcessOrderRole"}));

  const auto& esm = props("OrderQueueEventSourceMapping");
  EXPECT_EQ(esm.at("EventSourceArn"), json::value(queue_arn));
  EXPECT_EQ(esm.at("FunctionName"), json::value("ProcessOrderLambda"));
  EXPECT_EQ(esm.at("BatchSize"), json::value("10"));
  EXPECT_EQ(esm.at("MaximumBatchingWindowInSeconds"), json::value("0"));
  EXPECT_EQ(esm.at("FunctionResponseTypes"), json::parse(R"(["ReportBatchItemFailures"])"));

  EXPECT_EQ(props("ProcessOrderLogGroup").at("LogGroupName"),
            json::value("/aws/lambda/ProcessOrderLambda"));
  EXPECT_EQ(props("ProcessOrderLogGroup").at("RetentionInDays"), json::value("14"));

  // Least privilege: each statement names one resource.
  const auto& statements = props("ProcessOrderRole")
                               .at("Policies")
                               .at(0)
                               .at("PolicyDocument")
                               .at("Statement")
                               .as_array();
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_EQ(statements[0].at("Action"), json::value("dynamodb:PutItem"));
  EXPECT_EQ(statements[0].at("Resource"),
            json::value("arn:aws:dynamodb:us-east-1:000000000000:table/Orders"));
  EXPECT_EQ(
      statements[1].at("Action"),
      json::parse(
          R"(["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:ChangeMessageVisibility","sqs:GetQueueAttributes"])"));
  EXPECT_EQ(statements[1].at("Resource"), json::value(queue_arn));
  EXPECT_EQ(statements[2].at("Action"),
            json::parse(R"(["logs:CreateLogStream","logs:PutLogEvents"])"));
  EXPECT_EQ(statements[2].at("Resource"),
            json::value(
                "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/ProcessOrderLambda:*"));
  EXPECT_TRUE(res.at("ProcessOrderRole").physical_id.starts_with("orderflow-ProcessOrderRole-"));

  const auto& alarm = props("DeadLetterQueueAlarm");
  EXPECT_EQ(alarm.at("Namespace"), json::value("AWS/SQS"));
  EXPECT_EQ(alarm.at("MetricName"), json::value("ApproximateNumberOfMessagesVisible"));
  EXPECT_EQ(alarm.at("Dimensions"),
            json::parse(R"([{"Name":"QueueName","Value":"OrderQueueDLQ-CF"}])"));
  EXPECT_EQ(alarm.at("ComparisonOperator"), json::value("GreaterThanThreshold"));
  EXPECT_EQ(alarm.at("Threshold"), json::value("0"));
  EXPECT_EQ(alarm.at("AlarmActions"),
            json::parse(R"(["arn:aws:sns:us-east-1:000000000000:OrderAlerts"])"));

  std::map<std::string, std::string> outputs;
  for (const auto& o : d.state.outputs) outputs[o.key] = o.value;
  EXPECT_EQ(outputs.at("OrdersTableName"), "Orders");
  EXPECT_EQ(outputs.at("OrderTopicArn"), topic_arn);
  EXPECT_EQ(outputs.at("OrderQueueUrl"),
            "https://sqs.us-east-1.amazonaws.com/000000000000/OrderQueue-CF");
  EXPECT_EQ(outputs.at("OrderQueueArn"), queue_arn);
  EXPECT_EQ(outputs.at("DeadLetterQueueUrl"),
            "https://sqs.us-east-1.amazonaws.com/000000000000/OrderQueueDLQ-CF");
  EXPECT_EQ(outputs.at("DeadLetterQueueArn"), dlq_arn);
  EXPECT_EQ(outputs.at("ProcessOrderFunctionName"), "ProcessOrderLambda");
  EXPECT_EQ(outputs.at("ProcessOrderFunctionArn"),
            "arn:aws:lambda:us-east-1:000000000000:function:ProcessOrderLambda");
  EXPECT_EQ(outputs.at("AlertsTopicArn"), "arn:aws:sns:us-east-1:000000000000:OrderAlerts");
  EXPECT_EQ(d.state.parameters.at("QueueVisibilityTimeout"), "180");
}

TEST(RealTemplate, RedeployingChangesOnlyWhatTheParametersTouch) {
  FakeProvider provider;
  auto ctx = test_context("orderflow");
  auto first = deploy(real_template(), kCode, StackState{}, provider, ctx);
  ASSERT_TRUE(first.status.has_value()) << first.status.error().message;
  provider.calls.clear();

  auto same = deploy(real_template(), kCode, first.state, provider, ctx);
  ASSERT_TRUE(same.status.has_value()) << same.status.error().message;
  EXPECT_TRUE(provider.calls.empty());
  EXPECT_EQ(same.state.status, "UPDATE_COMPLETE");
  EXPECT_EQ(same.state.resources, first.state.resources);

  ParameterOverrides more = kCode;
  more["FunctionTimeout"] = "60";
  more["QueueVisibilityTimeout"] = "360";
  auto changed = deploy(real_template(), more, same.state, provider, ctx);
  ASSERT_TRUE(changed.status.has_value()) << changed.status.error().message;
  EXPECT_EQ(provider.ops(),
            (std::vector<std::string>{"update OrderQueue", "update ProcessOrderFunction"}));
  EXPECT_EQ(changed.state.resources.at("ProcessOrderFunction").properties.at("Timeout"),
            json::value("60"));
}

TEST(RealTemplate, DestroyDeletesDependentsFirst) {
  FakeProvider provider;
  auto ctx = test_context("orderflow");
  auto d = deploy(real_template(), kCode, StackState{}, provider, ctx);
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message;
  provider.calls.clear();
  auto gone = destroy(d.state, provider, ctx);
  ASSERT_TRUE(gone.status.has_value()) << gone.status.error().message;
  EXPECT_TRUE(provider.live.empty());
  std::vector<std::string> removed;
  for (const auto& c : provider.calls) removed.push_back(c.logical_id);
  ASSERT_EQ(removed.size(), 12u);
  auto before = [&](std::string_view a, std::string_view b) {
    EXPECT_LT(position(removed, a), position(removed, b)) << a << " deleted before " << b;
  };
  before("OrderQueueEventSourceMapping", "ProcessOrderFunction");
  before("OrderQueueEventSourceMapping", "OrderQueue");
  before("ProcessOrderFunction", "ProcessOrderRole");
  before("ProcessOrderFunction", "ProcessOrderLogGroup");
  before("OrderQueueSubscription", "OrderQueuePolicy");
  before("OrderQueuePolicy", "OrderQueue");
  before("OrderQueue", "OrderDeadLetterQueue");
  before("DeadLetterQueueAlarm", "OrderAlertsTopic");
  EXPECT_EQ(gone.state.status, "DELETE_COMPLETE");
  EXPECT_TRUE(gone.state.resources.empty());
}

TEST(SecondTemplate, DeploysDevThenUpdatesToProd) {
  std::string text = read_source_file("src/stack/testdata/two_queues.yaml");
  ASSERT_FALSE(text.empty());
  FakeProvider provider;
  auto ctx = test_context("shop");
  auto dev = deploy(text, {}, StackState{}, provider, ctx);
  ASSERT_TRUE(dev.status.has_value()) << dev.status.error().message;
  EXPECT_EQ(provider.ops(), (std::vector<std::string>{"create Events", "create Audit",
                                                      "create Work", "create WorkSubscription"}));
  const auto& res = dev.state.resources;
  EXPECT_EQ(res.at("Events").physical_id,
            "arn:aws:sns:us-east-1:000000000000:shop-Events-RAND000000001");
  EXPECT_EQ(res.at("Audit").attributes.at("QueueName"), json::value("shop-Audit-RAND000000002"));
  const auto& work = res.at("Work").properties;
  EXPECT_EQ(work.at("QueueName"), json::value("shop-work-dev"));
  EXPECT_EQ(work.at("VisibilityTimeout"), json::value("30"));
  EXPECT_EQ(
      work.at("RedrivePolicy"),
      json::parse(
          R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:shop-Audit-RAND000000002","maxReceiveCount":"5"})"));
  EXPECT_EQ(work.at("Tags"), json::parse(R"([{"Key":"stage","Value":"dev"}])"));
  EXPECT_EQ(res.at("WorkSubscription").properties.at("Endpoint"),
            json::value("arn:aws:sqs:us-east-1:000000000000:shop-work-dev"));
  std::vector<std::string> keys;
  for (const auto& o : dev.state.outputs) keys.push_back(o.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"WorkQueueUrl", "AuditQueueArn", "EventsTopicArn", "Zones"}));
  EXPECT_EQ(dev.state.outputs[3].value, "us-east-1a,us-east-1b");
  EXPECT_EQ(dev.state.outputs[1].description, "where failed work goes");

  provider.calls.clear();
  auto prod = deploy(text, {{"Stage", "prod"}}, dev.state, provider, ctx);
  ASSERT_TRUE(prod.status.has_value()) << prod.status.error().message;
  // The queue's name changes: replaced; so the subscription's endpoint changes: replaced too.
  // The old ones go in the cleanup, the subscription before the queue.
  EXPECT_EQ(provider.ops(), (std::vector<std::string>{"update Work", "update WorkSubscription",
                                                      "create AuditSubscription", "create Archive",
                                                      "remove WorkSubscription", "remove Work"}));
  EXPECT_EQ(provider.calls[4].physical_id, res.at("WorkSubscription").physical_id);
  EXPECT_EQ(provider.calls[5].physical_id, res.at("Work").physical_id);
  const auto& pw = prod.state.resources.at("Work").properties;
  EXPECT_EQ(pw.at("QueueName"), json::value("shop-work-prod"));
  EXPECT_EQ(pw.at("Tags"),
            json::parse(R"([{"Key":"stage","Value":"prod"},{"Key":"oncall","Value":"yes"}])"));
  EXPECT_EQ(prod.state.resources.size(), 6u);
  EXPECT_TRUE(prod.state.retired.empty());
  EXPECT_EQ(prod.state.outputs.size(), 5u);

  // Back to dev: the prod-only resources go; the table is retained (DeletionPolicy: Retain).
  provider.calls.clear();
  auto back = deploy(text, {}, prod.state, provider, ctx);
  ASSERT_TRUE(back.status.has_value()) << back.status.error().message;
  EXPECT_FALSE(back.state.resources.contains("Archive"));
  EXPECT_EQ(provider.last("remove", "Archive"), nullptr);
  EXPECT_NE(provider.last("remove", "AuditSubscription"), nullptr);
  EXPECT_TRUE(provider.live.contains("shop-archive"));
  auto retained = std::find_if(back.changes.begin(), back.changes.end(),
                               [](const Change& c) { return c.logical_id == "Archive"; });
  ASSERT_NE(retained, back.changes.end());
  EXPECT_EQ(retained->action, ChangeAction::retained);
}

}  // namespace
}  // namespace orderflow::stack
