// DynamoDB expressions: ConditionExpression / FilterExpression, KeyConditionExpression,
// UpdateExpression and ProjectionExpression. A hand-written tokenizer and recursive-descent
// parser turns the text into an AST with every #name and :value already substituted; the
// evaluators apply that AST to an item.
//
// Grammar and precedence follow reference/aws-protocols.md section 3.4. Parse errors are
// ErrorCode::ddb_validation with DynamoDB's text, prefixed "Invalid <Kind>Expression: ".
// Evaluation of conditions never fails: comparing values of different types is simply false.
// Applying an update can fail (wrong operand types, invalid document paths).
//
// All functions are pure; an ExpressionContext is used by one request on one thread.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/ddb/value.h"

namespace orderflow::engine::ddb {

// ---- Document paths ----

// One step of a document path: a map key (`name`) or a list index.
struct PathElement {
  std::string name;
  std::optional<std::size_t> index;  // set for "[n]" steps
  bool operator==(const PathElement&) const = default;
};
using Path = std::vector<PathElement>;

// "a.b[1].c"
std::string path_to_string(const Path& path);
// The value at `path`, or nullptr when any step is missing or of the wrong type.
const AttributeValue* find_path(const Item& item, const Path& path);

// ---- Placeholders ----

using NameMap = std::map<std::string, std::string>;       // "#n" -> attribute name
using ValueMap = std::map<std::string, AttributeValue>;   // ":v" -> value

// The ExpressionAttributeNames/Values of one request, shared by all of its expressions so that
// unused placeholders can be reported after every expression was parsed.
class ExpressionContext {
 public:
  // Validates the maps themselves: not empty when present ("ExpressionAttributeValues must not
  // be empty"), keys of the form "#x" / ":x".
  static Result<ExpressionContext> make(const std::optional<NameMap>& names,
                                        const std::optional<ValueMap>& values);

  // Look-ups record use. nullptr when undefined.
  const std::string* name(std::string_view placeholder);
  const AttributeValue* value(std::string_view placeholder);

  // "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}" and the same
  // for values. Call after every expression of the request has been parsed.
  Status check_all_used() const;

 private:
  NameMap names_;
  ValueMap values_;
  std::set<std::string, std::less<>> used_names_;
  std::set<std::string, std::less<>> used_values_;
};

// ---- Conditions ----

enum class Comparator { eq, ne, lt, le, gt, ge };

struct Operand {
  enum class Kind { path, value, size, if_not_exists, list_append, plus, minus };
  Kind kind = Kind::value;
  Path path;                  // path, size, if_not_exists
  AttributeValue value;       // value
  std::vector<Operand> args;  // if_not_exists: {default}; list_append/plus/minus: {lhs, rhs}
};

struct Condition {
  enum class Kind {
    compare,
    between,
    in,
    and_,
    or_,
    not_,
    attribute_exists,
    attribute_not_exists,
    attribute_type,
    begins_with,
    contains,
  };
  Kind kind = Kind::compare;
  Comparator op = Comparator::eq;  // compare only
  std::vector<Operand> operands;   // compare: 2; between: 3; in: 1 + list; functions: args
  std::vector<Condition> children;  // and/or: 2; not: 1
};

// `label` names the expression in errors: "ConditionExpression" or "FilterExpression".
Result<Condition> parse_condition(std::string_view text, ExpressionContext& ctx,
                                  std::string_view label = "ConditionExpression");
// True when `item` satisfies `cond`. A missing item is an empty Item.
bool evaluate(const Condition& cond, const Item& item);

// ---- Key conditions (Query) ----

struct SortKeyCondition {
  enum class Kind { eq, lt, le, gt, ge, between, begins_with };
  std::string name;
  Kind kind = Kind::eq;
  AttributeValue value;                 // the (lower) bound / prefix
  std::optional<AttributeValue> upper;  // between only
  // True when `v` (a sort key value) satisfies the condition.
  bool matches(const AttributeValue& v) const;
};

struct KeyCondition {
  std::string hash_name;
  AttributeValue hash_value;
  std::optional<SortKeyCondition> sort;
};

// Parses `pk = :v [AND <sort key clause>]` (either clause order) for a table whose key is
// `hash_name` [+ `range_name`]. Errors: "Query condition missed key schema element: pk",
// "Query key condition not supported", "Invalid operator used in KeyConditionExpression: OR".
// Checking value types against the schema is the caller's job.
Result<KeyCondition> parse_key_condition(std::string_view text, ExpressionContext& ctx,
                                         const std::string& hash_name,
                                         const std::optional<std::string>& range_name);

// ---- Updates ----

struct UpdateAction {
  enum class Kind { set, remove, add, delete_ };
  Kind kind = Kind::set;
  Path path;
  Operand value;  // set: the value expression; add/delete: the value; remove: unused
};

struct UpdateExpression {
  std::vector<UpdateAction> actions;
  // The target path of every action, for UPDATED_OLD / UPDATED_NEW.
  std::vector<Path> paths() const;
};

Result<UpdateExpression> parse_update(std::string_view text, ExpressionContext& ctx);

// Applies `update` to `item` in place. Every value is computed from the item as it was before
// the update. On error `item` may be partly changed: callers apply to a copy.
// Errors: "The provided expression refers to an attribute that does not exist in the item",
// "An operand in the update expression has an incorrect data type", "The document path
// provided in the update expression is invalid for update".
Status apply_update(const UpdateExpression& update, Item& item);

// ---- Projections ----

using Projection = std::vector<Path>;

Result<Projection> parse_projection(std::string_view text, ExpressionContext& ctx);
// The parts of `item` named by `paths`, keeping document structure (list elements picked by
// index are returned in index order, compacted).
Item project(const Item& item, const std::vector<Path>& paths);

// ---- Misc ----

// True when `word` (any case) is one of DynamoDB's reserved words.
bool is_reserved_word(std::string_view word);

}  // namespace orderflow::engine::ddb
