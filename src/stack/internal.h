// Internals of the stack layer, shared by its .cpp files (and white-box tests). Not a contract:
// other layers include stack/template.h only.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "stack/template.h"

namespace orderflow::stack::detail {

namespace json = boost::json;

inline std::unexpected<Error> invalid(std::string message) {
  return fail(ErrorCode::validation_error, std::move(message));
}

// An error with `where` ("Resource OrderQueue") in front of its message.
inline Error located(std::string_view where, Error e) {
  e.message = std::string(where) + ": " + e.message;
  return e;
}

// Values of the pseudo parameters.
struct Pseudo {
  std::string region, account_id, stack_name, stack_id, partition, url_suffix;
};

struct Parameter {
  std::string type;
  json::value value;  // what Ref returns: a string, or an array of strings for list types
  std::string text;   // the value as given
  bool no_echo = false;
};

struct ResourceDecl {
  std::string logical_id;
  std::string type;
  std::optional<std::string> condition;
  bool enabled = true;                  // its Condition holds
  std::vector<std::string> depends_on;  // DependsOn as written
  json::value properties;               // as written (null: none)
  std::string deletion_policy = "Delete";
  std::string update_replace_policy = "Delete";
  std::vector<std::string> dependencies;  // DependsOn and references; enabled resources only
};

struct OutputDecl {
  std::string key;
  json::value value;
  std::string description;
  bool enabled = true;
};

// A validated template with its parameters and conditions evaluated.
struct Model {
  Pseudo pseudo;
  std::map<std::string, Parameter, std::less<>> parameters;
  json::object mappings;
  std::map<std::string, bool, std::less<>> conditions;
  std::vector<ResourceDecl> resources;  // template order, enabled or not
  std::map<std::string, std::size_t, std::less<>> resource_index;
  std::vector<OutputDecl> outputs;
  std::vector<std::size_t> order;  // enabled resources, in dependency order

  const ResourceDecl* resource(std::string_view logical_id) const {
    auto it = resource_index.find(logical_id);
    return it == resource_index.end() ? nullptr : &resources[it->second];
  }
};

// Parses, validates and evaluates everything but the resources' properties and the outputs.
Result<Model> load_model(std::string_view template_text, const ParameterOverrides& overrides,
                         const Pseudo& pseudo);

// Which part of the template an expression is in; decides what it may use.
enum class Section { conditions, rules, resources, outputs };

// Bytes the string-building intrinsics may still produce.
struct Budget {
  std::size_t remaining = kMaxEvaluatedBytes;
  Status charge(std::size_t bytes);
};

// The intrinsic function an object calls (intrinsics.cpp).
enum class Fn : int;

using ConditionLookup = std::function<Result<bool>(const std::string& name)>;
using ResourceStates = std::map<std::string, ResourceState, std::less<>>;

// Evaluates template expressions. `resources` are the resources Ref and Fn::GetAtt may see (only
// in the resources and outputs sections). Errors carry no location: callers add it.
class Evaluator {
 public:
  Evaluator(const Model& model, Section section, ConditionLookup conditions,
            const ResourceStates* resources, Budget& budget)
      : model_(model),
        section_(section),
        conditions_(std::move(conditions)),
        resources_(resources),
        budget_(budget) {}

  // nullopt: the value is AWS::NoValue.
  Result<std::optional<json::value>> eval(const json::value& v) { return eval(v, 0); }
  // A value that must be a boolean (a condition function's result).
  Result<bool> eval_bool(const json::value& v) { return eval_bool(v, 0); }

 private:
  Result<std::optional<json::value>> eval(const json::value& v, int depth);
  Result<json::value> eval_required(const json::value& v, int depth, std::string_view what);
  Result<std::string> eval_string(const json::value& v, int depth, std::string_view what);
  Result<json::array> eval_list(const json::value& v, int depth, std::string_view what);
  Result<bool> eval_bool(const json::value& v, int depth);
  Result<std::optional<json::value>> call(Fn fn, std::string_view name, const json::value& arg,
                                          int depth);
  Result<std::optional<json::value>> ref(std::string_view name);
  Result<json::value> get_att(std::string_view logical_id, std::string_view attribute);
  Result<std::string> sub(const json::value& arg, int depth);

  const Model& model_;
  Section section_;
  ConditionLookup conditions_;
  const ResourceStates* resources_;
  Budget& budget_;
};

// The static pass over an expression: checks that every intrinsic is supported, allowed in
// `section` and well-formed, that everything it references exists (and, for resources, is
// enabled), and adds the resources it references to `refs`. Only the taken branch of an Fn::If
// is visited (model.conditions must be complete).
Status collect_references(const json::value& v, const Model& model, Section section,
                          std::set<std::string>& refs);

// Fn::Sub's string, in pieces: literal text and ${variable} names (${!x} is the literal "${x}").
struct SubPiece {
  bool variable = false;
  std::string text;
};
Result<std::vector<SubPiece>> parse_sub(std::string_view s);

// A scalar as text (strings as they are, numbers and booleans spelled out); nullopt for null,
// arrays and objects.
std::optional<std::string> scalar_text(const json::value& v);

// Equality of evaluated values where scalars compare by their text ("10" == 10).
bool values_equal(const json::value& a, const json::value& b);

// True for names of the form [A-Za-z0-9]+ up to 255 characters (CloudFormation's logical ids).
bool valid_logical_id(std::string_view name);

}  // namespace orderflow::stack::detail
