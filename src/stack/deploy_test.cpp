// deploy() and destroy() against the recording fake provider: what is created, updated,
// replaced, left alone and deleted, in which order; failures part way and resuming; the
// StackState JSON form.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "stack/template.h"
#include "stack/testing/fake_provider.h"

namespace orderflow::stack {
namespace {

namespace json = boost::json;
using testing::FakeProvider;
using testing::test_context;
using Ops = std::vector<std::string>;

#define EXPECT_CONTAINS(haystack, needle)                          \
  do {                                                             \
    std::string h_ = (haystack);                                   \
    EXPECT_NE(h_.find(needle), std::string::npos) << "in: " << h_; \
  } while (0)

// A chain: A <- B (Ref A) <- C (GetAtt B.Arn); `a_name` is A's Name (a replacement property).
std::string chain(std::string_view a_name = "a", std::string_view c_extra = "x") {
  return R"(
Resources:
  A:
    Type: Test::Thing
    Properties:
      Name: )" +
         std::string(a_name) +
         R"(
  B:
    Type: Test::Thing
    Properties:
      Of: !Ref A
  C:
    Type: Test::Thing
    Properties:
      Of: !GetAtt B.Arn
      Extra: )" +
         std::string(c_extra) +
         R"(
Outputs:
  AName:
    Value: !Ref A
)";
}

class DeployTest : public ::testing::Test {
 protected:
  Deployment run(std::string_view text, const StackState& previous,
                 const ParameterOverrides& overrides = {}) {
    provider.calls.clear();
    return deploy(text, overrides, previous, provider, ctx);
  }
  Deployment run_ok(std::string_view text, const StackState& previous,
                    const ParameterOverrides& overrides = {}) {
    auto d = run(text, previous, overrides);
    EXPECT_TRUE(d.status.has_value()) << d.status.error().message;
    return d;
  }

  FakeProvider provider;
  DeployContext ctx = test_context();
};

TEST_F(DeployTest, CreatesInDependencyOrderAndRecordsWhatExists) {
  auto d = run_ok(chain(), StackState{});
  EXPECT_EQ(provider.ops(), (Ops{"create A", "create B", "create C"}));
  EXPECT_EQ(d.state.status, "CREATE_COMPLETE");
  EXPECT_EQ(d.state.stack_name, "teststack");
  EXPECT_EQ(d.state.stack_id, ctx.stack_id);
  const ResourceState& c = d.state.resources.at("C");
  EXPECT_EQ(c.logical_id, "C");
  EXPECT_EQ(c.type, "Test::Thing");
  EXPECT_EQ(c.properties.at("Of"), json::value("arn:test:teststack-B-RAND000000001"));
  EXPECT_EQ(c.depends_on, (std::vector<std::string>{"B"}));
  EXPECT_EQ(c.deletion_policy, "Delete");
  ASSERT_EQ(d.changes.size(), 3u);
  EXPECT_EQ(d.changes[0], (Change{"A", "Test::Thing", ChangeAction::created, "a"}));
  ASSERT_EQ(d.state.outputs.size(), 1u);
  EXPECT_EQ(d.state.outputs[0], (StackOutput{"AName", "a", ""}));
}

TEST_F(DeployTest, UnchangedResourcesAreLeftAloneButStillResolve) {
  auto first = run_ok(chain(), StackState{});
  auto second = run_ok(chain(), first.state);
  EXPECT_TRUE(provider.calls.empty());
  EXPECT_EQ(second.state.resources, first.state.resources);
  EXPECT_EQ(second.state.outputs, first.state.outputs);
  EXPECT_EQ(second.state.status, "UPDATE_COMPLETE");
  for (const auto& c : second.changes) EXPECT_EQ(c.action, ChangeAction::unchanged) << c.logical_id;
}

TEST_F(DeployTest, ChangedPropertiesAreUpdatedInPlace) {
  auto first = run_ok(chain(), StackState{});
  auto second = run_ok(chain("a", "y"), first.state);
  EXPECT_EQ(provider.ops(), (Ops{"update C"}));
  EXPECT_EQ(provider.calls[0].physical_id, first.state.resources.at("C").physical_id);
  EXPECT_EQ(provider.calls[0].properties.at("Extra"), json::value("y"));
  EXPECT_EQ(second.state.resources.at("C").physical_id, first.state.resources.at("C").physical_id);
  EXPECT_EQ(second.state.resources.at("C").properties.at("Extra"), json::value("y"));
  EXPECT_EQ(second.changes.back().action, ChangeAction::updated);
}

TEST_F(DeployTest, ReplacementRippleThroughReferencesAndOldOnesGoLast) {
  auto first = run_ok(chain("a"), StackState{});
  auto second = run_ok(chain("a2"), first.state);
  // A's Name needs replacement; B refers to A, so B's properties change (in place); C refers to
  // B's Arn, which did not change. The old A is deleted after everything else.
  EXPECT_EQ(provider.ops(), (Ops{"update A", "update B", "remove A"}));
  EXPECT_EQ(provider.calls[2].physical_id, "a");
  EXPECT_EQ(second.state.resources.at("A").physical_id, "a2");
  EXPECT_EQ(second.state.resources.at("B").properties.at("Of"), json::value("a2"));
  EXPECT_TRUE(second.state.retired.empty());
  EXPECT_EQ(second.state.outputs[0].value, "a2");
  EXPECT_EQ(provider.live, (std::set<std::string>{"a2", first.state.resources.at("B").physical_id,
                                                  first.state.resources.at("C").physical_id}));
  ASSERT_EQ(second.changes.size(), 4u);
  EXPECT_EQ(second.changes[0].action, ChangeAction::replaced);
  EXPECT_EQ(second.changes[3], (Change{"A", "Test::Thing", ChangeAction::deleted, "a"}));
}

TEST_F(DeployTest, ATypeChangeCreatesANewResourceAndDeletesTheOld) {
  auto first =
      run_ok("Resources:\n  A: {Type: Test::Thing, Properties: {Name: a}}\n", StackState{});
  auto second =
      run_ok("Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: a}}\n", first.state);
  EXPECT_EQ(provider.ops(), (Ops{"create A", "remove A"}));
  EXPECT_EQ(provider.calls[1].type, "Test::Thing");
  EXPECT_EQ(second.state.resources.at("A").type, "AWS::SNS::Topic");
}

TEST_F(DeployTest, RemovedResourcesAreDeletedAfterCreatesInReverseDependencyOrder) {
  auto first = run_ok(chain(), StackState{});
  auto second =
      run_ok("Resources:\n  D: {Type: Test::Thing, Properties: {Name: d}}\n", first.state);
  EXPECT_EQ(provider.ops(), (Ops{"create D", "remove C", "remove B", "remove A"}));
  EXPECT_EQ(second.state.resources.size(), 1u);
  EXPECT_EQ(provider.live, (std::set<std::string>{"d"}));
}

TEST_F(DeployTest, AResourceWhoseConditionTurnsFalseIsDeleted) {
  std::string t = R"(
Parameters:
  WithExtra: {Type: String, Default: "yes", AllowedValues: ["yes", "no"]}
Conditions:
  Extra: !Equals [!Ref WithExtra, "yes"]
Resources:
  A: {Type: Test::Thing, Properties: {Name: a}}
  X: {Type: Test::Thing, Condition: Extra, Properties: {Name: x, Of: !Ref A}}
)";
  auto first = run_ok(t, StackState{});
  EXPECT_EQ(provider.ops(), (Ops{"create A", "create X"}));
  auto second = run_ok(t, first.state, {{"WithExtra", "no"}});
  EXPECT_EQ(provider.ops(), (Ops{"remove X"}));
  auto third = run_ok(t, second.state);
  EXPECT_EQ(provider.ops(), (Ops{"create X"}));
}

TEST_F(DeployTest, RetainPoliciesLeaveResourcesInPlace) {
  std::string v1 = R"(
Resources:
  Kept: {Type: Test::Thing, DeletionPolicy: Retain, Properties: {Name: kept}}
  Swapped: {Type: Test::Thing, UpdateReplacePolicy: Retain, Properties: {Name: one}}
)";
  std::string v2 =
      "Resources:\n  Swapped: {Type: Test::Thing, UpdateReplacePolicy: Retain, Properties: {Name: "
      "two}}\n";
  auto first = run_ok(v1, StackState{});
  auto second = run_ok(v2, first.state);
  EXPECT_EQ(provider.ops(), (Ops{"update Swapped"}));
  EXPECT_EQ(provider.live, (std::set<std::string>{"kept", "one", "two"}));
  EXPECT_FALSE(second.state.resources.contains("Kept"));
  std::vector<ChangeAction> actions;
  for (const auto& c : second.changes) actions.push_back(c.action);
  EXPECT_EQ(actions, (std::vector<ChangeAction>{ChangeAction::replaced, ChangeAction::retained,
                                                ChangeAction::retained}));
}

TEST_F(DeployTest, AFailedCreateNamesTheResourceAndKeepsWhatExists) {
  provider.fail_on("create", "B");
  auto d = run(chain(), StackState{});
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.status.error().code, ErrorCode::internal_error);  // the provider's code
  EXPECT_EQ(d.status.error().message, "Resource B (Test::Thing): create failed: injected failure");
  EXPECT_EQ(provider.ops(), (Ops{"create A", "create B"}));
  EXPECT_EQ(d.state.status, "CREATE_FAILED");
  EXPECT_EQ(d.state.status_reason, d.status.error().message);
  ASSERT_EQ(d.state.resources.size(), 1u);
  EXPECT_TRUE(d.state.resources.contains("A"));
  EXPECT_TRUE(d.state.outputs.empty());
  EXPECT_EQ(d.state.stack_id, ctx.stack_id);

  // The next deployment continues where this one stopped.
  provider.clear_failures();
  auto again = run_ok(chain(), d.state);
  EXPECT_EQ(provider.ops(), (Ops{"create B", "create C"}));
  EXPECT_EQ(again.state.status, "UPDATE_COMPLETE");
  EXPECT_EQ(again.state.resources.size(), 3u);
  EXPECT_EQ(again.state.outputs.size(), 1u);
}

TEST_F(DeployTest, AFailedUpdateKeepsTheResourceAsItWas) {
  auto first = run_ok(chain("a", "x"), StackState{});
  provider.fail_on("update", "C");
  auto d = run(chain("a", "y"), first.state);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_CONTAINS(d.status.error().message, "Resource C (Test::Thing): update failed");
  EXPECT_EQ(d.state.status, "UPDATE_FAILED");
  EXPECT_EQ(d.state.resources, first.state.resources);
}

TEST_F(DeployTest, AFailureAfterAReplacementKeepsTheOldResourceForLaterCleanup) {
  auto first = run_ok(chain("a", "x"), StackState{});
  provider.fail_on("update", "C");
  auto d = run(chain("a2", "y"), first.state);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(provider.ops(), (Ops{"update A", "update B", "update C"}));
  EXPECT_EQ(d.state.resources.at("A").physical_id, "a2");
  ASSERT_EQ(d.state.retired.size(), 1u);
  EXPECT_EQ(d.state.retired[0].physical_id, "a");
  EXPECT_EQ(d.state.resources.at("C"), first.state.resources.at("C"));
  EXPECT_TRUE(provider.live.contains("a"));

  provider.clear_failures();
  auto again = run_ok(chain("a2", "y"), d.state);
  EXPECT_EQ(provider.ops(), (Ops{"update C", "remove A"}));
  EXPECT_TRUE(again.state.retired.empty());
  EXPECT_FALSE(provider.live.contains("a"));
}

TEST_F(DeployTest, AFailedDeleteKeepsTheResourceAndIsRetried) {
  auto first = run_ok(chain(), StackState{});
  provider.fail_on("remove", "B");
  auto d = run("Resources:\n  A: {Type: Test::Thing, Properties: {Name: a}}\n", first.state);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_CONTAINS(d.status.error().message,
                  "Resource B (Test::Thing): delete of teststack-B-RAND000000001 failed");
  EXPECT_EQ(provider.ops(), (Ops{"remove C", "remove B"}));
  EXPECT_EQ(d.state.status, "UPDATE_FAILED");
  EXPECT_TRUE(d.state.resources.contains("A"));
  EXPECT_TRUE(d.state.resources.contains("B"));
  EXPECT_FALSE(d.state.resources.contains("C"));

  provider.clear_failures();
  auto again = run_ok("Resources:\n  A: {Type: Test::Thing, Properties: {Name: a}}\n", d.state);
  EXPECT_EQ(provider.ops(), (Ops{"remove B"}));
  EXPECT_EQ(again.state.resources.size(), 1u);
}

TEST_F(DeployTest, AnInvalidTemplateChangesNothing) {
  auto first = run_ok(chain(), StackState{});
  auto d = run("Resources:\n  A: {Type: Test::Thing, Properties: {Of: !Ref Ghost}}\n", first.state);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.status.error().code, ErrorCode::validation_error);
  EXPECT_TRUE(provider.calls.empty());
  EXPECT_EQ(d.state, first.state);
}

TEST_F(DeployTest, AnOutputThatIsNotAStringFailsTheDeployment) {
  auto d = run("Resources:\n  A: {Type: Test::Thing}\nOutputs:\n  Zones: {Value: !GetAZs ''}\n",
               StackState{});
  ASSERT_FALSE(d.status.has_value());
  EXPECT_CONTAINS(d.status.error().message, "Output Zones: the Value must be a string");
  EXPECT_EQ(d.state.resources.size(), 1u);
  EXPECT_EQ(d.state.status, "CREATE_FAILED");
}

TEST_F(DeployTest, TheStackIdIsKeptAcrossDeploymentsAndNewAfterDeletion) {
  DeployContext fresh = ctx;
  fresh.stack_id.clear();
  auto first = deploy(chain(), {}, StackState{}, provider, fresh);
  ASSERT_TRUE(first.status.has_value());
  EXPECT_TRUE(first.state.stack_id.starts_with(
      "arn:aws:cloudformation:us-east-1:000000000000:stack/teststack/"))
      << first.state.stack_id;
  auto second = deploy(chain(), {}, first.state, provider, fresh);
  EXPECT_EQ(second.state.stack_id, first.state.stack_id);
  auto gone = destroy(second.state, provider, fresh);
  ASSERT_TRUE(gone.status.has_value());
  EXPECT_EQ(gone.state.stack_id, first.state.stack_id);
  auto reborn = deploy(chain(), {}, gone.state, provider, fresh);
  ASSERT_TRUE(reborn.status.has_value());
  EXPECT_NE(reborn.state.stack_id, first.state.stack_id);
  EXPECT_EQ(reborn.state.status, "CREATE_COMPLETE");
}

TEST_F(DeployTest, StackNamesAreCheckedAndMustMatchTheState) {
  auto first = run_ok(chain(), StackState{});
  DeployContext other = test_context("other");
  auto d = deploy(chain(), {}, first.state, provider, other);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_CONTAINS(d.status.error().message, "stack teststack, not other");
  for (const char* bad : {"", "1abc", "has space", "under_score"}) {
    auto r = deploy(chain(), {}, StackState{}, provider, test_context(bad));
    ASSERT_FALSE(r.status.has_value()) << bad;
    EXPECT_CONTAINS(r.status.error().message, "stack name");
  }
}

TEST_F(DeployTest, DestroyDeletesEverythingAndCanBeRetried) {
  auto first = run_ok(chain("a"), StackState{});
  provider.fail_on("update", "C");
  auto partial = run(chain("a2", "y"), first.state);  // leaves a retired "a"
  ASSERT_EQ(partial.state.retired.size(), 1u);
  provider.clear_failures();
  provider.fail_on("remove", "B");
  provider.calls.clear();
  auto d = destroy(partial.state, provider, ctx);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.state.status, "DELETE_FAILED");
  EXPECT_EQ(provider.ops(), (Ops{"remove C", "remove B"}));
  EXPECT_EQ(d.state.resources.size(), 2u);  // A and B
  EXPECT_EQ(d.state.retired.size(), 1u);
  provider.clear_failures();
  provider.calls.clear();
  auto again = destroy(d.state, provider, ctx);
  ASSERT_TRUE(again.status.has_value()) << again.status.error().message;
  EXPECT_EQ(provider.ops(), (Ops{"remove B", "remove A", "remove A"}));
  EXPECT_TRUE(provider.live.empty());
  EXPECT_EQ(again.state.status, "DELETE_COMPLETE");
  EXPECT_TRUE(again.state.resources.empty());
  EXPECT_TRUE(again.state.retired.empty());
}

TEST_F(DeployTest, TheProvidersBookkeepingFieldsAreOverwritten) {
  class Sloppy final : public ResourceProvider {
   public:
    Result<ResourceState> create(const DeployContext&, const ResourceSpec&) override {
      ResourceState s;
      s.logical_id = "wrong";
      s.type = "wrong";
      s.physical_id = "p";
      s.properties = {{"junk", 1}};
      return s;
    }
    Result<UpdateOutcome> update(const DeployContext&, const ResourceState& c,
                                 const ResourceSpec&) override {
      return UpdateOutcome{c, false};
    }
    Status remove(const DeployContext&, const ResourceState&) override { return {}; }
  } sloppy;
  auto d = deploy(
      "Resources:\n  A: {Type: Test::Thing, DependsOn: B, Properties: {V: 1}}\n  B: {Type: "
      "Test::Thing}\n",
      {}, StackState{}, sloppy, ctx);
  ASSERT_TRUE(d.status.has_value());
  const auto& a = d.state.resources.at("A");
  EXPECT_EQ(a.logical_id, "A");
  EXPECT_EQ(a.type, "Test::Thing");
  EXPECT_EQ(a.properties, (json::object{{"V", "1"}}));
  EXPECT_EQ(a.depends_on, (std::vector<std::string>{"B"}));
}

TEST_F(DeployTest, TheLargestStackDeploysAndIsDestroyedInOrder) {
  // kMaxResources resources, each referring to the next one in the text: the reverse of
  // template order is the only valid order.
  std::string t = "Resources:\n";
  for (std::size_t i = 0; i < kMaxResources; ++i) {
    t += "  R" + std::to_string(i) + ": {Type: Test::Thing, Properties: {Name: r" + std::to_string(i);
    if (i + 1 < kMaxResources) t += ", Of: !Ref R" + std::to_string(i + 1);
    t += "}}\n";
  }
  auto d = run_ok(t, StackState{});
  ASSERT_EQ(provider.calls.size(), kMaxResources);
  EXPECT_EQ(provider.calls.front().logical_id, "R" + std::to_string(kMaxResources - 1));
  EXPECT_EQ(provider.calls.back().logical_id, "R0");
  provider.calls.clear();
  auto gone = destroy(d.state, provider, ctx);
  ASSERT_TRUE(gone.status.has_value());
  ASSERT_EQ(provider.calls.size(), kMaxResources);
  EXPECT_EQ(provider.calls.front().logical_id, "R0");
  EXPECT_EQ(provider.calls.back().logical_id, "R" + std::to_string(kMaxResources - 1));
}

// ---- StackState JSON --------------------------------------------------------------------------

TEST_F(DeployTest, StackStateRoundTripsThroughJson) {
  auto first = run_ok(chain("a"), StackState{}, {});
  provider.fail_on("update", "C");
  auto d = run(chain("a2", "y"), first.state);  // has retired resources and a failure reason
  ASSERT_FALSE(d.state.retired.empty());
  d.state.parameters["P"] = "v";
  std::string text = json::serialize(to_json(d.state));
  auto back = stack_state_from_json(json::parse(text));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, d.state);

  auto ok = stack_state_from_json(to_json(first.state));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, first.state);
  EXPECT_EQ(*stack_state_from_json(to_json(StackState{})), StackState{});
}

TEST_F(DeployTest, MalformedStackStateIsRejected) {
  auto first = run_ok(chain(), StackState{});
  json::value good = to_json(first.state);
  auto broken = [&](auto mutate) {
    json::value v = good;
    mutate(v.as_object());
    auto r = stack_state_from_json(v);
    EXPECT_FALSE(r.has_value()) << json::serialize(v);
    return r ? std::string() : r.error().message;
  };
  EXPECT_CONTAINS(broken([](json::object& o) { o["format"] = 2; }), "unknown format");
  EXPECT_CONTAINS(broken([](json::object& o) { o.erase("format"); }), "unknown format");
  EXPECT_CONTAINS(broken([](json::object& o) { o["stack_name"] = 5; }),
                  "state.stack_name must be a string");
  EXPECT_CONTAINS(broken([](json::object& o) { o["resources"] = json::object(); }),
                  "state.resources must be a list");
  EXPECT_CONTAINS(broken([](json::object& o) {
                    o["resources"].as_array()[1].as_object().erase("physical_id");
                  }),
                  "resources[1].physical_id must be a string");
  EXPECT_CONTAINS(broken([](json::object& o) {
                    o["resources"].as_array()[0].as_object()["depends_on"] = json::array{1};
                  }),
                  "depends_on must be a list of strings");
  EXPECT_CONTAINS(broken([](json::object& o) {
                    auto& a = o["resources"].as_array();
                    a.push_back(a[0]);
                  }),
                  "appears twice");
  EXPECT_CONTAINS(broken([](json::object& o) {
                    o["parameters"] = json::object{{"x", 1}};
                  }),
                  "parameters");
  EXPECT_CONTAINS(broken([](json::object& o) {
                    o["outputs"] = json::array{json::object{{"key", "k"}}};
                  }),
                  "outputs[0].value must be a string");
  EXPECT_FALSE(stack_state_from_json(json::value("nope")).has_value());
  EXPECT_FALSE(stack_state_from_json(json::value()).has_value());
}

}  // namespace
}  // namespace orderflow::stack
