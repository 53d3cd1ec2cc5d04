// Intrinsic functions: the evaluator and the static reference pass (internal.h).
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include "common/util.h"
#include "stack/internal.h"

namespace orderflow::stack::detail {

enum class Fn : int {
  none,  // not an intrinsic: a plain object
  ref,
  get_att,
  sub,
  join,
  select,
  split,
  if_,
  find_in_map,
  base64,
  get_azs,
  equals,
  not_,
  and_,
  or_,
  condition,
  contains,
  each_member_equals,
  each_member_in,
};

namespace {

// Expressions nest at most kMaxNestingDepth deep in the text, plus one level per short tag.
constexpr int kMaxEvalDepth = 2 * kMaxNestingDepth + 8;

struct FnName {
  std::string_view name;
  Fn fn;
};

constexpr FnName kFunctions[] = {
    {"Ref", Fn::ref},
    {"Fn::GetAtt", Fn::get_att},
    {"Fn::Sub", Fn::sub},
    {"Fn::Join", Fn::join},
    {"Fn::Select", Fn::select},
    {"Fn::Split", Fn::split},
    {"Fn::If", Fn::if_},
    {"Fn::FindInMap", Fn::find_in_map},
    {"Fn::Base64", Fn::base64},
    {"Fn::GetAZs", Fn::get_azs},
    {"Fn::Equals", Fn::equals},
    {"Fn::Not", Fn::not_},
    {"Fn::And", Fn::and_},
    {"Fn::Or", Fn::or_},
    {"Fn::Contains", Fn::contains},
    {"Fn::EachMemberEquals", Fn::each_member_equals},
    {"Fn::EachMemberIn", Fn::each_member_in},
};

constexpr std::string_view kUnsupported[] = {
    "Fn::ImportValue", "Fn::Cidr",    "Fn::Transform",  "Fn::Length", "Fn::ToJsonString",
    "Fn::ForEach",     "Fn::ValueOf", "Fn::ValueOfAll", "Fn::RefAll", "Fn::GetParam",
};

constexpr std::string_view kPseudo[] = {
    "AWS::Region",    "AWS::AccountId", "AWS::StackName",        "AWS::StackId",
    "AWS::Partition", "AWS::URLSuffix", "AWS::NotificationARNs", "AWS::NoValue",
};

bool is_pseudo(std::string_view name) {
  return std::find(std::begin(kPseudo), std::end(kPseudo), name) != std::end(kPseudo);
}

bool intrinsic_key(std::string_view key) { return key == "Ref" || key.starts_with("Fn::"); }

// What an object is: a plain object (Fn::none), or the intrinsic it calls. `section` decides
// where {"Condition": name} is a function (only in Conditions) and which functions are allowed.
Result<Fn> classify(const json::object& o, Section section) {
  if (o.size() != 1) {
    for (const auto& kv : o) {
      if (intrinsic_key(kv.key())) {
        return invalid(std::string(kv.key()) + " must be the only key of its object");
      }
    }
    return Fn::none;
  }
  std::string_view key = o.begin()->key();
  if (key == "Condition") return section == Section::conditions ? Fn::condition : Fn::none;
  if (!intrinsic_key(key)) return Fn::none;
  for (const auto& f : kFunctions) {
    if (f.name != key) continue;
    bool conditions_only =
        f.fn == Fn::equals || f.fn == Fn::not_ || f.fn == Fn::and_ || f.fn == Fn::or_;
    bool rules_only =
        f.fn == Fn::contains || f.fn == Fn::each_member_equals || f.fn == Fn::each_member_in;
    bool in_conditions = section == Section::conditions || section == Section::rules;
    if (conditions_only && !in_conditions) {
      return invalid(std::string(key) +
                     " can only be used in Conditions and Rules (use Fn::If with a condition)");
    }
    if (rules_only && section != Section::rules)
      return invalid(std::string(key) + " can only be used in Rules");
    if (f.fn == Fn::if_ && in_conditions) {
      return invalid("Fn::If can only be used in Resources and Outputs");
    }
    return f.fn;
  }
  for (auto u : kUnsupported) {
    if (u == key)
      return invalid(std::string(key) + " is not supported by orderflow's local deployment");
  }
  return invalid("unknown intrinsic function " + std::string(key));
}

bool resources_visible(Section s) { return s == Section::resources || s == Section::outputs; }

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// The arguments of a function that takes a list of `min`..`max` of them.
Result<const json::array*> args(const json::value& arg, std::string_view fn, std::size_t min,
                                std::size_t max) {
  const json::array* a = arg.if_array();
  if (a == nullptr || a->size() < min || a->size() > max) {
    std::string n =
        min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
    return invalid(std::string(fn) + " takes a list of " + n + " arguments");
  }
  return a;
}

Result<std::string_view> literal_string(const json::value& v, std::string_view what) {
  if (!v.is_string()) return invalid(std::string(what) + " must be a string");
  return std::string_view(v.get_string());
}

// Fn::GetAtt's arguments: the logical id and the attribute (a string, or an expression).
Result<std::pair<std::string_view, const json::value*>> get_att_args(const json::value& arg) {
  if (arg.is_string()) {  // "Resource.Attribute", as some JSON templates write it
    std::string_view s = arg.get_string();
    auto dot = s.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size()) {
      return invalid("Fn::GetAtt needs [Resource, Attribute], got " + quoted(s));
    }
    return std::pair{s.substr(0, dot), nullptr};
  }
  const json::array* a = arg.if_array();
  if (a == nullptr || a->size() != 2 || !(*a)[0].is_string() ||
      !((*a)[1].is_string() || (*a)[1].is_object())) {
    return invalid("Fn::GetAtt takes [Resource, Attribute]");
  }
  return std::pair{std::string_view((*a)[0].get_string()), &(*a)[1]};
}

// Fn::Sub's forms: "text" or ["text", {var: value}].
Result<std::pair<std::string_view, const json::object*>> sub_args(const json::value& arg) {
  if (arg.is_string()) return std::pair{std::string_view(arg.get_string()), nullptr};
  const json::array* a = arg.if_array();
  if (a == nullptr || a->size() != 2 || !(*a)[0].is_string() || !(*a)[1].is_object()) {
    return invalid("Fn::Sub takes a string or [string, {variable: value}]");
  }
  return std::pair{std::string_view((*a)[0].get_string()), &(*a)[1].get_object()};
}

std::optional<std::uint64_t> parse_index(std::string_view s) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

}  // namespace

Status Budget::charge(std::size_t bytes) {
  if (bytes > remaining) {
    remaining = 0;
    return invalid("template evaluation produces more than " + std::to_string(kMaxEvaluatedBytes) +
                   " bytes of strings");
  }
  remaining -= bytes;
  return {};
}

std::optional<std::string> scalar_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_: {
      char buf[64];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      if (ec != std::errc()) return std::nullopt;
      return std::string(buf, p);
    }
    default:
      return std::nullopt;
  }
}

bool values_equal(const json::value& a, const json::value& b) {
  if (a.is_array() && b.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!values_equal(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object() || b.is_object() || a.is_array() || b.is_array() || a.is_null() ||
      b.is_null()) {
    return a == b;
  }
  return scalar_text(a) == scalar_text(b);
}

bool valid_logical_id(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

Result<std::vector<SubPiece>> parse_sub(std::string_view s) {
  std::vector<SubPiece> pieces;
  std::string literal;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '$' || i + 1 >= s.size() || s[i + 1] != '{') {
      literal += s[i++];
      continue;
    }
    auto close = s.find('}', i + 2);
    if (close == std::string_view::npos) {
      return invalid("Fn::Sub: unterminated ${ in " + quoted(s));
    }
    std::string_view name = s.substr(i + 2, close - i - 2);
    if (name.starts_with('!')) {  // ${!Literal} -> ${Literal}
      literal += "${";
      literal += name.substr(1);
      literal += '}';
      i = close + 1;
      continue;
    }
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) return invalid("Fn::Sub: empty variable ${} in " + quoted(s));
    if (!literal.empty()) pieces.push_back(SubPiece{false, std::move(literal)});
    literal.clear();
    pieces.push_back(SubPiece{true, std::string(name)});
    i = close + 1;
  }
  if (!literal.empty()) pieces.push_back(SubPiece{false, std::move(literal)});
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// The static pass.

namespace {

class ReferenceWalker {
 public:
  ReferenceWalker(const Model& model, Section section, std::set<std::string>& refs)
      : model_(model), section_(section), refs_(refs) {}

  Status walk(const json::value& v, int depth) {
    if (depth > kMaxEvalDepth) return invalid("expression nested too deeply");
    if (const json::array* a = v.if_array()) {
      for (const auto& e : *a) {
        if (auto s = walk(e, depth + 1); !s) return s;
      }
      return {};
    }
    const json::object* o = v.if_object();
    if (o == nullptr) return {};
    auto fn = classify(*o, section_);
    if (!fn) return std::unexpected(fn.error());
    if (*fn == Fn::none) {
      for (const auto& kv : *o) {
        if (auto s = walk(kv.value(), depth + 1); !s) return s;
      }
      return {};
    }
    return call(*fn, o->begin()->key(), o->begin()->value(), depth + 1);
  }

 private:
  Status call(Fn fn, std::string_view name, const json::value& arg, int depth) {
    switch (fn) {
      case Fn::ref: {
        auto target = literal_string(arg, "Ref's target");
        if (!target) return std::unexpected(target.error());
        return name_reference(*target, "Ref");
      }
      case Fn::get_att: {
        auto a = get_att_args(arg);
        if (!a) return std::unexpected(a.error());
        if (auto s = resource_reference(a->first, "Fn::GetAtt"); !s) return s;
        return a->second != nullptr ? walk(*a->second, depth) : Status{};
      }
      case Fn::sub: {
        auto a = sub_args(arg);
        if (!a) return std::unexpected(a.error());
        auto pieces = parse_sub(a->first);
        if (!pieces) return std::unexpected(pieces.error());
        for (const auto& p : *pieces) {
          if (!p.variable || (a->second != nullptr && a->second->contains(p.text))) continue;
          auto dot = p.text.find('.');
          if (dot == std::string::npos) {
            if (p.text == "AWS::NoValue") return invalid("Fn::Sub cannot use ${AWS::NoValue}");
            if (auto s = name_reference(p.text, "Fn::Sub"); !s) return s;
          } else if (auto s =
                         resource_reference(std::string_view(p.text).substr(0, dot), "Fn::Sub");
                     !s) {
            return s;
          }
        }
        if (a->second != nullptr) {
          for (const auto& kv : *a->second) {
            if (auto s = walk(kv.value(), depth); !s) return s;
          }
        }
        return {};
      }
      case Fn::if_: {
        auto a = args(arg, name, 3, 3);
        if (!a) return std::unexpected(a.error());
        auto cond = literal_string((**a)[0], "Fn::If's condition");
        if (!cond) return std::unexpected(cond.error());
        auto it = model_.conditions.find(*cond);
        if (it == model_.conditions.end())
          return invalid("Fn::If: unknown condition " + quoted(*cond));
        return walk((**a)[it->second ? 1 : 2], depth);
      }
      case Fn::condition: {
        auto cond = literal_string(arg, "Condition");
        if (!cond) return std::unexpected(cond.error());
        if (!model_.conditions.contains(*cond))
          return invalid("unknown condition " + quoted(*cond));
        return {};
      }
      case Fn::join:
      case Fn::select:
      case Fn::split:
      case Fn::equals:
      case Fn::contains:
      case Fn::each_member_equals:
      case Fn::each_member_in: {
        auto a = args(arg, name, 2, 2);
        if (!a) return std::unexpected(a.error());
        return walk(arg, depth);
      }
      case Fn::find_in_map: {
        auto a = args(arg, name, 3, 3);
        if (!a) return std::unexpected(a.error());
        return walk(arg, depth);
      }
      case Fn::not_: {
        auto a = args(arg, name, 1, 1);
        if (!a) return std::unexpected(a.error());
        return walk(arg, depth);
      }
      case Fn::and_:
      case Fn::or_: {
        auto a = args(arg, name, 2, 10);
        if (!a) return std::unexpected(a.error());
        return walk(arg, depth);
      }
      case Fn::base64:
      case Fn::get_azs:
        return walk(arg, depth);
      case Fn::none:
        break;
    }
    return {};
  }

  // Ref (or ${name} in Fn::Sub) of a parameter, pseudo parameter or resource.
  Status name_reference(std::string_view name, std::string_view fn) {
    if (is_pseudo(name)) {
      if (name == "AWS::NoValue" && !resources_visible(section_)) {
        return invalid("AWS::NoValue can only be used in Resources and Outputs");
      }
      return {};
    }
    if (model_.parameters.contains(name)) return {};
    if (model_.resource(name) != nullptr) return resource_reference(name, fn);
    return invalid(std::string(fn) + " to unknown parameter or resource " + quoted(name));
  }

  Status resource_reference(std::string_view name, std::string_view fn) {
    const ResourceDecl* r = model_.resource(name);
    if (r == nullptr) return invalid(std::string(fn) + " to unknown resource " + quoted(name));
    if (!resources_visible(section_)) {
      return invalid(std::string(fn) + " to resource " + quoted(name) +
                     ": only parameters can be referenced here");
    }
    if (!r->enabled) {
      return invalid(std::string(fn) + " to resource " + quoted(name) +
                     ", which is not created (its condition " + quoted(*r->condition) +
                     " is false)");
    }
    refs_.insert(std::string(name));
    return {};
  }

  const Model& model_;
  Section section_;
  std::set<std::string>& refs_;
};

}  // namespace

Status collect_references(const json::value& v, const Model& model, Section section,
                          std::set<std::string>& refs) {
  return ReferenceWalker(model, section, refs).walk(v, 0);
}

// ---------------------------------------------------------------------------------------------
// The evaluator.

Result<std::optional<json::value>> Evaluator::eval(const json::value& v, int depth) {
  if (depth > kMaxEvalDepth) return invalid("expression nested too deeply");
  if (const json::array* a = v.if_array()) {
    json::array out;
    out.reserve(a->size());
    for (const auto& e : *a) {
      auto r = eval(e, depth + 1);
      if (!r) return std::unexpected(r.error());
      if (*r) out.push_back(std::move(**r));  // AWS::NoValue drops the element
    }
    return json::value(std::move(out));
  }
  const json::object* o = v.if_object();
  if (o == nullptr) return v;
  auto fn = classify(*o, section_);
  if (!fn) return std::unexpected(fn.error());
  if (*fn == Fn::none) {
    json::object out;
    out.reserve(o->size());
    for (const auto& kv : *o) {
      auto r = eval(kv.value(), depth + 1);
      if (!r) return std::unexpected(r.error());
      if (*r) out.emplace(kv.key(), std::move(**r));  // AWS::NoValue drops the key
    }
    return json::value(std::move(out));
  }
  return call(*fn, o->begin()->key(), o->begin()->value(), depth + 1);
}

Result<json::value> Evaluator::eval_required(const json::value& v, int depth,
                                             std::string_view what) {
  auto r = eval(v, depth);
  if (!r) return std::unexpected(r.error());
  if (!*r) return invalid(std::string(what) + " cannot be AWS::NoValue");
  return std::move(**r);
}

Result<std::string> Evaluator::eval_string(const json::value& v, int depth, std::string_view what) {
  auto r = eval_required(v, depth, what);
  if (!r) return std::unexpected(r.error());
  auto text = scalar_text(*r);
  if (!text) return invalid(std::string(what) + " must be a string, not " + json::serialize(*r));
  return std::move(*text);
}

Result<json::array> Evaluator::eval_list(const json::value& v, int depth, std::string_view what) {
  auto r = eval_required(v, depth, what);
  if (!r) return std::unexpected(r.error());
  if (!r->is_array())
    return invalid(std::string(what) + " must be a list, not " + json::serialize(*r));
  return std::move(r->get_array());
}

Result<bool> Evaluator::eval_bool(const json::value& v, int depth) {
  auto r = eval_required(v, depth, "a condition");
  if (!r) return std::unexpected(r.error());
  if (!r->is_bool()) {
    return invalid(
        "expected a condition (Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition), got " +
        json::serialize(*r));
  }
  return r->get_bool();
}

Result<std::optional<json::value>> Evaluator::call(Fn fn, std::string_view name,
                                                   const json::value& arg, int depth) {
  switch (fn) {
    case Fn::ref: {
      auto target = literal_string(arg, "Ref's target");
      if (!target) return std::unexpected(target.error());
      return ref(*target);
    }
    case Fn::get_att: {
      auto a = get_att_args(arg);
      if (!a) return std::unexpected(a.error());
      std::string attribute;
      if (a->second == nullptr) {
        std::string_view s = arg.get_string();
        attribute = std::string(s.substr(s.find('.') + 1));
      } else {
        auto at = eval_string(*a->second, depth, "Fn::GetAtt's attribute");
        if (!at) return std::unexpected(at.error());
        attribute = std::move(*at);
      }
      auto r = get_att(a->first, attribute);
      if (!r) return std::unexpected(r.error());
      return std::optional<json::value>(std::move(*r));
    }
    case Fn::sub: {
      auto r = sub(arg, depth);
      if (!r) return std::unexpected(r.error());
      return std::optional<json::value>(json::string(*r));
    }
    case Fn::join: {
      auto a = args(arg, name, 2, 2);
      if (!a) return std::unexpected(a.error());
      auto delimiter = eval_string((**a)[0], depth, "Fn::Join's delimiter");
      if (!delimiter) return std::unexpected(delimiter.error());
      auto list = eval_list((**a)[1], depth, "Fn::Join's list");
      if (!list) return std::unexpected(list.error());
      std::string out;
      for (std::size_t i = 0; i < list->size(); ++i) {
        auto text = scalar_text((*list)[i]);
        if (!text)
          return invalid("Fn::Join's list must hold strings, not " + json::serialize((*list)[i]));
        if (i > 0) out += *delimiter;
        out += *text;
      }
      if (auto s = budget_.charge(out.size()); !s) return std::unexpected(s.error());
      return std::optional<json::value>(json::string(out));
    }
    case Fn::select: {
      auto a = args(arg, name, 2, 2);
      if (!a) return std::unexpected(a.error());
      auto index_text = eval_string((**a)[0], depth, "Fn::Select's index");
      if (!index_text) return std::unexpected(index_text.error());
      auto index = parse_index(*index_text);
      if (!index)
        return invalid("Fn::Select's index must be a non-negative integer, not " +
                       quoted(*index_text));
      auto list = eval_list((**a)[1], depth, "Fn::Select's list");
      if (!list) return std::unexpected(list.error());
      if (*index >= list->size()) {
        return invalid("Fn::Select index " + std::to_string(*index) +
                       " is out of bounds for a list of " + std::to_string(list->size()));
      }
      return std::optional<json::value>(std::move((*list)[*index]));
    }
    case Fn::split: {
      auto a = args(arg, name, 2, 2);
      if (!a) return std::unexpected(a.error());
      auto delimiter = eval_string((**a)[0], depth, "Fn::Split's delimiter");
      if (!delimiter) return std::unexpected(delimiter.error());
      if (delimiter->empty()) return invalid("Fn::Split's delimiter cannot be empty");
      auto source = eval_string((**a)[1], depth, "Fn::Split's string");
      if (!source) return std::unexpected(source.error());
      json::array out;
      std::string_view rest = *source;
      for (;;) {
        auto at = rest.find(*delimiter);
        out.emplace_back(json::string(rest.substr(0, at)));
        if (auto s = budget_.charge(16 + std::min(at, rest.size())); !s)
          return std::unexpected(s.error());
        if (at == std::string_view::npos) break;
        rest.remove_prefix(at + delimiter->size());
      }
      return std::optional<json::value>(std::move(out));
    }
    case Fn::if_: {
      auto a = args(arg, name, 3, 3);
      if (!a) return std::unexpected(a.error());
      auto cond = literal_string((**a)[0], "Fn::If's condition");
      if (!cond) return std::unexpected(cond.error());
      auto holds = conditions_(std::string(*cond));
      if (!holds) return std::unexpected(holds.error());
      return eval((**a)[*holds ? 1 : 2], depth);
    }
    case Fn::find_in_map: {
      auto a = args(arg, name, 3, 3);
      if (!a) return std::unexpected(a.error());
      std::string keys[3];
      for (std::size_t i = 0; i < 3; ++i) {
        auto k = eval_string((**a)[i], depth, "Fn::FindInMap's keys");
        if (!k) return std::unexpected(k.error());
        keys[i] = std::move(*k);
      }
      const json::value* map = model_.mappings.if_contains(keys[0]);
      if (map == nullptr) return invalid("Fn::FindInMap: unknown mapping " + quoted(keys[0]));
      const json::value* top = map->get_object().if_contains(keys[1]);
      if (top == nullptr) {
        return invalid("Fn::FindInMap: mapping " + quoted(keys[0]) + " has no key " +
                       quoted(keys[1]));
      }
      const json::value* second = top->get_object().if_contains(keys[2]);
      if (second == nullptr) {
        return invalid("Fn::FindInMap: mapping " + quoted(keys[0]) + " has no key " +
                       quoted(keys[2]) + " under " + quoted(keys[1]));
      }
      return std::optional<json::value>(*second);
    }
    case Fn::base64: {
      auto text = eval_string(arg, depth, "Fn::Base64's argument");
      if (!text) return std::unexpected(text.error());
      std::string out = base64_encode(*text);
      if (auto s = budget_.charge(out.size()); !s) return std::unexpected(s.error());
      return std::optional<json::value>(json::string(out));
    }
    case Fn::get_azs: {
      auto region = eval_string(arg, depth, "Fn::GetAZs's region");
      if (!region) return std::unexpected(region.error());
      std::string r = region->empty() ? model_.pseudo.region : *region;
      return std::optional<json::value>(
          json::array{json::string(r + "a"), json::string(r + "b"), json::string(r + "c")});
    }
    case Fn::equals: {
      auto a = args(arg, name, 2, 2);
      if (!a) return std::unexpected(a.error());
      auto x = eval_required((**a)[0], depth, "Fn::Equals's arguments");
      if (!x) return std::unexpected(x.error());
      auto y = eval_required((**a)[1], depth, "Fn::Equals's arguments");
      if (!y) return std::unexpected(y.error());
      return std::optional<json::value>(values_equal(*x, *y));
    }
    case Fn::not_: {
      auto a = args(arg, name, 1, 1);
      if (!a) return std::unexpected(a.error());
      auto b = eval_bool((**a)[0], depth);
      if (!b) return std::unexpected(b.error());
      return std::optional<json::value>(!*b);
    }
    case Fn::and_:
    case Fn::or_: {
      auto a = args(arg, name, 2, 10);
      if (!a) return std::unexpected(a.error());
      bool is_and = fn == Fn::and_;
      bool result = is_and;
      for (const auto& c : **a) {  // every argument is evaluated (and so checked)
        auto b = eval_bool(c, depth);
        if (!b) return std::unexpected(b.error());
        result = is_and ? (result && *b) : (result || *b);
      }
      return std::optional<json::value>(result);
    }
    case Fn::condition: {
      auto cond = literal_string(arg, "Condition");
      if (!cond) return std::unexpected(cond.error());
      auto holds = conditions_(std::string(*cond));
      if (!holds) return std::unexpected(holds.error());
      return std::optional<json::value>(*holds);
    }
    case Fn::contains:
    case Fn::each_member_equals:
    case Fn::each_member_in: {
      auto a = args(arg, name, 2, 2);
      if (!a) return std::unexpected(a.error());
      auto list = eval_list((**a)[0], depth, std::string(name) + "'s first argument");
      if (!list) return std::unexpected(list.error());
      if (fn == Fn::each_member_in) {
        auto allowed = eval_list((**a)[1], depth, "Fn::EachMemberIn's second argument");
        if (!allowed) return std::unexpected(allowed.error());
        bool all = std::all_of(list->begin(), list->end(), [&](const json::value& m) {
          return std::any_of(allowed->begin(), allowed->end(),
                             [&](const json::value& x) { return values_equal(m, x); });
        });
        return std::optional<json::value>(all);
      }
      auto x = eval_required((**a)[1], depth, std::string(name) + "'s second argument");
      if (!x) return std::unexpected(x.error());
      auto same = [&](const json::value& m) { return values_equal(m, *x); };
      bool result = fn == Fn::contains ? std::any_of(list->begin(), list->end(), same)
                                       : std::all_of(list->begin(), list->end(), same);
      return std::optional<json::value>(result);
    }
    case Fn::none:
      break;
  }
  return invalid("internal: " + std::string(name) + " is not a function");
}

Result<std::optional<json::value>> Evaluator::ref(std::string_view name) {
  const Pseudo& p = model_.pseudo;
  if (name == "AWS::NoValue") {
    if (!resources_visible(section_))
      return invalid("AWS::NoValue can only be used in Resources and Outputs");
    return std::optional<json::value>();
  }
  if (name == "AWS::Region") return std::optional<json::value>(json::string(p.region));
  if (name == "AWS::AccountId") return std::optional<json::value>(json::string(p.account_id));
  if (name == "AWS::StackName") return std::optional<json::value>(json::string(p.stack_name));
  if (name == "AWS::StackId") return std::optional<json::value>(json::string(p.stack_id));
  if (name == "AWS::Partition") return std::optional<json::value>(json::string(p.partition));
  if (name == "AWS::URLSuffix") return std::optional<json::value>(json::string(p.url_suffix));
  if (name == "AWS::NotificationARNs") return std::optional<json::value>(json::array());
  if (auto it = model_.parameters.find(name); it != model_.parameters.end()) {
    return std::optional<json::value>(it->second.value);
  }
  if (!resources_visible(section_)) {
    return invalid("Ref to " + quoted(name) + ": only parameters can be referenced here");
  }
  if (model_.resource(name) != nullptr) {
    if (resources_ == nullptr) {
      return invalid("Ref to resource " + quoted(name) +
                     ": only parameters can be referenced here");
    }
    auto it = resources_->find(name);
    if (it == resources_->end())
      return invalid("Ref to resource " + quoted(name) + ", which does not exist");
    return std::optional<json::value>(json::string(it->second.physical_id));
  }
  return invalid("Ref to unknown parameter or resource " + quoted(name));
}

Result<json::value> Evaluator::get_att(std::string_view logical_id, std::string_view attribute) {
  if (!resources_visible(section_)) {
    return invalid("Fn::GetAtt to " + quoted(logical_id) +
                   ": only parameters can be referenced here");
  }
  if (model_.resource(logical_id) == nullptr) {
    return invalid("Fn::GetAtt to unknown resource " + quoted(logical_id));
  }
  if (resources_ == nullptr) {
    return invalid("Fn::GetAtt to resource " + quoted(logical_id) +
                   ": only parameters can be referenced here");
  }
  auto it = resources_->find(logical_id);
  if (it == resources_->end()) {
    return invalid("Fn::GetAtt to resource " + quoted(logical_id) + ", which does not exist");
  }
  const ResourceState& r = it->second;
  auto at = r.attributes.find(std::string(attribute));
  if (at == r.attributes.end()) {
    std::string known;
    for (const auto& [k, v] : r.attributes) known += (known.empty() ? "" : ", ") + k;
    return invalid("Fn::GetAtt: " + r.type + " " + quoted(logical_id) + " has no attribute " +
                   quoted(attribute) + " (it has: " + (known.empty() ? "none" : known) + ")");
  }
  return at->second;
}

Result<std::string> Evaluator::sub(const json::value& arg, int depth) {
  auto a = sub_args(arg);
  if (!a) return std::unexpected(a.error());
  auto pieces = parse_sub(a->first);
  if (!pieces) return std::unexpected(pieces.error());
  std::string out;
  for (const auto& p : *pieces) {
    if (!p.variable) {
      out += p.text;
      continue;
    }
    json::value v;
    if (a->second != nullptr && a->second->contains(p.text)) {
      auto r = eval_required(a->second->at(p.text), depth, "Fn::Sub variable " + quoted(p.text));
      if (!r) return std::unexpected(r.error());
      v = std::move(*r);
    } else if (auto dot = p.text.find('.'); dot != std::string::npos) {
      auto r = get_att(std::string_view(p.text).substr(0, dot),
                       std::string_view(p.text).substr(dot + 1));
      if (!r) return std::unexpected(r.error());
      v = std::move(*r);
    } else {
      if (p.text == "AWS::NoValue") return invalid("Fn::Sub cannot use ${AWS::NoValue}");
      auto r = ref(p.text);
      if (!r) return std::unexpected(r.error());
      v = std::move(**r);
    }
    auto text = scalar_text(v);
    if (!text)
      return invalid("Fn::Sub: ${" + p.text + "} is not a string but " + json::serialize(v));
    out += *text;
  }
  if (auto s = budget_.charge(out.size()); !s) return std::unexpected(s.error());
  return out;
}

}  // namespace orderflow::stack::detail
