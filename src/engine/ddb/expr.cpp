#include "engine/ddb/expr.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace orderflow::engine::ddb {

namespace {

constexpr std::size_t kMaxExpressionSize = 4096;
constexpr std::size_t kMaxPathDepth = 32;
constexpr int kMaxNesting = 32;  // parentheses / NOT / function nesting in one expression
constexpr std::size_t kMaxInOperands = 100;

// Thrown inside the parser only; every public entry point catches it and returns an Error.
struct ParseError {
  std::string message;  // without the "Invalid XExpression: " prefix unless `whole` is set
  bool whole = false;   // message is complete (no prefix)
};

[[noreturn]] void raise(std::string message) { throw ParseError{std::move(message)}; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return upper(a) == upper(b); }

// Type names as DynamoDB prints them in operand-type errors.
std::string_view long_type_name(Type t) {
  switch (t) {
    case Type::S: return "STRING";
    case Type::N: return "NUMBER";
    case Type::B: return "BINARY";
    case Type::BOOL: return "BOOLEAN";
    case Type::NULL_: return "NULL";
    case Type::M: return "MAP";
    case Type::L: return "LIST";
    case Type::SS: return "SS";
    case Type::NS: return "NS";
    case Type::BS: return "BS";
  }
  return "UNKNOWN";
}

// "{N:5}" / "{S:abc}" as used in BETWEEN errors.
std::string short_value(const AttributeValue& v) {
  std::string body;
  if (const auto* s = v.get_if<std::string>()) body = *s;
  else if (const auto* n = v.get_if<Number>()) body = n->to_string();
  else body = describe(v);
  return "{" + std::string(type_name(v.type())) + ":" + body + "}";
}

std::string path_list(const Path& p) {
  std::string out = "[";
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (i) out += ", ";
    if (p[i].index) out += "[" + std::to_string(*p[i].index) + "]";
    else out += p[i].name;
  }
  return out + "]";
}

bool is_prefix(const Path& a, const Path& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Reports the first pair of paths where one is a prefix of the other.
void check_overlaps(const std::vector<Path>& paths) {
  for (std::size_t i = 0; i < paths.size(); ++i) {
    for (std::size_t j = i + 1; j < paths.size(); ++j) {
      const Path& a = paths[i];
      const Path& b = paths[j];
      if (a == b)
        raise("Two document paths conflict with each other; must remove or rewrite one of these "
              "paths; path one: " + path_list(a) + ", path two: " + path_list(b));
      if (is_prefix(a, b) || is_prefix(b, a))
        raise("Two document paths overlap with each other; must remove or rewrite one of these "
              "paths; path one: " + path_list(a) + ", path two: " + path_list(b));
    }
  }
}

// ---------------------------------------------------------------- tokenizer

enum class Tok {
  name,
  attr_name,   // #x
  attr_value,  // :x
  number,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  lparen,
  rparen,
  lbracket,
  rbracket,
  comma,
  dot,
  plus,
  minus,
  bad,
  eof,
};

struct Token {
  Tok kind;
  std::string_view text;
  std::size_t pos;
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    std::size_t start = i;
    auto emit = [&](Tok k, std::size_t len) {
      out.push_back({k, s.substr(start, len), start});
      i = start + len;
    };
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i + 1;
      while (j < s.size() && is_word_char(s[j])) ++j;
      emit(Tok::name, j - i);
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i + 1;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      emit(Tok::number, j - i);
    } else if (c == '#' || c == ':') {
      std::size_t j = i + 1;
      while (j < s.size() && is_word_char(s[j])) ++j;
      if (j == i + 1) emit(Tok::bad, 1);
      else emit(c == '#' ? Tok::attr_name : Tok::attr_value, j - i);
    } else if (c == '<') {
      if (i + 1 < s.size() && s[i + 1] == '>') emit(Tok::ne, 2);
      else if (i + 1 < s.size() && s[i + 1] == '=') emit(Tok::le, 2);
      else emit(Tok::lt, 1);
    } else if (c == '>') {
      if (i + 1 < s.size() && s[i + 1] == '=') emit(Tok::ge, 2);
      else emit(Tok::gt, 1);
    } else {
      Tok k = Tok::bad;
      switch (c) {
        case '=': k = Tok::eq; break;
        case '(': k = Tok::lparen; break;
        case ')': k = Tok::rparen; break;
        case '[': k = Tok::lbracket; break;
        case ']': k = Tok::rbracket; break;
        case ',': k = Tok::comma; break;
        case '.': k = Tok::dot; break;
        case '+': k = Tok::plus; break;
        case '-': k = Tok::minus; break;
        default: break;
      }
      std::size_t len = 1;
      if (k == Tok::bad) {  // one whole UTF-8 character
        auto u = static_cast<unsigned char>(c);
        len = u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : u >= 0xC0 ? 2 : 1;
        len = std::min(len, s.size() - i);
      }
      emit(k, len);
    }
  }
  out.push_back({Tok::eof, "<EOF>", s.size()});
  return out;
}

// ---------------------------------------------------------------- parser

enum class Mode { condition, update, projection };

class Parser {
 public:
  Parser(std::string_view text, ExpressionContext& ctx, Mode mode)
      : text_(text), toks_(tokenize(text)), ctx_(ctx), mode_(mode) {}

  // ---- conditions

  Condition parse_full_condition() {
    Condition c = parse_or(0);
    expect_eof();
    return c;
  }

  // ---- updates

  UpdateExpression parse_update() {
    UpdateExpression u;
    std::set<std::string> seen;
    while (peek().kind != Tok::eof) {
      const Token& t = peek();
      std::string clause = upper(t.text);
      if (t.kind != Tok::name ||
          (clause != "SET" && clause != "REMOVE" && clause != "ADD" && clause != "DELETE"))
        syntax_error();
      if (!seen.insert(clause).second)
        raise("The \"" + clause + "\" section can only be used once in an update expression;");
      next();
      do {
        UpdateAction a;
        a.path = parse_path();
        if (clause == "SET") {
          a.kind = UpdateAction::Kind::set;
          expect(Tok::eq);
          a.value = parse_set_value();
        } else if (clause == "REMOVE") {
          a.kind = UpdateAction::Kind::remove;
        } else {
          a.kind = clause == "ADD" ? UpdateAction::Kind::add : UpdateAction::Kind::delete_;
          if (peek().kind != Tok::attr_value) syntax_error();
          a.value = parse_operand(0);
          Type t = a.value.value.type();
          bool ok = t == Type::SS || t == Type::NS || t == Type::BS ||
                    (clause == "ADD" && t == Type::N);
          if (!ok)
            raise("Incorrect operand type for operator or function; operator: " + clause +
                  ", operand type: " + std::string(long_type_name(t)));
        }
        u.actions.push_back(std::move(a));
      } while (accept(Tok::comma));
    }
    if (u.actions.empty()) syntax_error();
    check_overlaps(u.paths());
    return u;
  }

  // ---- projections

  Projection parse_projection() {
    Projection p;
    do {
      p.push_back(parse_path());
    } while (accept(Tok::comma));
    expect_eof();
    check_overlaps(p);
    return p;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool accept(Tok k) {
    if (peek().kind != k) return false;
    next();
    return true;
  }
  void expect(Tok k) {
    if (!accept(k)) syntax_error();
  }
  void expect_eof() {
    if (peek().kind != Tok::eof) syntax_error();
  }
  bool at_keyword(std::string_view kw) const {
    return peek().kind == Tok::name && iequals(peek().text, kw);
  }

  // `near` spans from the previous token to the offending one, as DynamoDB shows it.
  [[noreturn]] void syntax_error() const {
    const Token& t = peek();
    std::size_t start = pos_ > 0 ? toks_[pos_ - 1].pos : t.pos;
    std::size_t end = t.kind == Tok::eof ? text_.size() : t.pos + t.text.size();
    raise("Syntax error; token: \"" + std::string(t.text) + "\", near: \"" +
          std::string(text_.substr(start, end - start)) + "\"");
  }

  Condition parse_or(int depth) {
    Condition left = parse_and(depth);
    while (at_keyword("OR")) {
      next();
      Condition right = parse_and(depth);
      left = combine(Condition::Kind::or_, std::move(left), std::move(right));
    }
    return left;
  }

  Condition parse_and(int depth) {
    Condition left = parse_not(depth);
    while (at_keyword("AND")) {
      next();
      Condition right = parse_not(depth);
      left = combine(Condition::Kind::and_, std::move(left), std::move(right));
    }
    return left;
  }

  Condition combine(Condition::Kind kind, Condition a, Condition b) {
    Condition c;
    c.kind = kind;
    c.children.push_back(std::move(a));
    c.children.push_back(std::move(b));
    parenthesized_ = false;
    return c;
  }

  Condition parse_not(int depth) {
    if (at_keyword("NOT")) {
      if (depth >= kMaxNesting) raise("The expression has too many levels of nesting;");
      next();
      Condition c;
      c.kind = Condition::Kind::not_;
      c.children.push_back(parse_not(depth + 1));
      parenthesized_ = false;
      return c;
    }
    return parse_primary(depth);
  }

  Condition parse_primary(int depth) {
    if (peek().kind == Tok::lparen) {
      if (depth >= kMaxNesting) raise("The expression has too many levels of nesting;");
      next();
      Condition inner = parse_or(depth + 1);
      if (parenthesized_) raise("The expression has redundant parentheses;");
      expect(Tok::rparen);
      parenthesized_ = true;
      return inner;
    }
    parenthesized_ = false;
    if (peek().kind == Tok::name && peek(1).kind == Tok::lparen) {
      std::string fn(peek().text);
      if (fn != "size") return parse_condition_function(depth);
    }
    Operand left = parse_operand(depth);
    Condition c;
    c.operands.push_back(std::move(left));
    const Token& t = peek();
    auto cmp = comparator(t.kind);
    if (cmp) {
      next();
      c.kind = Condition::Kind::compare;
      c.op = *cmp;
      c.operands.push_back(parse_operand(depth));
      if (c.op != Comparator::eq && c.op != Comparator::ne)
        for (const Operand& o : c.operands) check_scalar(o, t.text);
      return c;
    }
    if (at_keyword("BETWEEN")) {
      next();
      c.kind = Condition::Kind::between;
      c.operands.push_back(parse_operand(depth));
      if (!at_keyword("AND")) syntax_error();
      next();
      c.operands.push_back(parse_operand(depth));
      for (const Operand& o : c.operands) check_scalar(o, "BETWEEN");
      const Operand& lo = c.operands[1];
      const Operand& hi = c.operands[2];
      if (lo.kind == Operand::Kind::value && hi.kind == Operand::Kind::value) {
        auto order = compare_scalars(lo.value, hi.value);
        std::string both = "lower operand: AttributeValue: " + short_value(lo.value) +
                           ", upper operand: AttributeValue: " + short_value(hi.value);
        if (!order)
          raise("The BETWEEN operator requires same data type for lower and upper bounds; " +
                both);
        if (*order == std::strong_ordering::greater)
          raise("The BETWEEN operator requires upper bound to be greater than or equal to lower "
                "bound; " + both);
      }
      return c;
    }
    if (at_keyword("IN")) {
      next();
      c.kind = Condition::Kind::in;
      expect(Tok::lparen);
      do {
        c.operands.push_back(parse_operand(depth));
      } while (accept(Tok::comma));
      expect(Tok::rparen);
      if (c.operands.size() - 1 > kMaxInOperands)
        raise("The IN operator is provided with too many operands; number of operands: " +
              std::to_string(c.operands.size() - 1));
      return c;
    }
    syntax_error();
  }

  static std::optional<Comparator> comparator(Tok k) {
    switch (k) {
      case Tok::eq: return Comparator::eq;
      case Tok::ne: return Comparator::ne;
      case Tok::lt: return Comparator::lt;
      case Tok::le: return Comparator::le;
      case Tok::gt: return Comparator::gt;
      case Tok::ge: return Comparator::ge;
      default: return std::nullopt;
    }
  }

  static void check_scalar(const Operand& o, std::string_view op) {
    if (o.kind != Operand::Kind::value) return;
    Type t = o.value.type();
    if (t != Type::S && t != Type::N && t != Type::B)
      raise("Incorrect operand type for operator or function; operator or function: " +
            std::string(op) + ", operand type: " + std::string(long_type_name(t)));
  }

  static void require_path(const Operand& o, std::string_view fn) {
    if (o.kind != Operand::Kind::path)
      raise("Operator or function requires a document path; operator or function: " +
            std::string(fn));
  }

  static void require_args(const std::vector<Operand>& args, std::size_t n, std::string_view fn) {
    if (args.size() != n)
      raise("Incorrect number of operands for operator or function; operator or function: " +
            std::string(fn) + ", number of operands: " + std::to_string(args.size()));
  }

  static bool is_condition_function(std::string_view fn) {
    return fn == "attribute_exists" || fn == "attribute_not_exists" || fn == "attribute_type" ||
           fn == "begins_with" || fn == "contains";
  }
  static bool is_update_function(std::string_view fn) {
    return fn == "if_not_exists" || fn == "list_append";
  }

  std::vector<Operand> parse_args(int depth) {
    if (depth >= kMaxNesting) raise("The expression has too many levels of nesting;");
    std::vector<Operand> args;
    expect(Tok::lparen);
    do {
      args.push_back(parse_operand(depth + 1));
    } while (accept(Tok::comma));
    expect(Tok::rparen);
    return args;
  }

  Condition parse_condition_function(int depth) {
    std::string fn(peek().text);
    if (mode_ != Mode::condition) raise("Invalid function name; function: " + fn);
    if (is_update_function(fn))
      raise("The function is not allowed in a condition expression; function: " + fn);
    if (!is_condition_function(fn)) raise("Invalid function name; function: " + fn);
    next();
    Condition c;
    c.operands = parse_args(depth);
    if (fn == "attribute_exists" || fn == "attribute_not_exists") {
      c.kind = fn == "attribute_exists" ? Condition::Kind::attribute_exists
                                        : Condition::Kind::attribute_not_exists;
      require_args(c.operands, 1, fn);
      require_path(c.operands[0], fn);
    } else if (fn == "attribute_type") {
      c.kind = Condition::Kind::attribute_type;
      require_args(c.operands, 2, fn);
      require_path(c.operands[0], fn);
      const Operand& t = c.operands[1];
      if (t.kind != Operand::Kind::value || !t.value.is<std::string>())
        raise("Incorrect operand type for operator or function; operator or function: " + fn +
              ", operand type: " +
              std::string(t.kind == Operand::Kind::value ? long_type_name(t.value.type())
                                                         : "PATH"));
      if (!type_from_name(t.value.as<std::string>()))
        raise("Invalid attribute type name found in type parameter; type: " +
              t.value.as<std::string>() + ". Valid types: S, SS, N, NS, B, BS, BOOL, NULL, L, M");
    } else if (fn == "begins_with") {
      c.kind = Condition::Kind::begins_with;
      require_args(c.operands, 2, fn);
      for (const Operand& o : c.operands) {
        if (o.kind == Operand::Kind::value && !o.value.is<std::string>() && !o.value.is<Binary>())
          raise("Incorrect operand type for operator or function; operator or function: " + fn +
                ", operand type: " + std::string(long_type_name(o.value.type())));
      }
    } else {
      c.kind = Condition::Kind::contains;
      require_args(c.operands, 2, fn);
    }
    return c;
  }

  Operand parse_operand(int depth) {
    const Token& t = peek();
    if (t.kind == Tok::attr_value) {
      next();
      const AttributeValue* v = ctx_.value(t.text);
      if (!v)
        raise("An expression attribute value used in expression is not defined; attribute "
              "value: " + std::string(t.text));
      Operand o;
      o.kind = Operand::Kind::value;
      o.value = *v;
      return o;
    }
    if (t.kind == Tok::name && peek(1).kind == Tok::lparen) return parse_function_operand(depth);
    if (t.kind == Tok::name || t.kind == Tok::attr_name) {
      Operand o;
      o.kind = Operand::Kind::path;
      o.path = parse_path();
      return o;
    }
    syntax_error();
  }

  Operand parse_function_operand(int depth) {
    std::string fn(peek().text);
    bool allowed = mode_ == Mode::condition ? fn == "size" : is_update_function(fn);
    if (!allowed) {
      if (mode_ == Mode::condition && is_condition_function(fn))
        raise("The function is not allowed to be used this way in an expression; function: " +
              fn);
      if (mode_ == Mode::condition && is_update_function(fn))
        raise("The function is not allowed in a condition expression; function: " + fn);
      if (mode_ == Mode::update && (is_condition_function(fn) || fn == "size"))
        raise("The function is not allowed in an update expression; function: " + fn);
      raise("Invalid function name; function: " + fn);
    }
    next();
    std::vector<Operand> args = parse_args(depth);
    Operand o;
    if (fn == "size") {
      require_args(args, 1, fn);
      require_path(args[0], fn);
      o.kind = Operand::Kind::size;
      o.path = std::move(args[0].path);
    } else if (fn == "if_not_exists") {
      require_args(args, 2, fn);
      require_path(args[0], fn);
      o.kind = Operand::Kind::if_not_exists;
      o.path = std::move(args[0].path);
      o.args.push_back(std::move(args[1]));
    } else {
      require_args(args, 2, fn);
      for (const Operand& a : args)
        if (a.kind == Operand::Kind::value && !a.value.is<List>())
          raise("Incorrect operand type for operator or function; operator or function: " + fn +
                ", operand type: " + std::string(long_type_name(a.value.type())));
      o.kind = Operand::Kind::list_append;
      o.args = std::move(args);
    }
    return o;
  }

  Operand parse_set_value() {
    Operand left = parse_operand(0);
    Tok k = peek().kind;
    if (k != Tok::plus && k != Tok::minus) return left;
    std::string op(peek().text);
    next();
    Operand right = parse_operand(0);
    for (const Operand* o : {&left, &right})
      if (o->kind == Operand::Kind::value && !o->value.is<Number>())
        raise("Incorrect operand type for operator or function; operator or function: " + op +
              ", operand type: " + std::string(long_type_name(o->value.type())));
    Operand o;
    o.kind = k == Tok::plus ? Operand::Kind::plus : Operand::Kind::minus;
    o.args.push_back(std::move(left));
    o.args.push_back(std::move(right));
    return o;
  }

  std::string path_name() {
    const Token& t = peek();
    if (t.kind == Tok::attr_name) {
      next();
      const std::string* n = ctx_.name(t.text);
      if (!n)
        raise("An expression attribute name used in the document path is not defined; "
              "attribute name: " + std::string(t.text));
      return *n;
    }
    if (t.kind == Tok::name) {
      if (is_reserved_word(t.text))
        raise("Attribute name is a reserved keyword; reserved keyword: " + std::string(t.text));
      next();
      return std::string(t.text);
    }
    syntax_error();
  }

  Path parse_path() {
    Path p;
    p.push_back(PathElement{path_name(), std::nullopt});
    while (true) {
      if (accept(Tok::dot)) {
        p.push_back(PathElement{path_name(), std::nullopt});
      } else if (peek().kind == Tok::lbracket) {
        next();
        const Token& t = peek();
        if (t.kind != Tok::number) syntax_error();
        if (t.text.size() > 9) raise("List index is out of range: " + std::string(t.text));
        std::size_t idx = std::stoul(std::string(t.text));
        next();
        expect(Tok::rbracket);
        p.push_back(PathElement{"", idx});
      } else {
        break;
      }
      if (p.size() > kMaxPathDepth)
        raise("The document path has too many nesting levels; nesting levels: " +
              std::to_string(p.size()));
    }
    return p;
  }

  std::string_view text_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  ExpressionContext& ctx_;
  Mode mode_;
  bool parenthesized_ = false;  // the condition just parsed was "( ... )"
};

template <class T, class F>
Result<T> run_parser(std::string_view text, std::string_view label, F&& f) {
  std::string prefix = "Invalid " + std::string(label) + ": ";
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return fail(ErrorCode::ddb_validation, prefix + "The expression can not be empty;");
  if (text.size() > kMaxExpressionSize)
    return fail(ErrorCode::ddb_validation,
                prefix + "Expression size has exceeded the maximum allowed size; expression "
                         "size: " + std::to_string(text.size()));
  try {
    return f();
  } catch (const ParseError& e) {
    return fail(ErrorCode::ddb_validation, e.whole ? e.message : prefix + e.message);
  }
}

// ---------------------------------------------------------------- evaluation

// The value of an operand, or nullptr when it refers to something missing. `scratch` holds
// computed values (size).
const AttributeValue* resolve(const Operand& o, const Item& item, AttributeValue& scratch) {
  switch (o.kind) {
    case Operand::Kind::value: return &o.value;
    case Operand::Kind::path: return find_path(item, o.path);
    case Operand::Kind::size: {
      const AttributeValue* v = find_path(item, o.path);
      if (!v) return nullptr;
      std::size_t n = 0;
      if (const auto* s = v->get_if<std::string>()) {
        for (char c : *s)
          if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // code points
      } else if (const auto* b = v->get_if<Binary>()) {
        n = b->bytes.size();
      } else if (const auto* m = v->get_if<Map>()) {
        n = m->size();
      } else if (const auto* l = v->get_if<List>()) {
        n = l->size();
      } else if (const auto* ss = v->get_if<StringSet>()) {
        n = ss->values.size();
      } else if (const auto* ns = v->get_if<NumberSet>()) {
        n = ns->values.size();
      } else if (const auto* bs = v->get_if<BinarySet>()) {
        n = bs->values.size();
      } else {
        return nullptr;
      }
      scratch = AttributeValue{Number::from_int(static_cast<std::int64_t>(n))};
      return &scratch;
    }
    default: return nullptr;  // update-only operands never reach conditions
  }
}

bool compare(Comparator op, const AttributeValue* a, const AttributeValue* b) {
  if (op == Comparator::eq) return a && b && *a == *b;
  if (op == Comparator::ne) return !(a && b && *a == *b);
  if (!a || !b) return false;
  auto order = compare_scalars(*a, *b);
  if (!order) return false;
  switch (op) {
    case Comparator::lt: return *order < 0;
    case Comparator::le: return *order <= 0;
    case Comparator::gt: return *order > 0;
    case Comparator::ge: return *order >= 0;
    default: return false;
  }
}

bool contains_value(const AttributeValue& haystack, const AttributeValue& needle) {
  if (const auto* s = haystack.get_if<std::string>()) {
    const auto* n = needle.get_if<std::string>();
    return n && s->find(*n) != std::string::npos;
  }
  if (const auto* b = haystack.get_if<Binary>()) {
    const auto* n = needle.get_if<Binary>();
    return n && b->bytes.find(n->bytes) != std::string::npos;
  }
  if (const auto* ss = haystack.get_if<StringSet>()) {
    const auto* n = needle.get_if<std::string>();
    return n && ss->values.contains(*n);
  }
  if (const auto* ns = haystack.get_if<NumberSet>()) {
    const auto* n = needle.get_if<Number>();
    return n && ns->values.contains(*n);
  }
  if (const auto* bs = haystack.get_if<BinarySet>()) {
    const auto* n = needle.get_if<Binary>();
    return n && bs->values.contains(n->bytes);
  }
  if (const auto* l = haystack.get_if<List>()) {
    return std::find(l->begin(), l->end(), needle) != l->end();
  }
  return false;
}

bool begins_with(const AttributeValue& v, const AttributeValue& prefix) {
  if (const auto* s = v.get_if<std::string>()) {
    const auto* p = prefix.get_if<std::string>();
    return p && s->starts_with(*p);
  }
  if (const auto* b = v.get_if<Binary>()) {
    const auto* p = prefix.get_if<Binary>();
    return p && b->bytes.starts_with(p->bytes);
  }
  return false;
}

// ---------------------------------------------------------------- update helpers

AttributeValue* find_path_mut(Item& item, const Path& path) {
  return const_cast<AttributeValue*>(find_path(item, path));
}

Status invalid_update_path() {
  return fail(ErrorCode::ddb_validation,
              "The document path provided in the update expression is invalid for update");
}
Status wrong_operand_type() {
  return fail(ErrorCode::ddb_validation,
              "An operand in the update expression has an incorrect data type");
}

Status set_path(Item& item, const Path& path, AttributeValue value) {
  if (path.size() == 1) {
    item.insert_or_assign(path[0].name, std::move(value));
    return {};
  }
  Path parent_path(path.begin(), path.end() - 1);
  AttributeValue* parent = find_path_mut(item, parent_path);
  if (!parent) return invalid_update_path();
  const PathElement& last = path.back();
  if (last.index) {
    auto* list = parent->get_if<List>();
    if (!list) return invalid_update_path();
    if (*last.index >= list->size()) list->push_back(std::move(value));
    else (*list)[*last.index] = std::move(value);
  } else {
    auto* map = parent->get_if<Map>();
    if (!map) return invalid_update_path();
    map->insert_or_assign(last.name, std::move(value));
  }
  return {};
}

Status remove_path(Item& item, const Path& path) {
  if (path.size() == 1) {
    item.erase(path[0].name);
    return {};
  }
  Path parent_path(path.begin(), path.end() - 1);
  AttributeValue* parent = find_path_mut(item, parent_path);
  if (!parent) return {};
  const PathElement& last = path.back();
  if (last.index) {
    auto* list = parent->get_if<List>();
    if (!list) return invalid_update_path();
    if (*last.index < list->size())
      list->erase(list->begin() + static_cast<std::ptrdiff_t>(*last.index));
  } else {
    auto* map = parent->get_if<Map>();
    if (!map) return invalid_update_path();
    map->erase(last.name);
  }
  return {};
}

Result<AttributeValue> eval_update_operand(const Operand& o, const Item& item) {
  switch (o.kind) {
    case Operand::Kind::value: return o.value;
    case Operand::Kind::path: {
      const AttributeValue* v = find_path(item, o.path);
      if (!v)
        return fail(ErrorCode::ddb_validation,
                    "The provided expression refers to an attribute that does not exist in the "
                    "item");
      return *v;
    }
    case Operand::Kind::if_not_exists: {
      if (const AttributeValue* v = find_path(item, o.path)) return *v;
      return eval_update_operand(o.args[0], item);
    }
    case Operand::Kind::list_append: {
      auto a = eval_update_operand(o.args[0], item);
      if (!a) return a;
      auto b = eval_update_operand(o.args[1], item);
      if (!b) return b;
      if (!a->is<List>() || !b->is<List>()) return std::unexpected(wrong_operand_type().error());
      List out = a->as<List>();
      for (auto& e : b->as<List>()) out.push_back(std::move(e));
      return AttributeValue{std::move(out)};
    }
    case Operand::Kind::plus:
    case Operand::Kind::minus: {
      auto a = eval_update_operand(o.args[0], item);
      if (!a) return a;
      auto b = eval_update_operand(o.args[1], item);
      if (!b) return b;
      if (!a->is<Number>() || !b->is<Number>())
        return std::unexpected(wrong_operand_type().error());
      auto r = o.kind == Operand::Kind::plus ? a->as<Number>().add(b->as<Number>())
                                             : a->as<Number>().subtract(b->as<Number>());
      if (!r) return std::unexpected(r.error());
      return AttributeValue{*r};
    }
    case Operand::Kind::size: break;
  }
  return std::unexpected(wrong_operand_type().error());
}

template <class Set>
Set set_union(const Set& a, const Set& b) {
  Set out = a;
  out.values.insert(b.values.begin(), b.values.end());
  return out;
}

template <class Set>
Set set_difference(const Set& a, const Set& b) {
  Set out = a;
  for (const auto& v : b.values) out.values.erase(v);
  return out;
}

// ADD (add=true) or DELETE of `v` into `existing` (may be null). nullopt result = remove.
Result<std::optional<AttributeValue>> combine_sets(const AttributeValue* existing,
                                                   const AttributeValue& v, bool add) {
  if (!existing) {
    if (add) return std::optional<AttributeValue>(v);
    return std::optional<AttributeValue>(std::nullopt);
  }
  if (existing->type() != v.type()) return std::unexpected(wrong_operand_type().error());
  AttributeValue out;
  bool empty = false;
  if (const auto* n = v.get_if<Number>()) {
    auto sum = existing->as<Number>().add(*n);
    if (!sum) return std::unexpected(sum.error());
    return std::optional<AttributeValue>(AttributeValue{*sum});
  }
  if (const auto* ss = v.get_if<StringSet>()) {
    StringSet r = add ? set_union(existing->as<StringSet>(), *ss)
                      : set_difference(existing->as<StringSet>(), *ss);
    empty = r.values.empty();
    out = AttributeValue{std::move(r)};
  } else if (const auto* ns = v.get_if<NumberSet>()) {
    NumberSet r = add ? set_union(existing->as<NumberSet>(), *ns)
                      : set_difference(existing->as<NumberSet>(), *ns);
    empty = r.values.empty();
    out = AttributeValue{std::move(r)};
  } else if (const auto* bs = v.get_if<BinarySet>()) {
    BinarySet r = add ? set_union(existing->as<BinarySet>(), *bs)
                      : set_difference(existing->as<BinarySet>(), *bs);
    empty = r.values.empty();
    out = AttributeValue{std::move(r)};
  } else {
    return std::unexpected(wrong_operand_type().error());
  }
  if (empty) return std::optional<AttributeValue>(std::nullopt);
  return std::optional<AttributeValue>(std::move(out));
}

// Orders paths so that, within one list, higher indexes come first (for REMOVE).
bool remove_order(const Path& a, const Path& b) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const PathElement& x = a[i];
    const PathElement& y = b[i];
    if (x == y) continue;
    if (x.index && y.index) return *x.index > *y.index;
    if (x.index != y.index) return x.index.has_value();
    return x.name > y.name;
  }
  return a.size() > b.size();
}

// ---------------------------------------------------------------- projection helpers

struct ProjectionNode {
  bool whole = false;
  std::map<std::string, ProjectionNode> names;
  std::map<std::size_t, ProjectionNode> indexes;
};

std::optional<AttributeValue> project_value(const AttributeValue& v, const ProjectionNode& node) {
  if (node.whole) return v;
  if (const auto* m = v.get_if<Map>(); m && !node.names.empty()) {
    Map out;
    for (const auto& [name, child] : node.names) {
      auto it = m->find(name);
      if (it == m->end()) continue;
      if (auto pv = project_value(it->second, child)) out.emplace(name, std::move(*pv));
    }
    if (out.empty()) return std::nullopt;
    return AttributeValue{std::move(out)};
  }
  if (const auto* l = v.get_if<List>(); l && !node.indexes.empty()) {
    List out;
    for (const auto& [idx, child] : node.indexes) {
      if (idx >= l->size()) continue;
      if (auto pv = project_value((*l)[idx], child)) out.push_back(std::move(*pv));
    }
    if (out.empty()) return std::nullopt;
    return AttributeValue{std::move(out)};
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------- public: paths

std::string path_to_string(const Path& path) {
  std::string out;
  for (const auto& e : path) {
    if (e.index) {
      out += "[" + std::to_string(*e.index) + "]";
    } else {
      if (!out.empty()) out += ".";
      out += e.name;
    }
  }
  return out;
}

const AttributeValue* find_path(const Item& item, const Path& path) {
  if (path.empty() || path[0].index) return nullptr;
  auto it = item.find(path[0].name);
  if (it == item.end()) return nullptr;
  const AttributeValue* cur = &it->second;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const PathElement& e = path[i];
    if (e.index) {
      const auto* l = cur->get_if<List>();
      if (!l || *e.index >= l->size()) return nullptr;
      cur = &(*l)[*e.index];
    } else {
      const auto* m = cur->get_if<Map>();
      if (!m) return nullptr;
      auto mit = m->find(e.name);
      if (mit == m->end()) return nullptr;
      cur = &mit->second;
    }
  }
  return cur;
}

// ---------------------------------------------------------------- public: context

Result<ExpressionContext> ExpressionContext::make(const std::optional<NameMap>& names,
                                                  const std::optional<ValueMap>& values) {
  auto valid_key = [](const std::string& k, char sigil) {
    return k.size() >= 2 && k[0] == sigil &&
           std::all_of(k.begin() + 1, k.end(), [](char c) { return is_word_char(c); });
  };
  ExpressionContext ctx;
  if (names) {
    if (names->empty())
      return fail(ErrorCode::ddb_validation, "ExpressionAttributeNames must not be empty");
    for (const auto& [k, v] : *names) {
      if (!valid_key(k, '#'))
        return fail(ErrorCode::ddb_validation,
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"" + k +
                        "\"");
      if (v.empty())
        return fail(ErrorCode::ddb_validation,
                    "ExpressionAttributeNames contains invalid value: Empty attribute name for "
                    "key " + k);
    }
    ctx.names_ = *names;
  }
  if (values) {
    if (values->empty())
      return fail(ErrorCode::ddb_validation, "ExpressionAttributeValues must not be empty");
    for (const auto& [k, v] : *values) {
      if (!valid_key(k, ':'))
        return fail(ErrorCode::ddb_validation,
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"" + k +
                        "\"");
    }
    ctx.values_ = *values;
  }
  return ctx;
}

const std::string* ExpressionContext::name(std::string_view placeholder) {
  auto it = names_.find(std::string(placeholder));
  if (it == names_.end()) return nullptr;
  used_names_.insert(it->first);
  return &it->second;
}

const AttributeValue* ExpressionContext::value(std::string_view placeholder) {
  auto it = values_.find(std::string(placeholder));
  if (it == values_.end()) return nullptr;
  used_values_.insert(it->first);
  return &it->second;
}

Status ExpressionContext::check_all_used() const {
  auto unused = [](const auto& all, const auto& used) {
    std::string keys;
    for (const auto& [k, v] : all) {
      if (used.contains(k)) continue;
      if (!keys.empty()) keys += ", ";
      keys += k;
    }
    return keys;
  };
  if (auto keys = unused(names_, used_names_); !keys.empty())
    return fail(ErrorCode::ddb_validation,
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + keys +
                    "}");
  if (auto keys = unused(values_, used_values_); !keys.empty())
    return fail(ErrorCode::ddb_validation,
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {" +
                    keys + "}");
  return {};
}

// ---------------------------------------------------------------- public: conditions

Result<Condition> parse_condition(std::string_view text, ExpressionContext& ctx,
                                  std::string_view label) {
  return run_parser<Condition>(text, label, [&] {
    return Parser(text, ctx, Mode::condition).parse_full_condition();
  });
}

bool evaluate(const Condition& c, const Item& item) {
  using K = Condition::Kind;
  AttributeValue s0, s1, s2;
  switch (c.kind) {
    case K::and_: return evaluate(c.children[0], item) && evaluate(c.children[1], item);
    case K::or_: return evaluate(c.children[0], item) || evaluate(c.children[1], item);
    case K::not_: return !evaluate(c.children[0], item);
    case K::compare:
      return compare(c.op, resolve(c.operands[0], item, s0), resolve(c.operands[1], item, s1));
    case K::between: {
      const AttributeValue* v = resolve(c.operands[0], item, s0);
      const AttributeValue* lo = resolve(c.operands[1], item, s1);
      const AttributeValue* hi = resolve(c.operands[2], item, s2);
      return compare(Comparator::ge, v, lo) && compare(Comparator::le, v, hi);
    }
    case K::in: {
      const AttributeValue* v = resolve(c.operands[0], item, s0);
      if (!v) return false;
      for (std::size_t i = 1; i < c.operands.size(); ++i) {
        const AttributeValue* x = resolve(c.operands[i], item, s1);
        if (x && *x == *v) return true;
      }
      return false;
    }
    case K::attribute_exists: return find_path(item, c.operands[0].path) != nullptr;
    case K::attribute_not_exists: return find_path(item, c.operands[0].path) == nullptr;
    case K::attribute_type: {
      const AttributeValue* v = find_path(item, c.operands[0].path);
      return v && type_name(v->type()) == c.operands[1].value.as<std::string>();
    }
    case K::begins_with: {
      const AttributeValue* v = resolve(c.operands[0], item, s0);
      const AttributeValue* p = resolve(c.operands[1], item, s1);
      return v && p && begins_with(*v, *p);
    }
    case K::contains: {
      const AttributeValue* v = resolve(c.operands[0], item, s0);
      const AttributeValue* x = resolve(c.operands[1], item, s1);
      return v && x && contains_value(*v, *x);
    }
  }
  return false;
}

// ---------------------------------------------------------------- public: key conditions

bool SortKeyCondition::matches(const AttributeValue& v) const {
  auto order = compare_scalars(v, value);
  switch (kind) {
    case Kind::eq: return order && *order == 0;
    case Kind::lt: return order && *order < 0;
    case Kind::le: return order && *order <= 0;
    case Kind::gt: return order && *order > 0;
    case Kind::ge: return order && *order >= 0;
    case Kind::between: {
      auto upper_order = compare_scalars(v, *upper);
      return order && upper_order && *order >= 0 && *upper_order <= 0;
    }
    case Kind::begins_with: return begins_with(v, value);
  }
  return false;
}

Result<KeyCondition> parse_key_condition(std::string_view text, ExpressionContext& ctx,
                                         const std::string& hash_name,
                                         const std::optional<std::string>& range_name) {
  constexpr std::string_view label = "KeyConditionExpression";
  auto parsed = run_parser<Condition>(text, label, [&] {
    return Parser(text, ctx, Mode::condition).parse_full_condition();
  });
  if (!parsed) return std::unexpected(parsed.error());

  auto bad_operator = [](std::string_view op) {
    return fail(ErrorCode::ddb_validation,
                "Invalid operator used in KeyConditionExpression: " + std::string(op));
  };
  auto not_supported = [] {
    return fail(ErrorCode::ddb_validation, "Query key condition not supported");
  };

  std::vector<const Condition*> clauses;
  if (parsed->kind == Condition::Kind::and_) {
    for (const Condition& child : parsed->children) {
      if (child.kind == Condition::Kind::and_)
        return fail(ErrorCode::ddb_validation,
                    "KeyConditionExpressions must only contain one condition per key");
      clauses.push_back(&child);
    }
  } else {
    clauses.push_back(&*parsed);
  }

  struct Clause {
    std::string name;
    SortKeyCondition::Kind kind;
    AttributeValue a;
    std::optional<AttributeValue> b;
  };
  std::vector<Clause> out;
  for (const Condition* c : clauses) {
    using K = Condition::Kind;
    auto single_name = [](const Operand& o) -> std::optional<std::string> {
      if (o.kind != Operand::Kind::path || o.path.size() != 1) return std::nullopt;
      return o.path[0].name;
    };
    switch (c->kind) {
      case K::or_: return bad_operator("OR");
      case K::not_: return bad_operator("NOT");
      case K::in: return bad_operator("IN");
      case K::attribute_exists: return bad_operator("attribute_exists");
      case K::attribute_not_exists: return bad_operator("attribute_not_exists");
      case K::attribute_type: return bad_operator("attribute_type");
      case K::contains: return bad_operator("contains");
      case K::compare: {
        if (c->op == Comparator::ne) return bad_operator("<>");
        const Operand* path = &c->operands[0];
        const Operand* value = &c->operands[1];
        Comparator op = c->op;
        if (path->kind != Operand::Kind::path) {  // ":v < sk" is "sk > :v"
          std::swap(path, value);
          switch (op) {
            case Comparator::lt: op = Comparator::gt; break;
            case Comparator::le: op = Comparator::ge; break;
            case Comparator::gt: op = Comparator::lt; break;
            case Comparator::ge: op = Comparator::le; break;
            default: break;
          }
        }
        auto name = single_name(*path);
        if (!name || value->kind != Operand::Kind::value) return not_supported();
        SortKeyCondition::Kind kind = SortKeyCondition::Kind::eq;
        switch (op) {
          case Comparator::lt: kind = SortKeyCondition::Kind::lt; break;
          case Comparator::le: kind = SortKeyCondition::Kind::le; break;
          case Comparator::gt: kind = SortKeyCondition::Kind::gt; break;
          case Comparator::ge: kind = SortKeyCondition::Kind::ge; break;
          default: break;
        }
        out.push_back({*name, kind, value->value, std::nullopt});
        break;
      }
      case K::between: {
        auto name = single_name(c->operands[0]);
        if (!name || c->operands[1].kind != Operand::Kind::value ||
            c->operands[2].kind != Operand::Kind::value)
          return not_supported();
        out.push_back({*name, SortKeyCondition::Kind::between, c->operands[1].value,
                       c->operands[2].value});
        break;
      }
      case K::begins_with: {
        auto name = single_name(c->operands[0]);
        if (!name || c->operands[1].kind != Operand::Kind::value) return not_supported();
        out.push_back({*name, SortKeyCondition::Kind::begins_with, c->operands[1].value,
                       std::nullopt});
        break;
      }
      case K::and_: return not_supported();
    }
  }

  auto missed = [](const std::string& name) {
    return fail(ErrorCode::ddb_validation,
                "Query condition missed key schema element: " + name);
  };
  if (out.size() > 2 || (out.size() == 2 && out[0].name == out[1].name))
    return fail(ErrorCode::ddb_validation,
                "KeyConditionExpressions must only contain one condition per key");
  KeyCondition kc;
  const Clause* hash = nullptr;
  for (const Clause& c : out) {
    if (c.name == hash_name) {
      hash = &c;
    } else if (range_name && c.name == *range_name) {
      kc.sort = SortKeyCondition{c.name, c.kind, c.a, c.b};
    } else {
      return missed(range_name && out.size() == 2 ? *range_name : hash_name);
    }
  }
  if (!hash) return missed(hash_name);
  if (hash->kind != SortKeyCondition::Kind::eq) return not_supported();
  kc.hash_name = hash->name;
  kc.hash_value = hash->a;
  return kc;
}

// ---------------------------------------------------------------- public: updates

std::vector<Path> UpdateExpression::paths() const {
  std::vector<Path> out;
  out.reserve(actions.size());
  for (const auto& a : actions) out.push_back(a.path);
  return out;
}

Result<UpdateExpression> parse_update(std::string_view text, ExpressionContext& ctx) {
  return run_parser<UpdateExpression>(text, "UpdateExpression", [&] {
    return Parser(text, ctx, Mode::update).parse_update();
  });
}

Status apply_update(const UpdateExpression& update, Item& item) {
  const Item before = item;
  // SET values are all computed from the item as it was before the update.
  std::vector<std::pair<const UpdateAction*, AttributeValue>> sets;
  std::vector<const UpdateAction*> removes;
  std::vector<const UpdateAction*> others;
  for (const auto& a : update.actions) {
    if (a.kind == UpdateAction::Kind::set) {
      auto v = eval_update_operand(a.value, before);
      if (!v) return std::unexpected(v.error());
      sets.emplace_back(&a, std::move(*v));
    } else if (a.kind == UpdateAction::Kind::remove) {
      removes.push_back(&a);
    } else {
      others.push_back(&a);
    }
  }
  for (auto& [a, v] : sets) {
    if (auto st = set_path(item, a->path, std::move(v)); !st) return st;
  }
  for (const UpdateAction* a : others) {
    bool add = a->kind == UpdateAction::Kind::add;
    auto r = combine_sets(find_path(before, a->path), a->value.value, add);
    if (!r) return std::unexpected(r.error());
    if (*r) {
      if (auto st = set_path(item, a->path, std::move(**r)); !st) return st;
    } else if (auto st = remove_path(item, a->path); !st) {
      return st;
    }
  }
  std::sort(removes.begin(), removes.end(), [](const UpdateAction* x, const UpdateAction* y) {
    return remove_order(x->path, y->path);
  });
  for (const UpdateAction* a : removes) {
    if (auto st = remove_path(item, a->path); !st) return st;
  }
  return {};
}

// ---------------------------------------------------------------- public: projections

Result<Projection> parse_projection(std::string_view text, ExpressionContext& ctx) {
  return run_parser<Projection>(text, "ProjectionExpression", [&] {
    return Parser(text, ctx, Mode::projection).parse_projection();
  });
}

Item project(const Item& item, const std::vector<Path>& paths) {
  ProjectionNode root;
  for (const Path& p : paths) {
    ProjectionNode* node = &root;
    for (const PathElement& e : p) {
      node = e.index ? &node->indexes[*e.index] : &node->names[e.name];
    }
    node->whole = true;
  }
  Item out;
  for (const auto& [name, child] : root.names) {
    auto it = item.find(name);
    if (it == item.end()) continue;
    if (auto v = project_value(it->second, child)) out.emplace(name, std::move(*v));
  }
  return out;
}

}  // namespace orderflow::engine::ddb
