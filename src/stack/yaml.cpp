// Template text (YAML or JSON) -> JSON in CloudFormation's long form, through yaml-cpp's event
// parser: no yaml-cpp node tree is built, aliases are refused as they arrive, and nesting is
// bounded before yaml-cpp's own recursion gets deep.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <array>
#include <exception>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/util.h"
#include "stack/internal.h"

namespace orderflow::stack {
namespace {

using detail::json::value;
namespace json = detail::json;

// Thrown from the event handler (through yaml-cpp's parser) and caught in parse_template.
struct ParseFailure {
  int line;  // 0-based, as yaml-cpp's Mark
  std::string message;
};

// The short tags of CloudFormation and their long-form keys (Ref and Condition are special).
constexpr std::array<std::string_view, 25> kFunctionTags = {
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Cidr",
    "Transform",
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "ValueOf",
    "ValueOfAll",
    "RefAll",
    "Length",
    "ToJsonString",
    "ForEach",
    "GetAtt",
};

value apply_tag(const std::string& tag, value v, const YAML::Mark& mark) {
  // "?": plain untagged, "!": quoted untagged; the YAML core tags change nothing here (scalars
  // stay strings, see template.h).
  if (tag.empty() || tag == "?" || tag == "!") return v;
  static constexpr std::string_view kCore = "tag:yaml.org,2002:";
  if (tag.starts_with(kCore)) {
    std::string_view t = std::string_view(tag).substr(kCore.size());
    if (t == "str" || t == "int" || t == "float" || t == "bool" || t == "null" || t == "map" ||
        t == "seq") {
      return v;
    }
    throw ParseFailure{mark.line, "unsupported YAML tag !!" + std::string(t)};
  }
  if (tag.size() < 2 || tag[0] != '!') throw ParseFailure{mark.line, "unsupported YAML tag " + tag};
  std::string_view name = std::string_view(tag).substr(1);
  if (name == "Ref") return json::object{{"Ref", std::move(v)}};
  if (name == "Condition") return json::object{{"Condition", std::move(v)}};
  if (name == "GetAtt" && v.is_string()) {
    // !GetAtt Resource.Attribute (the attribute may itself contain dots).
    std::string_view s = v.get_string();
    auto dot = s.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size()) {
      throw ParseFailure{mark.line,
                         "!GetAtt needs Resource.Attribute, got '" + std::string(s) + "'"};
    }
    return json::object{{"Fn::GetAtt", json::array{json::string(s.substr(0, dot)),
                                                   json::string(s.substr(dot + 1))}}};
  }
  for (auto fn : kFunctionTags) {
    if (name == fn) return json::object{{"Fn::" + std::string(fn), std::move(v)}};
  }
  throw ParseFailure{mark.line, "unknown tag " + tag};
}

class Builder final : public YAML::EventHandler {
 public:
  std::optional<value> root;
  int documents = 0;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents > 1) throw ParseFailure{mark.line, "a template is one YAML document"};
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { add(nullptr, mark); }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    throw ParseFailure{mark.line, "YAML aliases are not supported in templates"};
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                const std::string& text) override {
    add(apply_tag(tag, json::string(text), mark), mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    push(json::array(), tag, mark);
  }
  void OnSequenceEnd() override { pop(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    push(json::object(), tag, mark);
  }
  void OnMapEnd() override { pop(); }

 private:
  struct Frame {
    value container;
    std::string tag;
    YAML::Mark mark;
    std::optional<std::string> key;  // a map's key waiting for its value
  };

  void push(value container, const std::string& tag, const YAML::Mark& mark) {
    if (static_cast<int>(stack_.size()) >= kMaxNestingDepth) {
      throw ParseFailure{mark.line,
                         "nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels"};
    }
    stack_.push_back(Frame{std::move(container), tag, mark, std::nullopt});
  }

  void pop() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.key) throw ParseFailure{f.mark.line, "mapping key '" + *f.key + "' has no value"};
    add(apply_tag(f.tag, std::move(f.container), f.mark), f.mark);
  }

  void add(value v, const YAML::Mark& mark) {
    if (stack_.empty()) {
      root = std::move(v);
      return;
    }
    Frame& f = stack_.back();
    if (f.container.is_array()) {
      f.container.get_array().push_back(std::move(v));
      return;
    }
    json::object& o = f.container.get_object();
    if (!f.key) {
      if (!v.is_string()) throw ParseFailure{mark.line, "mapping keys must be plain strings"};
      std::string key(v.get_string());
      if (o.contains(key)) throw ParseFailure{mark.line, "duplicate key '" + key + "'"};
      f.key = std::move(key);
      return;
    }
    o.emplace(*f.key, std::move(v));
    f.key.reset();
  }

  std::vector<Frame> stack_;
};

std::string at_line(int zero_based_line) {
  return zero_based_line >= 0 ? " at line " + std::to_string(zero_based_line + 1) : "";
}

}  // namespace

Result<json::object> parse_template(std::string_view text) {
  if (text.size() > kMaxTemplateBytes) {
    return detail::invalid("Template format error: template is " + std::to_string(text.size()) +
                           " bytes, more than the " + std::to_string(kMaxTemplateBytes) +
                           " allowed");
  }
  if (!is_valid_utf8(text))
    return detail::invalid("Template format error: template is not valid UTF-8");
  Builder builder;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const ParseFailure& f) {
    return detail::invalid("Template format error: " + f.message + at_line(f.line));
  } catch (const YAML::Exception& e) {
    std::string where = e.mark.is_null() ? std::string()
                                         : " at line " + std::to_string(e.mark.line + 1) +
                                               ", column " + std::to_string(e.mark.column + 1);
    return detail::invalid("Template format error: YAML not well-formed" + where + ": " + e.msg);
  } catch (const std::exception& e) {
    return detail::invalid(std::string("Template format error: ") + e.what());
  }
  if (!builder.root || builder.root->is_null()) {
    return detail::invalid("Template format error: template is empty");
  }
  if (!builder.root->is_object()) {
    return detail::invalid("Template format error: a template is a mapping of sections");
  }
  return std::move(builder.root->get_object());
}

}  // namespace orderflow::stack
