// Loading a template: sections, parameters, mappings, conditions, rules, resources, outputs and
// the dependency order (internal.h); and the small public helpers of template.h.
#include "stack/template.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/regex.hpp>
#include <charconv>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "common/util.h"
#include "stack/internal.h"

namespace orderflow::stack {
namespace detail {
namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

constexpr std::string_view kSections[] = {
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Resources",
    "Outputs",
};

constexpr std::string_view kParameterKeys[] = {
    "Type",          "Default",        "Description",
    "AllowedValues", "AllowedPattern", "ConstraintDescription",
    "MaxLength",     "MinLength",      "MaxValue",
    "MinValue",      "NoEcho",
};

constexpr std::string_view kResourceKeys[] = {
    "Type",      "Properties",     "Condition",
    "DependsOn", "DeletionPolicy", "UpdateReplacePolicy",
    "Metadata",  "CreationPolicy", "UpdatePolicy",
};

constexpr std::string_view kOutputKeys[] = {"Value", "Description", "Export", "Condition"};

template <std::size_t N>
bool one_of(std::string_view s, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

template <std::size_t N>
Status only_keys(const json::object& o, const std::string_view (&allowed)[N],
                 std::string_view what) {
  for (const auto& kv : o) {
    if (!one_of(kv.key(), allowed))
      return invalid("unknown " + std::string(what) + " " + quoted(kv.key()));
  }
  return {};
}

// A section that must be a mapping (absent: nullptr).
Result<const json::object*> section(const json::object& root, std::string_view name) {
  const json::value* v = root.if_contains(name);
  if (v == nullptr) return nullptr;
  if (!v->is_object())
    return invalid("Template format error: " + std::string(name) + " must be a mapping");
  return &v->get_object();
}

std::optional<double> parse_number(std::string_view s) {
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d))
    return std::nullopt;
  return d;
}

// Characters (code points) of valid UTF-8, as CloudFormation counts MinLength and MaxLength.
std::size_t characters(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// A number-valued key of a parameter declaration (MinLength: 3).
Result<std::optional<double>> declared_number(const json::object& decl, std::string_view key) {
  const json::value* v = decl.if_contains(key);
  if (v == nullptr) return std::nullopt;
  auto text = scalar_text(*v);
  auto n = text ? parse_number(*text) : std::nullopt;
  if (!n) return invalid(std::string(key) + " must be a number");
  return n;
}

// One parameter: its value from the overrides or its Default, checked against its constraints.
Result<Parameter> load_parameter(const std::string& name, const json::value& decl_value,
                                 const ParameterOverrides& overrides) {
  const json::object* decl = decl_value.if_object();
  if (decl == nullptr) return invalid("must be a mapping with a Type");
  if (auto s = only_keys(*decl, kParameterKeys, "parameter attribute"); !s)
    return std::unexpected(s.error());
  const json::value* type_v = decl->if_contains("Type");
  if (type_v == nullptr || !type_v->is_string())
    return invalid("Type is required and must be a string");
  Parameter p;
  p.type = std::string(type_v->get_string());
  const bool is_list = p.type == "List<Number>" || p.type == "CommaDelimitedList";
  const bool numeric = p.type == "Number" || p.type == "List<Number>";
  if (p.type != "String" && p.type != "Number" && !is_list) {
    if (p.type.starts_with("AWS::") || p.type.starts_with("List<AWS::")) {
      return invalid("Type " + p.type +
                     " is not supported by orderflow's local deployment (use String)");
    }
    return invalid("unknown Type " + quoted(p.type));
  }
  if (const json::value* no_echo = decl->if_contains("NoEcho")) {
    auto t = scalar_text(*no_echo);
    if (!t || (*t != "true" && *t != "false")) return invalid("NoEcho must be true or false");
    p.no_echo = *t == "true";
  }
  if (auto it = overrides.find(name); it != overrides.end()) {
    p.text = it->second;
  } else if (const json::value* d = decl->if_contains("Default")) {
    auto t = scalar_text(*d);
    if (!t) return invalid("Default must be a string");
    p.text = std::move(*t);
  } else {
    return invalid("must have a value (no Default and none given)");
  }
  if (p.text.size() > kMaxParameterValueBytes) {
    return invalid("value is longer than " + std::to_string(kMaxParameterValueBytes) + " bytes");
  }
  if (!is_valid_utf8(p.text)) return invalid("value is not valid UTF-8");

  std::vector<std::string> members;
  if (is_list) {
    std::string_view rest = p.text;
    for (;;) {
      auto comma = rest.find(',');
      members.push_back(trim(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  } else {
    members.push_back(p.text);
  }

  // Constraints apply to the value, or to each member of a list.
  std::string constraint;
  if (const json::value* c = decl->if_contains("ConstraintDescription"))
    constraint = scalar_text(*c).value_or("");
  auto failed = [&](std::string what) {
    return invalid("value " + quoted(p.text) + " " + (constraint.empty() ? what : constraint));
  };
  std::vector<std::string> allowed;
  if (const json::value* av = decl->if_contains("AllowedValues")) {
    if (!av->is_array() || av->get_array().empty())
      return invalid("AllowedValues must be a non-empty list");
    for (const auto& a : av->get_array()) {
      auto t = scalar_text(a);
      if (!t) return invalid("AllowedValues must hold strings");
      allowed.push_back(std::move(*t));
    }
  }
  std::optional<boost::regex> pattern;
  if (const json::value* pv = decl->if_contains("AllowedPattern")) {
    auto t = scalar_text(*pv);
    if (!t) return invalid("AllowedPattern must be a string");
    try {
      pattern.emplace(*t, boost::regex::perl);
    } catch (const std::exception& e) {
      return invalid("AllowedPattern " + quoted(*t) +
                     " is not a valid regular expression: " + e.what());
    }
  }
  auto min_len = declared_number(*decl, "MinLength");
  auto max_len = declared_number(*decl, "MaxLength");
  auto min_val = declared_number(*decl, "MinValue");
  auto max_val = declared_number(*decl, "MaxValue");
  for (auto* r : {&min_len, &max_len, &min_val, &max_val}) {
    if (!*r) return std::unexpected(r->error());
  }
  const std::optional<double> min_length = *min_len, max_length = *max_len, min_value = *min_val,
                              max_value = *max_val;
  for (const auto& m : members) {
    if (numeric && !parse_number(m)) return failed("must be a number");
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), m) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return failed("must be one of the AllowedValues [" + list + "]");
    }
    if (pattern) {
      try {
        if (!boost::regex_match(m, *pattern))
          return failed("must match the AllowedPattern " + pattern->str());
      } catch (const std::exception& e) {
        return invalid("AllowedPattern cannot be checked: " + std::string(e.what()));
      }
    }
    if (min_length && static_cast<double>(characters(m)) < *min_length) {
      return failed("must be at least " + *scalar_text(decl->at("MinLength")) + " characters long");
    }
    if (max_length && static_cast<double>(characters(m)) > *max_length) {
      return failed("must be at most " + *scalar_text(decl->at("MaxLength")) + " characters long");
    }
    if (numeric && min_value && *parse_number(m) < *min_value) {
      return failed("must be at least " + *scalar_text(decl->at("MinValue")));
    }
    if (numeric && max_value && *parse_number(m) > *max_value) {
      return failed("must be at most " + *scalar_text(decl->at("MaxValue")));
    }
  }
  if (is_list) {
    json::array a;
    for (auto& m : members) a.emplace_back(json::string(m));
    p.value = std::move(a);
  } else {
    p.value = json::string(p.text);
  }
  return p;
}

Status load_mappings(const json::object& mappings) {
  if (mappings.size() > kMaxMappings) {
    return invalid("more than " + std::to_string(kMaxMappings) + " mappings");
  }
  for (const auto& [name, map] : mappings) {
    std::string where = "Mapping " + std::string(name);
    if (!valid_logical_id(name)) return invalid(where + ": names are alphanumeric");
    if (!map.is_object() || map.get_object().empty())
      return invalid(where + ": must be a non-empty mapping");
    for (const auto& [key, second] : map.get_object()) {
      if (!second.is_object() || second.get_object().empty()) {
        return invalid(where + ": " + quoted(key) + " must be a non-empty mapping");
      }
      for (const auto& [key2, v] : second.get_object()) {
        bool ok = scalar_text(v).has_value();
        if (const json::array* a = v.if_array()) {
          ok = std::all_of(a->begin(), a->end(),
                           [](const json::value& e) { return scalar_text(e).has_value(); });
        }
        if (!ok)
          return invalid(where + ": " + quoted(key) + "." + quoted(key2) +
                         " must be a string or a list of strings");
      }
    }
  }
  return {};
}

// Evaluates every condition (lazily, each once, detecting cycles).
Status load_conditions(Model& model, const json::object& conditions, Budget& budget) {
  std::vector<std::string> stack;  // conditions being evaluated, outermost first
  bool error_located = false;      // the innermost failing condition names itself
  ConditionLookup lookup;
  lookup = [&](const std::string& name) -> Result<bool> {
    if (auto it = model.conditions.find(name); it != model.conditions.end()) return it->second;
    const json::value* decl = conditions.if_contains(name);
    if (decl == nullptr) return invalid("unknown condition " + quoted(name));
    if (auto at = std::find(stack.begin(), stack.end(), name); at != stack.end()) {
      std::string cycle;
      for (auto i = at; i != stack.end(); ++i) cycle += (cycle.empty() ? "" : ", ") + *i;
      return invalid("Circular dependency between conditions: [" + cycle + "]");
    }
    if (stack.size() >= static_cast<std::size_t>(kMaxNestingDepth)) {
      return invalid("conditions refer to each other more than " +
                     std::to_string(kMaxNestingDepth) + " deep");
    }
    stack.push_back(name);
    Evaluator ev(model, Section::conditions, lookup, nullptr, budget);
    auto r = ev.eval_bool(*decl);
    stack.pop_back();
    if (!r) {
      if (error_located) return std::unexpected(r.error());
      error_located = true;
      return std::unexpected(located("Condition " + name, r.error()));
    }
    model.conditions.emplace(name, *r);
    return *r;
  };
  for (const auto& kv : conditions) {
    std::string name(kv.key());
    if (!valid_logical_id(name)) return invalid("Condition " + name + ": names are alphanumeric");
    if (auto r = lookup(name); !r) return std::unexpected(r.error());
  }
  return {};
}

Status check_rules(const Model& model, const json::object& rules, Budget& budget) {
  ConditionLookup no_conditions = [](const std::string& name) -> Result<bool> {
    return invalid("Rules cannot use conditions (" + quoted(name) + ")");
  };
  for (const auto& [name, rule_v] : rules) {
    std::string where = "Rule " + std::string(name);
    const json::object* rule = rule_v.if_object();
    if (rule == nullptr) return invalid(where + ": must be a mapping");
    for (const auto& kv : *rule) {
      if (kv.key() != "RuleCondition" && kv.key() != "Assertions") {
        return invalid(where + ": unknown key " + quoted(kv.key()));
      }
    }
    Evaluator ev(model, Section::rules, no_conditions, nullptr, budget);
    if (const json::value* c = rule->if_contains("RuleCondition")) {
      auto holds = ev.eval_bool(*c);
      if (!holds) return std::unexpected(located(where, holds.error()));
      if (!*holds) continue;
    }
    const json::value* assertions = rule->if_contains("Assertions");
    if (assertions == nullptr || !assertions->is_array())
      return invalid(where + ": Assertions must be a list");
    for (const auto& a : assertions->get_array()) {
      const json::object* assertion = a.if_object();
      if (assertion == nullptr || !assertion->contains("Assert")) {
        return invalid(where + ": each assertion is a mapping with Assert");
      }
      auto ok = ev.eval_bool(assertion->at("Assert"));
      if (!ok) return std::unexpected(located(where, ok.error()));
      if (!*ok) {
        std::string description = "assertion failed";
        if (const json::value* d = assertion->if_contains("AssertDescription")) {
          description = scalar_text(*d).value_or(description);
        }
        return invalid(where + ": " + description);
      }
    }
  }
  return {};
}

Result<std::vector<std::string>> name_list(const json::value& v, std::string_view what) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.emplace_back(v.get_string());
    return out;
  }
  if (const json::array* a = v.if_array()) {
    for (const auto& e : *a) {
      if (!e.is_string()) return invalid(std::string(what) + " must be a name or a list of names");
      out.emplace_back(e.get_string());
    }
    return out;
  }
  return invalid(std::string(what) + " must be a name or a list of names");
}

Result<std::string> policy(const json::object& decl, std::string_view key) {
  const json::value* v = decl.if_contains(key);
  if (v == nullptr) return std::string("Delete");
  auto t = v->is_string() ? std::optional<std::string>(std::string(v->get_string())) : std::nullopt;
  if (!t ||
      (*t != "Delete" && *t != "Retain" && *t != "Snapshot" && *t != "RetainExceptOnCreate")) {
    return invalid(std::string(key) + " must be Delete, Retain, Snapshot or RetainExceptOnCreate");
  }
  // No snapshots locally; no rollback either, so RetainExceptOnCreate always retains.
  if (*t == "Snapshot") return std::string("Delete");
  if (*t == "RetainExceptOnCreate") return std::string("Retain");
  return *t;
}

Status load_resources(Model& model, const json::object& resources) {
  if (resources.empty()) return invalid("Template format error: at least one resource is required");
  if (resources.size() > kMaxResources) {
    return invalid("Template format error: more than " + std::to_string(kMaxResources) +
                   " resources");
  }
  for (const auto& [id, decl_v] : resources) {
    std::string where = "Resource " + std::string(id);
    if (!valid_logical_id(id)) return invalid(where + ": logical ids are alphanumeric");
    if (model.parameters.contains(id)) return invalid(where + ": a parameter has the same name");
    const json::object* decl = decl_v.if_object();
    if (decl == nullptr) return invalid(where + ": must be a mapping with a Type");
    if (auto s = only_keys(*decl, kResourceKeys, "resource attribute"); !s)
      return std::unexpected(located(where, s.error()));
    ResourceDecl r;
    r.logical_id = std::string(id);
    const json::value* type = decl->if_contains("Type");
    if (type == nullptr || !type->is_string() || type->get_string().empty()) {
      return invalid(where + ": Type is required and must be a string");
    }
    r.type = std::string(type->get_string());
    if (const json::value* c = decl->if_contains("Condition")) {
      if (!c->is_string()) return invalid(where + ": Condition must be a condition's name");
      auto it = model.conditions.find(std::string_view(c->get_string()));
      if (it == model.conditions.end())
        return invalid(where + ": unknown condition " + quoted(c->get_string()));
      r.condition = std::string(c->get_string());
      r.enabled = it->second;
    }
    if (const json::value* d = decl->if_contains("DependsOn")) {
      auto names = name_list(*d, "DependsOn");
      if (!names) return std::unexpected(located(where, names.error()));
      r.depends_on = std::move(*names);
    }
    if (const json::value* p = decl->if_contains("Properties")) {
      if (!p->is_object() && !p->is_null())
        return invalid(where + ": Properties must be a mapping");
      r.properties = *p;
    }
    auto deletion = policy(*decl, "DeletionPolicy");
    if (!deletion) return std::unexpected(located(where, deletion.error()));
    auto replace = policy(*decl, "UpdateReplacePolicy");
    if (!replace) return std::unexpected(located(where, replace.error()));
    r.deletion_policy = std::move(*deletion);
    r.update_replace_policy = std::move(*replace);
    model.resource_index.emplace(r.logical_id, model.resources.size());
    model.resources.push_back(std::move(r));
  }
  // References, now that every resource is known.
  for (auto& r : model.resources) {
    std::string where = "Resource " + r.logical_id;
    std::set<std::string> deps;
    for (const auto& d : r.depends_on) {
      const ResourceDecl* target = model.resource(d);
      if (target == nullptr) return invalid(where + ": DependsOn unknown resource " + quoted(d));
      if (r.enabled && !target->enabled) {
        return invalid(where + ": DependsOn " + quoted(d) +
                       ", which is not created (its condition " + quoted(*target->condition) +
                       " is false)");
      }
      deps.insert(d);
    }
    if (!r.enabled) continue;
    if (auto s = collect_references(r.properties, model, Section::resources, deps); !s) {
      return std::unexpected(located(where, s.error()));
    }
    r.dependencies.assign(deps.begin(), deps.end());
  }
  return {};
}

Status load_outputs(Model& model, const json::object& outputs) {
  if (outputs.size() > kMaxOutputs) {
    return invalid("Template format error: more than " + std::to_string(kMaxOutputs) + " outputs");
  }
  for (const auto& [key, decl_v] : outputs) {
    std::string where = "Output " + std::string(key);
    if (!valid_logical_id(key)) return invalid(where + ": names are alphanumeric");
    const json::object* decl = decl_v.if_object();
    if (decl == nullptr || !decl->contains("Value"))
      return invalid(where + ": must be a mapping with a Value");
    if (auto s = only_keys(*decl, kOutputKeys, "output attribute"); !s)
      return std::unexpected(located(where, s.error()));
    OutputDecl o;
    o.key = std::string(key);
    o.value = decl->at("Value");
    if (const json::value* d = decl->if_contains("Description")) {
      auto t = scalar_text(*d);
      if (!t) return invalid(where + ": Description must be a string");
      o.description = std::move(*t);
    }
    if (const json::value* c = decl->if_contains("Condition")) {
      auto it = c->is_string() ? model.conditions.find(std::string_view(c->get_string()))
                               : model.conditions.end();
      if (it == model.conditions.end()) return invalid(where + ": Condition must name a condition");
      o.enabled = it->second;
    }
    if (o.enabled) {
      std::set<std::string> refs;
      if (auto s = collect_references(o.value, model, Section::outputs, refs); !s) {
        return std::unexpected(located(where, s.error()));
      }
    }
    model.outputs.push_back(std::move(o));
  }
  return {};
}

// Kahn's algorithm over the enabled resources; among ready ones, template order first.
Status order_resources(Model& model) {
  const std::size_t n = model.resources.size();
  std::vector<bool> done(n, false);
  std::size_t remaining = 0;
  for (const auto& r : model.resources) remaining += r.enabled ? 1 : 0;
  auto ready = [&](std::size_t i) {
    for (const auto& d : model.resources[i].dependencies) {
      if (!done[model.resource_index.at(d)]) return false;
    }
    return true;
  };
  while (remaining > 0) {
    bool progressed = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (!model.resources[i].enabled || done[i] || !ready(i)) continue;
      done[i] = true;
      model.order.push_back(i);
      --remaining;
      progressed = true;
      break;  // restart: keeps ties in template order
    }
    if (progressed) continue;
    // Every resource left waits for another one left: walk the waits until one repeats.
    std::vector<std::size_t> path;
    std::size_t at = 0;
    while (!model.resources[at].enabled || done[at]) ++at;
    for (;;) {
      if (auto seen = std::find(path.begin(), path.end(), at); seen != path.end()) {
        std::string names;
        for (auto i = seen; i != path.end(); ++i)
          names += (names.empty() ? "" : ", ") + model.resources[*i].logical_id;
        return invalid("Circular dependency between resources: [" + names + "]");
      }
      path.push_back(at);
      for (const auto& d : model.resources[at].dependencies) {
        std::size_t j = model.resource_index.at(d);
        if (!done[j]) {
          at = j;
          break;
        }
      }
    }
  }
  return {};
}

}  // namespace

Result<Model> load_model(std::string_view template_text, const ParameterOverrides& overrides,
                         const Pseudo& pseudo) {
  auto parsed = parse_template(template_text);
  if (!parsed) return std::unexpected(parsed.error());
  const json::object& root = *parsed;
  for (const auto& kv : root) {
    if (kv.key() == "Transform") {
      return invalid(
          "Template format error: Transform (macros, AWS::Serverless) is not supported by "
          "orderflow's local deployment");
    }
    if (!one_of(kv.key(), kSections)) {
      return invalid("Template format error: unknown section " + quoted(kv.key()));
    }
  }
  if (const json::value* v = root.if_contains("AWSTemplateFormatVersion")) {
    if (!v->is_string() || v->get_string() != "2010-09-09") {
      return invalid("Template format error: AWSTemplateFormatVersion must be \"2010-09-09\"");
    }
  }
  if (const json::value* d = root.if_contains("Description")) {
    if (!d->is_string()) return invalid("Template format error: Description must be a string");
    if (d->get_string().size() > 1024)
      return invalid("Template format error: Description is longer than 1024 bytes");
  }

  Model model;
  model.pseudo = pseudo;
  Budget budget;

  auto params = section(root, "Parameters");
  if (!params) return std::unexpected(params.error());
  if (*params != nullptr) {
    if ((*params)->size() > kMaxParameters) {
      return invalid("Template format error: more than " + std::to_string(kMaxParameters) +
                     " parameters");
    }
    for (const auto& [name, decl] : **params) {
      std::string n(name);
      if (!valid_logical_id(n)) return invalid("Parameter " + n + ": names are alphanumeric");
      auto p = load_parameter(n, decl, overrides);
      if (!p) return std::unexpected(located("Parameter " + n, p.error()));
      model.parameters.emplace(n, std::move(*p));
    }
  }
  for (const auto& [name, value] : overrides) {
    if (!model.parameters.contains(name)) {
      return invalid("Parameter " + name +
                     " is given a value but the template does not declare it");
    }
  }

  auto mappings = section(root, "Mappings");
  if (!mappings) return std::unexpected(mappings.error());
  if (*mappings != nullptr) {
    if (auto s = load_mappings(**mappings); !s) return std::unexpected(s.error());
    model.mappings = **mappings;
  }

  auto conditions = section(root, "Conditions");
  if (!conditions) return std::unexpected(conditions.error());
  if (*conditions != nullptr) {
    if (auto s = load_conditions(model, **conditions, budget); !s)
      return std::unexpected(s.error());
  }

  auto rules = section(root, "Rules");
  if (!rules) return std::unexpected(rules.error());
  if (*rules != nullptr) {
    if (auto s = check_rules(model, **rules, budget); !s) return std::unexpected(s.error());
  }

  auto resources = section(root, "Resources");
  if (!resources) return std::unexpected(resources.error());
  if (*resources == nullptr) return invalid("Template format error: a template needs Resources");
  if (auto s = load_resources(model, **resources); !s) return std::unexpected(s.error());

  auto outputs = section(root, "Outputs");
  if (!outputs) return std::unexpected(outputs.error());
  if (*outputs != nullptr) {
    if (auto s = load_outputs(model, **outputs); !s) return std::unexpected(s.error());
  }

  if (auto s = order_resources(model); !s) return std::unexpected(s.error());
  return model;
}

}  // namespace detail

std::string DeployContext::generated_name(std::string_view logical_id,
                                          std::size_t max_length) const {
  constexpr std::size_t kRandom = 13;
  std::string suffix;
  if (random_chars) {
    suffix = random_chars(kRandom);
  } else {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    while (suffix.size() < kRandom) {
      for (unsigned char b : random_bytes(2 * kRandom)) {
        if (b < 252 && suffix.size() < kRandom)
          suffix += kAlphabet[b % 36];  // 252 = 7 x 36: unbiased
      }
    }
  }
  if (max_length <= kRandom + 2) return suffix.substr(0, max_length);
  const std::size_t room = max_length - kRandom - 1;  // for "<stack>-<logical>"
  std::string_view stack = stack_name;
  if (stack.size() + 1 + logical_id.size() > room) {
    const std::size_t both = room - 1;  // without the '-' between them
    std::size_t stack_part =
        std::min(stack.size(), std::max(both / 2, both - std::min(both, logical_id.size())));
    std::size_t logical_part = std::min(logical_id.size(), both - stack_part);
    stack = stack.substr(0, stack_part);
    logical_id = logical_id.substr(0, logical_part);
  }
  return std::string(stack) + "-" + std::string(logical_id) + "-" + suffix;
}

Result<std::vector<std::string>> validate_template(std::string_view template_text,
                                                   const ParameterOverrides& overrides,
                                                   const DeployContext& ctx) {
  detail::Pseudo pseudo{ctx.region,   ctx.account_id, ctx.stack_name,
                        ctx.stack_id, ctx.partition,  ctx.url_suffix};
  auto model = detail::load_model(template_text, overrides, pseudo);
  if (!model) return std::unexpected(model.error());
  std::vector<std::string> ids;
  for (auto i : model->order) ids.push_back(model->resources[i].logical_id);
  return ids;
}

Result<std::optional<std::string>> string_property(const boost::json::object& properties,
                                                   std::string_view name) {
  const boost::json::value* v = properties.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  auto t = detail::scalar_text(*v);
  if (!t) return detail::invalid("Property " + std::string(name) + " must be a string");
  return t;
}

Result<std::optional<std::int64_t>> int_property(const boost::json::object& properties,
                                                 std::string_view name) {
  const boost::json::value* v = properties.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  auto bad = [&] {
    return detail::invalid("Property " + std::string(name) + " must be an integer, not " +
                           boost::json::serialize(*v));
  };
  switch (v->kind()) {
    case boost::json::kind::int64:
      return v->get_int64();
    case boost::json::kind::uint64:
      if (v->get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return bad();
      return static_cast<std::int64_t>(v->get_uint64());
    case boost::json::kind::double_: {
      double d = v->get_double();
      if (d != std::floor(d) || std::abs(d) > 9.0e18) return bad();
      return static_cast<std::int64_t>(d);
    }
    case boost::json::kind::string: {
      std::string_view s = v->get_string();
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return bad();
      return n;
    }
    default:
      return bad();
  }
}

Result<std::optional<bool>> bool_property(const boost::json::object& properties,
                                          std::string_view name) {
  const boost::json::value* v = properties.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_bool()) return v->get_bool();
  if (v->is_string()) {
    std::string s(v->get_string());
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return detail::invalid("Property " + std::string(name) + " must be true or false, not " +
                         boost::json::serialize(*v));
}

}  // namespace orderflow::stack
