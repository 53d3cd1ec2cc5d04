// Fuzz target: CloudFormation templates (stack/template.h): YAML/JSON reading, short tags,
// parameters, conditions, intrinsics and the dependency order, deployed through the in-memory
// FakeProvider (no engine).
//
// Input: a template. It is parsed (parse_template) and validated; parameters without a Default
// get a value ("1" for Number types, else "orderflow-code") so the deployment gets past them.
// A template that deploys is deployed again over its own state (nothing may change), its state
// must survive to_json / stack_state_from_json, and the stack is destroyed.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "stack/template.h"
#include "stack/testing/fake_provider.h"

namespace {

namespace stack = orderflow::stack;
using orderflow::fuzz::contract_broken;

stack::ParameterOverrides overrides_for(const boost::json::object& tmpl) {
  stack::ParameterOverrides out;
  auto it = tmpl.find("Parameters");
  if (it == tmpl.end() || !it->value().is_object()) return out;
  for (const auto& [name, decl] : it->value().as_object()) {
    if (!decl.is_object() || decl.as_object().contains("Default")) continue;
    const auto* type = decl.as_object().if_contains("Type");
    bool number = type && type->is_string() && type->as_string().find("Number") != boost::json::string::npos;
    out[std::string(name)] = number ? "1" : "orderflow-code";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = orderflow::fuzz::as_text(data, size);
  auto parsed = stack::parse_template(text);
  if (!parsed) return 0;
  stack::ParameterOverrides overrides = overrides_for(*parsed);
  stack::DeployContext ctx = stack::testing::test_context("fuzzstack");
  (void)stack::validate_template(text, overrides, ctx);

  stack::testing::FakeProvider provider;
  stack::Deployment first = stack::deploy(text, overrides, stack::StackState{}, provider, ctx);
  auto restored = stack::stack_state_from_json(stack::to_json(first.state));
  if (!restored || !(*restored == first.state))
    contract_broken("a stack state does not survive to_json / stack_state_from_json",
                    restored ? "" : restored.error().message);
  if (first.status) {
    stack::Deployment again = stack::deploy(text, overrides, first.state, provider, ctx);
    if (!again.status) contract_broken("deploying the same template again failed", again.status.error().message);
    for (const auto& change : again.changes)
      if (change.action != stack::ChangeAction::unchanged)
        contract_broken("deploying the same template again changed something", change.logical_id);
  }
  (void)stack::destroy(first.state, provider, ctx);
  return 0;
}
