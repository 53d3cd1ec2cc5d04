#include "engine/logs.h"

#include <absl/container/btree_map.h>
#include <absl/container/btree_set.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/util.h"
#include "engine/codec.h"

namespace orderflow::engine {
namespace json = boost::json;

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxNameLength = 512;
constexpr int kMaxDescribeLimit = 50;
constexpr int kMaxEventsLimit = 10'000;
// FilterLogEvents examines at most this many events per call before answering with a token.
constexpr std::size_t kFilterScanBudget = 50'000;
// Events gathered per round while filtering (the mutex is released between rounds).
constexpr std::size_t kFilterRound = 1'000;
// Retention sweeps delete at most this many events per commit.
constexpr std::size_t kSweepChunk = 10'000;
constexpr std::uint64_t kSeqReserveStep = 1'000'000;
constexpr std::string_view kSeqReservedKey = "logs.seq_reserved";
constexpr std::string_view kGroupNamePattern = "[\\.\\-_/#A-Za-z0-9]+";
constexpr std::string_view kStreamNamePattern = "[^:*]*";
constexpr std::string_view kTagKeyPattern = "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$";
constexpr std::string_view kTagValuePattern = "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$";

// ---------------------------------------------------------------- errors

Error invalid(std::string message) {
  return Error{ErrorCode::logs_invalid_parameter, std::move(message)};
}

// AWS's wording for a model constraint: "1 validation error detected: Value 'x' at 'field'
// failed to satisfy constraint: <rule>".
Error violation(std::string_view value, std::string_view field, std::string_view rule) {
  return invalid("1 validation error detected: Value '" + std::string(value) + "' at '" +
                 std::string(field) + "' failed to satisfy constraint: " + std::string(rule));
}

Error group_missing() {
  return Error{ErrorCode::logs_resource_not_found, "The specified log group does not exist."};
}
Error stream_missing() {
  return Error{ErrorCode::logs_resource_not_found, "The specified log stream does not exist."};
}
Error bad_token() { return invalid("The specified nextToken is invalid."); }

Error limit_error(int limit, int max) {
  if (limit < 1)
    return violation(std::to_string(limit), "limit",
                     "Member must have value greater than or equal to 1");
  return violation(std::to_string(limit), "limit",
                   "Member must have value less than or equal to " + std::to_string(max));
}

// ---------------------------------------------------------------- names

bool group_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == '/' || c == '#';
}

Status check_group_name(std::string_view name, std::string_view field = "logGroupName") {
  if (name.empty())
    return std::unexpected(
        violation(name, field, "Member must have length greater than or equal to 1"));
  if (name.size() > kMaxNameLength)
    return std::unexpected(
        invalid("Invalid LogGroup or LogStream, both must have length less than or equal to 512."));
  if (!std::all_of(name.begin(), name.end(), group_name_char))
    return std::unexpected(violation(
        name, field,
        "Member must satisfy regular expression pattern: " + std::string(kGroupNamePattern)));
  return {};
}

Status check_stream_name(std::string_view name, std::string_view field = "logStreamName") {
  if (name.empty())
    return std::unexpected(
        violation(name, field, "Member must have length greater than or equal to 1"));
  if (name.size() > kMaxNameLength)
    return std::unexpected(
        invalid("Invalid LogGroup or LogStream, both must have length less than or equal to 512."));
  if (name.find_first_of(":*") != std::string_view::npos)
    return std::unexpected(violation(
        name, field,
        "Member must satisfy regular expression pattern: " + std::string(kStreamNamePattern)));
  return {};
}

// Letters, digits, spaces (any non-ASCII character counts as a letter) and _.:/=+-@.
bool tag_chars_ok(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) != 0 || c == ' ' || c == '_' || c == '.' || c == ':' ||
           c == '/' || c == '=' || c == '+' || c == '-' || c == '@';
  });
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Status check_tags(const LogTags& tags, std::string_view field) {
  for (const auto& [k, v] : tags) {
    if (k.empty() || code_points(k) > 128 || !tag_chars_ok(k))
      return std::unexpected(
          violation(k, field,
                    "Map keys must satisfy constraint: [Member must have length less than or "
                    "equal to 128, Member must have length greater than or equal to 1, Member "
                    "must satisfy regular expression pattern: " +
                        std::string(kTagKeyPattern) + "]"));
    if (code_points(v) > 256 || !tag_chars_ok(v))
      return std::unexpected(
          violation(v, field,
                    "Map value must satisfy constraint: [Member must have length less than or "
                    "equal to 256, Member must satisfy regular expression pattern: " +
                        std::string(kTagValuePattern) + "]"));
  }
  return {};
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// ---------------------------------------------------------------- numbers and tokens

// `v` in decimal, zero-padded to at least `width` digits.
std::string digits(std::uint64_t v, std::size_t width) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view d(buf, static_cast<std::size_t>(end - buf));
  std::string out(width > d.size() ? width - d.size() : 0, '0');
  out.append(d);
  return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A position in a stream (or a group): events are ordered by (timestamp, sequence number), and
// sequence numbers are unique across the service, so a position orders events of every stream.
struct Pos {
  std::int64_t ts = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const Pos&) const = default;
};

Pos successor(Pos p) {
  if (p.seq == std::numeric_limits<std::uint64_t>::max()) return Pos{p.ts + 1, 0};
  return Pos{p.ts, p.seq + 1};
}
Pos predecessor(Pos p) {
  if (p.seq > 0) return Pos{p.ts, p.seq - 1};
  if (p.ts > 0) return Pos{p.ts - 1, std::numeric_limits<std::uint64_t>::max()};
  return p;
}

std::string pos_digits(Pos p) {
  return digits(static_cast<std::uint64_t>(p.ts), 20) + digits(p.seq, 20);
}

std::optional<Pos> parse_pos_digits(std::string_view s) {
  if (s.size() != 40) return std::nullopt;
  auto ts = parse_u64(s.substr(0, 20));
  auto seq = parse_u64(s.substr(20));
  if (!ts || !seq || *ts > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::nullopt;
  return Pos{static_cast<std::int64_t>(*ts), *seq};
}

// GetLogEvents tokens: "f/<pos>" (events after pos) and "b/<pos>" (events before pos).
struct StreamToken {
  bool forward = true;
  Pos pos;
};
std::string format_stream_token(bool forward, Pos p) {
  return (forward ? "f/" : "b/") + pos_digits(p);
}
std::optional<StreamToken> parse_stream_token(std::string_view t) {
  if (t.size() < 2 || t[1] != '/' || (t[0] != 'f' && t[0] != 'b')) return std::nullopt;
  auto p = parse_pos_digits(t.substr(2));
  if (!p) return std::nullopt;
  return StreamToken{t[0] == 'f', *p};
}

// FilterLogEvents tokens: "e/a/<pos>" (ascending, after pos) or "e/d/<pos>" (descending, before).
struct FilterToken {
  bool ascending = true;
  Pos pos;
};
std::string format_filter_token(bool ascending, Pos p) {
  return std::string(ascending ? "e/a/" : "e/d/") + pos_digits(p);
}
std::optional<FilterToken> parse_filter_token(std::string_view t) {
  if (t.size() < 4 || t.substr(0, 2) != "e/" || t[3] != '/' || (t[2] != 'a' && t[2] != 'd'))
    return std::nullopt;
  auto p = parse_pos_digits(t.substr(4));
  if (!p) return std::nullopt;
  return FilterToken{t[2] == 'a', *p};
}

// Name-based tokens carry the last name returned, base64-encoded after a tag.
std::string name_token(std::string_view tag, std::string_view name) {
  return std::string(tag) + base64_encode(name);
}
std::optional<std::string> parse_name_token(std::string_view tag, std::string_view token) {
  if (token.substr(0, tag.size()) != tag) return std::nullopt;
  auto name = base64_decode(token.substr(tag.size()));
  if (!name || name->empty()) return std::nullopt;
  return name;
}

// ---------------------------------------------------------------- in-memory model

// One event in the index; its message lives in the cache or in the store.
struct Event {
  std::int64_t ts = 0;
  std::uint64_t seq = 0;
  std::int64_t ingestion = 0;
  std::uint32_t size = 0;  // message bytes
  Pos pos() const { return Pos{ts, seq}; }
};

struct EventLess {
  using is_transparent = void;
  static Pos key(const Event& e) { return e.pos(); }
  static Pos key(const Pos& p) { return p; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return key(a) < key(b);
  }
};
using EventIndex = absl::btree_set<Event, EventLess>;

struct Stream {
  std::uint64_t id = 0;
  std::uint64_t group_id = 0;
  std::string name;
  std::int64_t created = 0;
  std::int64_t first_ts = -1;  // -1: no event yet
  std::int64_t last_ts = -1;
  std::int64_t last_ingestion = -1;
  std::uint64_t uploads = 0;  // PutLogEvents calls: the sequence token
  EventIndex events;
  bool dirty = false;  // its record is to be rewritten with the buffered lines
};

struct Group {
  std::uint64_t id = 0;
  std::string name;
  std::int64_t created = 0;
  int retention_days = 0;  // 0: never expire
  std::string kms_key_id;
  std::string log_class = "STANDARD";
  bool deletion_protection = false;
  LogTags tags;
  std::int64_t stored_bytes = 0;
  std::map<std::string, Stream, std::less<>> streams;

  // Events with a smaller timestamp are past the retention.
  std::int64_t cutoff(std::int64_t now) const {
    return retention_days > 0 ? now - static_cast<std::int64_t>(retention_days) * kDayMs
                              : std::numeric_limits<std::int64_t>::min();
  }
};

// ---- records ----

std::string group_value(const Group& g) {
  Encoder e;
  e.u64(g.id)
      .i64(g.created)
      .i64(g.retention_days)
      .str(g.kms_key_id)
      .str(g.log_class)
      .u64(g.deletion_protection ? 1 : 0);
  e.u64(g.tags.size());
  for (const auto& [k, v] : g.tags) e.str(k).str(v);
  return e.take();
}

bool decode_group(std::string_view in, Group& g) {
  Decoder d(in);
  std::int64_t retention = 0;
  std::uint64_t protection = 0, ntags = 0;
  if (!(d.u64(g.id) && d.i64(g.created) && d.i64(retention) && d.str(g.kms_key_id) &&
        d.str(g.log_class) && d.u64(protection) && d.u64(ntags)))
    return false;
  g.retention_days = static_cast<int>(retention);
  g.deletion_protection = protection != 0;
  for (std::uint64_t i = 0; i < ntags; ++i) {
    std::string k, v;
    if (!(d.str(k) && d.str(v))) return false;
    g.tags.emplace(std::move(k), std::move(v));
  }
  return d.done();
}

std::string stream_key(std::uint64_t group_id, std::string_view name) {
  std::string k;
  put_u64_be(k, group_id);
  k.append(name);
  return k;
}

std::string stream_value(const Stream& s) {
  Encoder e;
  e.u64(s.id).i64(s.created).i64(s.first_ts).i64(s.last_ts).i64(s.last_ingestion).u64(s.uploads);
  return e.take();
}

bool decode_stream(std::string_view in, Stream& s) {
  Decoder d(in);
  return d.u64(s.id) && d.i64(s.created) && d.i64(s.first_ts) && d.i64(s.last_ts) &&
         d.i64(s.last_ingestion) && d.u64(s.uploads) && d.done();
}

std::string event_key(std::uint64_t stream_id, std::uint64_t seq) {
  std::string k;
  put_u64_be(k, stream_id);
  put_u64_be(k, seq);
  return k;
}

std::string event_value(std::int64_t ts, std::int64_t ingestion, std::string_view message) {
  Encoder e;
  e.i64(ts).i64(ingestion).str(message);
  return e.take();
}

bool decode_event(std::string_view in, std::int64_t& ts, std::int64_t& ingestion,
                  std::string& message) {
  Decoder d(in);
  return d.i64(ts) && d.i64(ingestion) && d.str(message) && d.done();
}

std::string sequence_token(std::uint64_t uploads) { return digits(uploads, 56); }
std::string event_id(Pos p) {
  return digits(static_cast<std::uint64_t>(p.ts), 20) + digits(p.seq, 36);
}

// What the writer thread's callbacks share with the service (they may outlive a Logs::Impl
// only by the time it takes the destructor to wait for them).
struct CommitProgress {
  // Every sequence number <= durable_seq is in a committed batch.
  std::atomic<std::uint64_t> durable_seq{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> error;  // guarded by mu: the first storage failure since the last success

  // A commit succeeded: it wrote every batch of earlier failed commits too (store.h), so an
  // earlier failure is over.
  void advance(std::uint64_t upto) {
    std::uint64_t cur = durable_seq.load();
    while (cur < upto && !durable_seq.compare_exchange_weak(cur, upto)) {
    }
    if (failed) {
      std::lock_guard g(mu);
      error.reset();
      failed = false;
    }
  }
  void fail(const Error& e) {
    std::lock_guard g(mu);
    if (!error) error = e;
    failed = true;
  }
  Error first_error() {
    std::lock_guard g(mu);
    return error.value_or(Error{ErrorCode::internal_error, "storage failure"});
  }
};

// An event picked under the mutex, completed (message read back) after releasing it.
struct Ref {
  std::uint64_t stream_id = 0;
  std::size_t stream_index = 0;  // into the round's stream names
  Event event;
  std::optional<std::string> message;  // nullopt: read it from the store
  bool gone = false;                   // deleted meanwhile
};

}  // namespace

// ================================================================ filter patterns

namespace {

struct PatternError {};

// `*` matches any run of characters.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

struct Selector {
  struct Seg {
    std::string name;  // member name, or empty for an index
    bool index = false;
    bool any = false;  // [*]
    std::size_t at = 0;
  };
  std::vector<Seg> segs;

  void resolve(const json::value& v, std::size_t i, std::vector<const json::value*>& out) const {
    if (i == segs.size()) {
      out.push_back(&v);
      return;
    }
    const Seg& s = segs[i];
    if (!s.index) {
      if (const auto* o = v.if_object())
        if (const auto* m = o->if_contains(s.name)) resolve(*m, i + 1, out);
      return;
    }
    const auto* a = v.if_array();
    if (a == nullptr) return;
    if (s.any) {
      for (const auto& e : *a) resolve(e, i + 1, out);
    } else if (s.at < a->size()) {
      resolve((*a)[s.at], i + 1, out);
    }
  }
};

struct JsonExpr {
  enum class Kind { and_, or_, compare };
  enum class Cmp { eq, ne, lt, le, gt, ge, is_true, is_false, is_null, not_exists };
  Kind kind = Kind::compare;
  std::unique_ptr<JsonExpr> lhs, rhs;
  Selector selector;
  Cmp cmp = Cmp::eq;
  bool numeric = false;
  double number = 0;
  std::string text;

  bool eval(const json::value& doc) const {
    if (kind == Kind::and_) return lhs->eval(doc) && rhs->eval(doc);
    if (kind == Kind::or_) return lhs->eval(doc) || rhs->eval(doc);
    std::vector<const json::value*> found;
    selector.resolve(doc, 0, found);
    if (cmp == Cmp::not_exists) return found.empty();
    for (const json::value* v : found)
      if (test(*v)) return true;
    return false;
  }

  static std::optional<double> as_number(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return v.get_double();
    return std::nullopt;
  }

  bool equal(const json::value& v) const {
    if (numeric) {
      auto n = as_number(v);
      return n && *n == number;
    }
    if (v.is_string()) return glob_match(text, std::string_view(v.get_string()));
    return false;
  }

  bool test(const json::value& v) const {
    switch (cmp) {
      case Cmp::eq:
        return equal(v);
      case Cmp::ne:
        return !v.is_null() && !equal(v);
      case Cmp::lt:
      case Cmp::le:
      case Cmp::gt:
      case Cmp::ge: {
        auto n = as_number(v);
        if (!n) return false;
        if (cmp == Cmp::lt) return *n < number;
        if (cmp == Cmp::le) return *n <= number;
        if (cmp == Cmp::gt) return *n > number;
        return *n >= number;
      }
      case Cmp::is_true:
        return v.is_bool() && v.get_bool();
      case Cmp::is_false:
        return v.is_bool() && !v.get_bool();
      case Cmp::is_null:
        return v.is_null();
      case Cmp::not_exists:
        return false;
    }
    return false;
  }
};

// Recursive-descent parser for `{ ... }` patterns (the text between the braces).
class JsonPatternParser {
 public:
  explicit JsonPatternParser(std::string_view s) : s_(s) {}

  std::unique_ptr<JsonExpr> parse() {
    auto e = parse_or(0);
    skip_ws();
    if (i_ != s_.size()) throw PatternError{};
    return e;
  }

 private:
  static constexpr int kMaxDepth = 32;

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool eat(std::string_view tok) {
    skip_ws();
    if (s_.substr(i_, tok.size()) != tok) return false;
    i_ += tok.size();
    return true;
  }

  std::unique_ptr<JsonExpr> parse_or(int depth) {
    auto lhs = parse_and(depth);
    while (eat("||")) {
      auto e = std::make_unique<JsonExpr>();
      e->kind = JsonExpr::Kind::or_;
      e->lhs = std::move(lhs);
      e->rhs = parse_and(depth);
      lhs = std::move(e);
    }
    return lhs;
  }

  std::unique_ptr<JsonExpr> parse_and(int depth) {
    auto lhs = parse_unary(depth);
    while (eat("&&")) {
      auto e = std::make_unique<JsonExpr>();
      e->kind = JsonExpr::Kind::and_;
      e->lhs = std::move(lhs);
      e->rhs = parse_unary(depth);
      lhs = std::move(e);
    }
    return lhs;
  }

  std::unique_ptr<JsonExpr> parse_unary(int depth) {
    if (depth > kMaxDepth) throw PatternError{};
    if (eat("(")) {
      auto e = parse_or(depth + 1);
      if (!eat(")")) throw PatternError{};
      return e;
    }
    return parse_comparison();
  }

  // An upper-case keyword (IS, NOT, EXISTS, TRUE, FALSE, NULL), case-insensitively.
  bool keyword(std::string_view kw) {
    skip_ws();
    if (s_.size() - i_ < kw.size()) return false;
    for (std::size_t k = 0; k < kw.size(); ++k)
      if (std::toupper(static_cast<unsigned char>(s_[i_ + k])) != kw[k]) return false;
    std::size_t end = i_ + kw.size();
    if (end < s_.size() &&
        (std::isalnum(static_cast<unsigned char>(s_[end])) != 0 || s_[end] == '_'))
      return false;
    i_ = end;
    return true;
  }

  Selector parse_selector() {
    skip_ws();
    if (i_ >= s_.size() || s_[i_] != '$') throw PatternError{};
    ++i_;
    Selector sel;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '.') {
        ++i_;
        std::size_t start = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) != 0 ||
                                  s_[i_] == '_' || s_[i_] == '-' || s_[i_] == '@' || s_[i_] == '$'))
          ++i_;
        if (i_ == start) throw PatternError{};
        sel.segs.push_back(
            Selector::Seg{std::string(s_.substr(start, i_ - start)), false, false, 0});
      } else if (c == '[') {
        ++i_;
        Selector::Seg seg;
        seg.index = true;
        if (i_ < s_.size() && s_[i_] == '*') {
          seg.any = true;
          ++i_;
        } else {
          std::size_t start = i_;
          while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) != 0) ++i_;
          auto n = parse_u64(s_.substr(start, i_ - start));
          if (!n) throw PatternError{};
          seg.at = static_cast<std::size_t>(*n);
        }
        if (i_ >= s_.size() || s_[i_] != ']') throw PatternError{};
        ++i_;
        sel.segs.push_back(std::move(seg));
      } else {
        break;
      }
    }
    if (sel.segs.empty()) throw PatternError{};
    return sel;
  }

  std::unique_ptr<JsonExpr> parse_comparison() {
    auto e = std::make_unique<JsonExpr>();
    e->selector = parse_selector();
    using Cmp = JsonExpr::Cmp;
    if (keyword("IS")) {
      if (keyword("TRUE"))
        e->cmp = Cmp::is_true;
      else if (keyword("FALSE"))
        e->cmp = Cmp::is_false;
      else if (keyword("NULL"))
        e->cmp = Cmp::is_null;
      else
        throw PatternError{};
      return e;
    }
    if (keyword("NOT")) {
      if (!keyword("EXISTS")) throw PatternError{};
      e->cmp = Cmp::not_exists;
      return e;
    }
    if (eat("!="))
      e->cmp = Cmp::ne;
    else if (eat("<="))
      e->cmp = Cmp::le;
    else if (eat(">="))
      e->cmp = Cmp::ge;
    else if (eat("="))
      e->cmp = Cmp::eq;
    else if (eat("<"))
      e->cmp = Cmp::lt;
    else if (eat(">"))
      e->cmp = Cmp::gt;
    else
      throw PatternError{};
    parse_value(*e);
    bool ordering =
        e->cmp == Cmp::lt || e->cmp == Cmp::le || e->cmp == Cmp::gt || e->cmp == Cmp::ge;
    if (ordering && !e->numeric) throw PatternError{};
    return e;
  }

  void parse_value(JsonExpr& e) {
    skip_ws();
    if (i_ >= s_.size()) throw PatternError{};
    if (s_[i_] == '"') {
      ++i_;
      std::string out;
      for (;;) {
        if (i_ >= s_.size()) throw PatternError{};
        char c = s_[i_++];
        if (c == '"') break;
        if (c == '\\' && i_ < s_.size()) c = s_[i_++];
        out.push_back(c);
      }
      e.text = std::move(out);
      return;
    }
    std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ' ' && s_[i_] != '\t' && s_[i_] != ')' && s_[i_] != '&' &&
           s_[i_] != '|')
      ++i_;
    std::string_view word = s_.substr(start, i_ - start);
    if (word.empty() || word.find_first_of("\"(){}[]=<>!") != std::string_view::npos)
      throw PatternError{};
    double d = 0;
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), d);
    if (ec == std::errc() && p == word.data() + word.size()) {
      e.numeric = true;
      e.number = d;
    } else {
      e.text = std::string(word);
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

struct FilterPattern::Impl {
  enum class Kind { everything, terms, json_expr };
  Kind kind = Kind::everything;
  std::vector<std::string> required;  // every one must appear
  std::vector<std::string> any_of;    // ?terms: at least one must appear (when there are some)
  std::vector<std::string> excluded;  // -terms: none may appear
  std::unique_ptr<JsonExpr> expr;
};

Result<FilterPattern> FilterPattern::parse(std::string_view pattern) {
  auto impl = std::make_shared<Impl>();
  auto bad = [] { return fail(ErrorCode::logs_invalid_parameter, "Invalid filter pattern"); };
  if (pattern.size() > 1024)
    return std::unexpected(
        violation(pattern, "filterPattern", "Member must have length less than or equal to 1024"));
  std::string_view p = pattern;
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!p.empty() && is_ws(p.front())) p.remove_prefix(1);
  while (!p.empty() && is_ws(p.back())) p.remove_suffix(1);
  if (p.empty()) return FilterPattern(std::move(impl));
  if (p.front() == '{') {
    if (p.back() != '}' || p.size() < 2) return bad();
    try {
      impl->expr = JsonPatternParser(p.substr(1, p.size() - 2)).parse();
    } catch (const PatternError&) {
      return bad();
    }
    impl->kind = Impl::Kind::json_expr;
    return FilterPattern(std::move(impl));
  }
  // Space-delimited ([...]) and regular-expression (%...%) patterns are not implemented.
  if (p.front() == '[' || (p.size() >= 2 && p.front() == '%' && p.back() == '%')) return bad();
  impl->kind = Impl::Kind::terms;
  std::size_t i = 0;
  while (i < p.size()) {
    if (is_ws(p[i])) {
      ++i;
      continue;
    }
    char mode = 0;
    if (p[i] == '?' || p[i] == '-') mode = p[i++];
    if (i >= p.size() || is_ws(p[i])) return bad();
    std::string term;
    if (p[i] == '"') {
      ++i;
      bool closed = false;
      while (i < p.size()) {
        char c = p[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < p.size()) c = p[i++];
        term.push_back(c);
      }
      if (!closed || term.empty()) return bad();
      if (i < p.size() && !is_ws(p[i])) return bad();
    } else {
      std::size_t start = i;
      while (i < p.size() && !is_ws(p[i])) ++i;
      term = std::string(p.substr(start, i - start));
      if (term.find_first_of("\"(){}[]") != std::string::npos) return bad();
    }
    if (mode == '?')
      impl->any_of.push_back(std::move(term));
    else if (mode == '-')
      impl->excluded.push_back(std::move(term));
    else
      impl->required.push_back(std::move(term));
  }
  return FilterPattern(std::move(impl));
}

bool FilterPattern::matches_everything() const { return impl_->kind == Impl::Kind::everything; }

bool FilterPattern::matches(std::string_view message) const {
  switch (impl_->kind) {
    case Impl::Kind::everything:
      return true;
    case Impl::Kind::terms: {
      for (const auto& t : impl_->required)
        if (!contains(message, t)) return false;
      for (const auto& t : impl_->excluded)
        if (contains(message, t)) return false;
      if (impl_->any_of.empty()) return true;
      return std::any_of(impl_->any_of.begin(), impl_->any_of.end(),
                         [&](const std::string& t) { return contains(message, t); });
    }
    case Impl::Kind::json_expr: {
      boost::system::error_code ec;
      json::parse_options opts;
      opts.max_depth = 64;
      json::value doc = json::parse(message, ec, {}, opts);
      if (ec || !(doc.is_object() || doc.is_array())) return false;
      return impl_->expr->eval(doc);
    }
  }
  return false;
}

// ================================================================ the service

struct Logs::Impl {
  Store& store;
  Clock& clock;
  LogsOptions options;
  std::shared_ptr<CommitProgress> progress = std::make_shared<CommitProgress>();

  mutable std::mutex mu;
  std::condition_variable cv;  // the background thread: buffered lines, stop, sweep time
  // ---- guarded by mu ----
  std::map<std::string, Group, std::less<>> groups;
  std::uint64_t next_group_id = 1;
  std::uint64_t next_stream_id = 1;
  std::uint64_t next_seq = 1;
  std::uint64_t seq_reserved = 0;
  // Message text of recent events, by sequence number (oldest first), and its charged size.
  absl::btree_map<std::uint64_t, std::string> cache;
  std::size_t cached_bytes = 0;
  // LogSink lines not yet submitted, and the streams whose records they change.
  WriteBatch pending;
  std::size_t pending_bytes = 0;
  std::vector<Stream*> dirty;
  std::uint64_t expired_events = 0;
  TimePoint next_sweep;
  bool stopping = false;
  // ---- not guarded ----
  std::atomic<std::uint64_t> dropped_lines{0};
  mutable std::atomic<std::uint64_t> store_reads{0};
  std::thread worker;

  Impl(Store& s, Clock& c, LogsOptions o) : store(s), clock(c), options(std::move(o)) {}

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }

  std::string group_arn(std::string_view name) const {
    return "arn:aws:logs:" + options.region + ":" + options.account_id +
           ":log-group:" + std::string(name);
  }

  // ---- lookups ----

  // The group named by `id` (a name, or an ARN of this account and region).
  Result<std::string> group_name(std::string_view id) const {
    if (id.starts_with("arn:")) {
      std::string prefix = group_arn("");
      if (!id.starts_with(prefix)) return std::unexpected(group_missing());
      std::string_view name = id.substr(prefix.size());
      if (name.ends_with(":*")) name.remove_suffix(2);
      if (auto st = check_group_name(name, "logGroupIdentifier"); !st)
        return std::unexpected(st.error());
      return std::string(name);
    }
    if (auto st = check_group_name(id); !st) return std::unexpected(st.error());
    return std::string(id);
  }

  Result<Group*> find_group(std::string_view id) {
    auto name = group_name(id);
    if (!name) return std::unexpected(name.error());
    auto it = groups.find(*name);
    if (it == groups.end()) return std::unexpected(group_missing());
    return &it->second;
  }
  Result<const Group*> find_group(std::string_view id) const {
    auto r = const_cast<Impl*>(this)->find_group(id);
    if (!r) return std::unexpected(r.error());
    return *r;
  }

  // ---- sequence numbers, the cache, submissions ----

  std::uint64_t allocate_seq(WriteBatch& b) {
    std::uint64_t s = next_seq++;
    if (s >= seq_reserved) {
      seq_reserved = s + kSeqReserveStep;
      std::string v;
      put_u64_be(v, seq_reserved);
      b.put(Space::counter, std::string(kSeqReservedKey), std::move(v));
    }
    return s;
  }

  static std::size_t charge(const std::string& m) { return m.size() + kCacheEntryOverhead; }

  void cache_message(std::uint64_t seq, std::string_view message) {
    auto [it, inserted] = cache.emplace(seq, std::string(message));
    if (inserted) cached_bytes += charge(it->second);
  }

  void uncache(std::uint64_t seq) {
    auto it = cache.find(seq);
    if (it == cache.end()) return;
    cached_bytes -= charge(it->second);
    cache.erase(it);
  }

  // Drops the oldest cached messages while over budget; only durable ones may go.
  void evict() {
    std::uint64_t durable = progress->durable_seq.load();
    while (cached_bytes > options.message_cache_bytes && !cache.empty()) {
      auto it = cache.begin();
      if (it->first > durable) return;
      cached_bytes -= charge(it->second);
      cache.erase(it);
    }
  }

  bool has_pending() const { return !pending.empty() || !dirty.empty(); }

  // The buffered lines (and the records of the streams they touched) as one batch.
  WriteBatch take_pending() {
    for (Stream* s : dirty) {
      s->dirty = false;
      pending.put(Space::log_stream, stream_key(s->group_id, s->name), stream_value(*s));
    }
    dirty.clear();
    WriteBatch b = std::move(pending);
    pending = WriteBatch();
    pending_bytes = 0;
    return b;
  }

  void mark_dirty(Stream& s) {
    if (s.dirty) return;
    s.dirty = true;
    dirty.push_back(&s);
  }

  // Submits the buffered lines followed by `own`; the future holds the outcome once durable as
  // `durability` asks. Call with mu held (store.h ordering contract).
  std::future<Status> submit(WriteBatch own, Durability durability = Durability::synced) {
    WriteBatch b = take_pending();
    b.append(std::move(own));
    std::uint64_t upto = next_seq - 1;
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    store.submit(std::move(b), [d = progress, upto, p](const Status& st) {
      if (st)
        d->advance(upto);
      else
        d->fail(st.error());
      p->set_value(st);
    }, durability);
    return f;
  }

  Status failed_status() const {
    if (progress->failed) return std::unexpected(progress->first_error());
    return {};
  }

  // ---- events ----

  void add_event(Group& g, Stream& s, std::int64_t ts, std::int64_t ingestion,
                 std::string_view message, WriteBatch& b) {
    std::uint64_t seq = allocate_seq(b);
    auto size = static_cast<std::uint32_t>(message.size());
    s.events.insert(Event{ts, seq, ingestion, size});
    b.put(Space::log_event, event_key(s.id, seq), event_value(ts, ingestion, message));
    cache_message(seq, message);
    g.stored_bytes += size;
    if (s.first_ts < 0 || ts < s.first_ts) s.first_ts = ts;
    if (ts > s.last_ts) s.last_ts = ts;
    if (ingestion > s.last_ingestion) s.last_ingestion = ingestion;
  }

  EventIndex::iterator erase_event(Group& g, Stream& s, EventIndex::iterator it, WriteBatch& b) {
    b.erase(Space::log_event, event_key(s.id, it->seq));
    uncache(it->seq);
    g.stored_bytes -= it->size;
    return s.events.erase(it);
  }

  // Erases every event and the record of `s` (not its map entry).
  void erase_stream(Group& g, Stream& s, WriteBatch& b) {
    for (auto it = s.events.begin(); it != s.events.end();) it = erase_event(g, s, it, b);
    b.erase(Space::log_stream, stream_key(g.id, s.name));
  }

  // ---- creation (shared by the API and the sink) ----

  // Adds `g` (its id and creation time are set here) and its record to `b`.
  Group& insert_group(Group g, std::int64_t now, WriteBatch& b) {
    g.id = next_group_id++;
    g.created = now;
    std::string name = g.name;
    auto [it, _] = groups.emplace(std::move(name), std::move(g));
    b.put(Space::log_group, it->second.name, group_value(it->second));
    return it->second;
  }

  Stream& insert_stream(Group& g, std::string_view name, std::int64_t now) {
    Stream s;
    s.id = next_stream_id++;
    s.group_id = g.id;
    s.name = std::string(name);
    s.created = now;
    auto [it, _] = g.streams.emplace(std::string(name), std::move(s));
    return it->second;
  }

  // ---- descriptions ----

  LogGroupInfo describe(const Group& g) const {
    LogGroupInfo i;
    i.log_group_name = g.name;
    i.creation_time = g.created;
    if (g.retention_days > 0) i.retention_in_days = g.retention_days;
    i.log_group_arn = group_arn(g.name);
    i.arn = i.log_group_arn + ":*";
    i.stored_bytes = g.stored_bytes;
    i.kms_key_id = g.kms_key_id;
    i.log_group_class = g.log_class;
    i.deletion_protection_enabled = g.deletion_protection;
    return i;
  }

  LogStreamInfo describe(const Group& g, const Stream& s) const {
    LogStreamInfo i;
    i.log_stream_name = s.name;
    i.creation_time = s.created;
    if (s.first_ts >= 0) i.first_event_timestamp = s.first_ts;
    if (s.last_ts >= 0) i.last_event_timestamp = s.last_ts;
    if (s.last_ingestion >= 0) i.last_ingestion_time = s.last_ingestion;
    if (s.uploads > 0 || s.last_ts >= 0) i.upload_sequence_token = sequence_token(s.uploads + 1);
    i.arn = group_arn(g.name) + ":log-stream:" + s.name;
    return i;
  }

  // ---- reading messages back ----

  // Fills in the messages of `refs` that were not cached; marks deleted events as gone.
  Status complete(std::vector<Ref>& refs) const {
    for (auto& r : refs) {
      if (r.message) continue;
      auto rec = store.get(Space::log_event, event_key(r.stream_id, r.event.seq));
      if (!rec) return std::unexpected(rec.error());
      store_reads.fetch_add(1, std::memory_order_relaxed);
      if (!*rec) {
        r.gone = true;
        continue;
      }
      std::int64_t ts = 0, ingestion = 0;
      std::string message;
      if (!decode_event(**rec, ts, ingestion, message))
        return fail(ErrorCode::internal_error, "corrupt log event record in the store");
      r.message = std::move(message);
    }
    return {};
  }

  Ref make_ref(const Stream& s, std::size_t stream_index, const Event& e) const {
    Ref r;
    r.stream_id = s.id;
    r.stream_index = stream_index;
    r.event = e;
    if (auto it = cache.find(e.seq); it != cache.end()) r.message = it->second;
    return r;
  }

  // ---- retention ----

  // Deletes up to kSweepChunk expired events; `more` tells whether some remain.
  std::optional<std::future<Status>> sweep_chunk(bool& more) {
    std::lock_guard g(mu);
    more = false;
    WriteBatch b;
    std::size_t n = 0;
    std::int64_t now = now_ms();
    for (auto& [gn, grp] : groups) {
      if (grp.retention_days <= 0) continue;
      std::int64_t cutoff = grp.cutoff(now);
      for (auto& [sn, s] : grp.streams) {
        while (!s.events.empty() && s.events.begin()->ts < cutoff) {
          if (n >= kSweepChunk) {
            more = true;
            break;
          }
          erase_event(grp, s, s.events.begin(), b);
          ++n;
        }
        if (more) break;
      }
      if (more) break;
    }
    if (n == 0) return std::nullopt;
    expired_events += n;
    return submit(std::move(b));
  }

  Status sweep() {
    std::vector<std::future<Status>> waits;
    bool more = true;
    while (more) {
      if (auto f = sweep_chunk(more)) waits.push_back(std::move(*f));
    }
    Status result;
    for (auto& f : waits) {
      Status st = f.get();
      if (!st && result) result = st;
    }
    return result;
  }

  // ---- the background thread: submits buffered lines, runs the retention sweep ----

  void run() {
    std::unique_lock lk(mu);
    for (;;) {
      if (has_pending()) {
        // Captured output nobody waits on: committed, fsynced with the next synced write
        // (store.h); an API call (PutLogEvents, ...) waits for the fsync of its own batch.
        auto f = submit(WriteBatch(), Durability::committed);
        lk.unlock();
        f.wait();  // lines written meanwhile ride in the next commit (group commit)
        lk.lock();
        evict();
        continue;
      }
      if (stopping) return;
      if (clock.now() >= next_sweep) {
        lk.unlock();
        (void)sweep();  // a failed commit is retried by the next one (store.h)
        lk.lock();
        next_sweep = clock.now() + options.sweep_interval;
        continue;
      }
      clock.wait_until(lk, cv, next_sweep);
    }
  }

  // ---- loading ----

  Status load() {
    std::unordered_map<std::uint64_t, Group*> groups_by_id;
    std::unordered_map<std::uint64_t, std::pair<Group*, Stream*>> streams_by_id;
    bool corrupt = false;
    auto st = store.scan(Space::log_group, [&](std::string_view key, std::string_view value) {
      Group g;
      if (!decode_group(value, g)) {
        corrupt = true;
        return;
      }
      g.name = std::string(key);
      next_group_id = std::max(next_group_id, g.id + 1);
      auto [it, _] = groups.emplace(g.name, std::move(g));
      groups_by_id[it->second.id] = &it->second;
    });
    if (!st) return st;
    st = store.scan(Space::log_stream, [&](std::string_view key, std::string_view value) {
      if (key.size() < 8) {
        corrupt = true;
        return;
      }
      Stream s;
      if (!decode_stream(value, s)) {
        corrupt = true;
        return;
      }
      s.group_id = get_u64_be(key.substr(0, 8));
      s.name = std::string(key.substr(8));
      next_stream_id = std::max(next_stream_id, s.id + 1);
      auto g = groups_by_id.find(s.group_id);
      if (g == groups_by_id.end()) return;  // left over from a deleted group
      auto [it, _] = g->second->streams.emplace(s.name, std::move(s));
      streams_by_id[it->second.id] = {g->second, &it->second};
    });
    if (!st) return st;
    std::uint64_t max_seq = 0;
    st = store.scan(Space::log_event, [&](std::string_view key, std::string_view value) {
      if (key.size() != 16) {
        corrupt = true;
        return;
      }
      std::int64_t ts = 0, ingestion = 0;
      std::string message;
      if (!decode_event(value, ts, ingestion, message)) {
        corrupt = true;
        return;
      }
      std::uint64_t seq = get_u64_be(key.substr(8));
      max_seq = std::max(max_seq, seq);
      auto s = streams_by_id.find(get_u64_be(key.substr(0, 8)));
      if (s == streams_by_id.end()) return;
      auto [grp, stream] = s->second;
      auto size = static_cast<std::uint32_t>(message.size());
      stream->events.insert(Event{ts, seq, ingestion, size});
      grp->stored_bytes += size;
      if (cached_bytes + message.size() + kCacheEntryOverhead <= options.message_cache_bytes)
        cache_message(seq, message);
    });
    if (!st) return st;
    if (corrupt)
      return fail(ErrorCode::internal_error, "corrupt CloudWatch Logs record in the store");
    auto reserved = store.get(Space::counter, kSeqReservedKey);
    if (!reserved) return std::unexpected(reserved.error());
    next_seq = std::max(max_seq + 1, *reserved ? get_u64_be(**reserved) : 1);
    seq_reserved = next_seq;  // the next allocation reserves a fresh range
    progress->durable_seq = next_seq - 1;
    next_sweep = clock.now();
    return {};
  }
};

// ================================================================ public API

Logs::Logs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Logs>> Logs::open(Store& store, Clock& clock, LogsOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, std::move(options));
  if (auto st = impl->load(); !st) return std::unexpected(st.error());
  Impl* raw = impl.get();
  raw->worker = named_thread("of-logs", [raw] { raw->run(); });
  return std::unique_ptr<Logs>(new Logs(std::move(impl)));
}

Logs::~Logs() {
  {
    std::lock_guard g(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  // Anything submitted after the worker's last flush (API calls racing the destructor) is
  // waited for here, so no store callback outlives this object's owner's expectations.
  std::future<Status> last;
  {
    std::lock_guard g(impl_->mu);
    last = impl_->submit(WriteBatch());
  }
  last.wait();
}

std::string Logs::log_group_arn(std::string_view name) const {
  return impl_->group_arn(name) + ":*";
}

// ---- groups ----

Status Logs::create_log_group(const CreateLogGroupRequest& request) {
  if (auto st = check_group_name(request.log_group_name); !st) return st;
  if (request.kms_key_id.size() > 256)
    return std::unexpected(violation(request.kms_key_id, "kmsKeyId",
                                     "Member must have length less than or equal to 256"));
  if (request.log_group_class != "STANDARD" && request.log_group_class != "INFREQUENT_ACCESS" &&
      request.log_group_class != "DELIVERY")
    return std::unexpected(
        violation(request.log_group_class, "logGroupClass",
                  "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]"));
  if (request.tags.size() > kMaxLogGroupTags)
    return std::unexpected(
        violation("{...}", "tags", "Member must have length less than or equal to 50"));
  if (auto st = check_tags(request.tags, "tags"); !st) return st;
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    if (impl_->groups.contains(request.log_group_name))
      return fail(ErrorCode::logs_resource_already_exists,
                  "The specified log group already exists");
    Group grp;
    grp.name = request.log_group_name;
    grp.kms_key_id = request.kms_key_id;
    grp.log_class = request.log_group_class;
    grp.deletion_protection = request.deletion_protection_enabled;
    grp.tags = request.tags;
    WriteBatch b;
    impl_->insert_group(std::move(grp), impl_->now_ms(), b);
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Status Logs::delete_log_group(std::string_view log_group) {
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    if ((*grp)->deletion_protection)
      return fail(ErrorCode::logs_validation,
                  "Log group " + (*grp)->name +
                      " has deletion protection enabled. Disable it before deleting.");
    // The buffered lines (and their stream records) go first, then the deletions.
    WriteBatch b = impl_->take_pending();
    for (auto& [n, s] : (*grp)->streams) impl_->erase_stream(**grp, s, b);
    b.erase(Space::log_group, (*grp)->name);
    impl_->groups.erase((*grp)->name);
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Result<DescribeLogGroupsResult> Logs::describe_log_groups(
    const DescribeLogGroupsRequest& request) const {
  int limit = request.limit.value_or(kMaxDescribeLimit);
  if (limit < 1 || limit > kMaxDescribeLimit)
    return std::unexpected(limit_error(limit, kMaxDescribeLimit));
  if (request.log_group_name_prefix && request.log_group_name_pattern)
    return fail(
        ErrorCode::logs_invalid_parameter,
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  if (request.log_group_name_prefix) {
    if (auto st = check_group_name(*request.log_group_name_prefix, "logGroupNamePrefix"); !st)
      return std::unexpected(st.error());
  }
  if (request.log_group_name_pattern) {
    const std::string& pat = *request.log_group_name_pattern;
    if (pat.size() > kMaxNameLength || !std::all_of(pat.begin(), pat.end(), group_name_char))
      return std::unexpected(
          violation(pat, "logGroupNamePattern",
                    "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]*"));
  }
  std::vector<std::string> only;
  for (const auto& id : request.log_group_identifiers) {
    auto name = impl_->group_name(id);
    if (!name) return std::unexpected(name.error());
    only.push_back(std::move(*name));
  }
  std::optional<std::string> after;
  if (request.next_token) {
    after = parse_name_token("g/", *request.next_token);
    if (!after) return std::unexpected(bad_token());
  }
  std::lock_guard g(impl_->mu);
  DescribeLogGroupsResult out;
  std::string_view prefix =
      request.log_group_name_prefix ? std::string_view(*request.log_group_name_prefix) : "";
  auto it = after ? impl_->groups.upper_bound(*after) : impl_->groups.lower_bound(prefix);
  for (; it != impl_->groups.end(); ++it) {
    const Group& grp = it->second;
    if (!grp.name.starts_with(prefix)) {
      if (grp.name > prefix) break;
      continue;
    }
    if (request.log_group_name_pattern && !contains(grp.name, *request.log_group_name_pattern))
      continue;
    if (request.log_group_class && grp.log_class != *request.log_group_class) continue;
    if (!request.log_group_identifiers.empty() &&
        std::find(only.begin(), only.end(), grp.name) == only.end())
      continue;
    if (out.log_groups.size() == static_cast<std::size_t>(limit)) {
      out.next_token = name_token("g/", out.log_groups.back().log_group_name);
      break;
    }
    out.log_groups.push_back(impl_->describe(grp));
  }
  return out;
}

Status Logs::put_retention_policy(std::string_view log_group, int days) {
  if (std::find(kLogRetentionDays.begin(), kLogRetentionDays.end(), days) ==
      kLogRetentionDays.end())
    return std::unexpected(
        violation(std::to_string(days), "retentionInDays",
                  "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, "
                  "180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"));
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    (*grp)->retention_days = days;
    WriteBatch b;
    b.put(Space::log_group, (*grp)->name, group_value(**grp));
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Status Logs::delete_retention_policy(std::string_view log_group) {
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    (*grp)->retention_days = 0;
    WriteBatch b;
    b.put(Space::log_group, (*grp)->name, group_value(**grp));
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Status Logs::put_deletion_protection(std::string_view log_group, bool enabled) {
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    (*grp)->deletion_protection = enabled;
    WriteBatch b;
    b.put(Space::log_group, (*grp)->name, group_value(**grp));
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Status Logs::tag_log_group(std::string_view log_group, const LogTags& tags) {
  if (tags.empty())
    return std::unexpected(
        violation("{}", "tags", "Member must have length greater than or equal to 1"));
  if (auto st = check_tags(tags, "tags"); !st) return st;
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    LogTags merged = (*grp)->tags;
    for (const auto& [k, v] : tags) merged[k] = v;
    if (merged.size() > kMaxLogGroupTags)
      return fail(ErrorCode::logs_too_many_tags, "A resource can have no more than 50 tags.");
    (*grp)->tags = std::move(merged);
    WriteBatch b;
    b.put(Space::log_group, (*grp)->name, group_value(**grp));
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Status Logs::untag_log_group(std::string_view log_group, const std::vector<std::string>& keys) {
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    for (const auto& k : keys) (*grp)->tags.erase(k);
    WriteBatch b;
    b.put(Space::log_group, (*grp)->name, group_value(**grp));
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Result<LogTags> Logs::list_tags(std::string_view log_group) const {
  std::lock_guard g(impl_->mu);
  auto grp = impl_->find_group(log_group);
  if (!grp) return std::unexpected(grp.error());
  return (*grp)->tags;
}

// ---- streams ----

Status Logs::create_log_stream(std::string_view log_group, std::string_view log_stream) {
  if (auto st = check_stream_name(log_stream); !st) return st;
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    if ((*grp)->streams.contains(log_stream))
      return fail(ErrorCode::logs_resource_already_exists,
                  "The specified log stream already exists");
    Stream& s = impl_->insert_stream(**grp, log_stream, impl_->now_ms());
    WriteBatch b;
    b.put(Space::log_stream, stream_key(s.group_id, s.name), stream_value(s));
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Status Logs::delete_log_stream(std::string_view log_group, std::string_view log_stream) {
  if (auto st = check_stream_name(log_stream); !st) return st;
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    auto it = (*grp)->streams.find(log_stream);
    if (it == (*grp)->streams.end()) return std::unexpected(stream_missing());
    if ((*grp)->deletion_protection)
      return fail(ErrorCode::logs_validation,
                  "Log group " + (*grp)->name +
                      " has deletion protection enabled. Disable it before deleting.");
    WriteBatch b = impl_->take_pending();
    impl_->erase_stream(**grp, it->second, b);
    (*grp)->streams.erase(it);
    done = impl_->submit(std::move(b));
  }
  return done.get();
}

Result<DescribeLogStreamsResult> Logs::describe_log_streams(
    const DescribeLogStreamsRequest& request) const {
  int limit = request.limit.value_or(kMaxDescribeLimit);
  if (limit < 1 || limit > kMaxDescribeLimit)
    return std::unexpected(limit_error(limit, kMaxDescribeLimit));
  bool by_time = request.order_by == LogStreamOrder::last_event_time;
  if (by_time && request.log_stream_name_prefix)
    return fail(ErrorCode::logs_invalid_parameter,
                "Cannot order by LastEventTime with a logStreamNamePrefix.");
  if (request.log_stream_name_prefix) {
    if (auto st = check_stream_name(*request.log_stream_name_prefix, "logStreamNamePrefix"); !st)
      return std::unexpected(st.error());
  }
  // Tokens: "sn<dir>/<base64 name>" by name, "st<dir>/<20-digit ts+1><base64 name>" by time.
  std::string tag = std::string(by_time ? "st" : "sn") + (request.descending ? "d/" : "a/");
  std::optional<std::pair<std::int64_t, std::string>> after;  // (last event time, name)
  if (request.next_token) {
    std::string_view t = *request.next_token;
    if (!t.starts_with(tag)) return std::unexpected(bad_token());
    t.remove_prefix(tag.size());
    std::int64_t ts = 0;
    if (by_time) {
      auto v = parse_u64(t.substr(0, 20));
      if (t.size() < 20 || !v) return std::unexpected(bad_token());
      ts = static_cast<std::int64_t>(*v) - 1;
      t.remove_prefix(20);
    }
    auto name = parse_name_token("", t);
    if (!name) return std::unexpected(bad_token());
    after.emplace(ts, std::move(*name));
  }
  std::lock_guard g(impl_->mu);
  auto grp = impl_->find_group(request.log_group);
  if (!grp) return std::unexpected(grp.error());
  const auto& streams = (*grp)->streams;
  std::string_view prefix =
      request.log_stream_name_prefix ? std::string_view(*request.log_stream_name_prefix) : "";
  // Candidates in the requested order, each with its sort key.
  using Key = std::pair<std::int64_t, std::string_view>;
  std::vector<std::pair<Key, const Stream*>> order;
  for (auto it = streams.lower_bound(prefix); it != streams.end() && it->first.starts_with(prefix);
       ++it)
    order.push_back({Key{by_time ? it->second.last_ts : 0, it->first}, &it->second});
  if (by_time)
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  if (request.descending) std::reverse(order.begin(), order.end());
  DescribeLogStreamsResult out;
  const Stream* last = nullptr;
  for (const auto& [key, s] : order) {
    if (after) {
      Key a{after->first, after->second};
      bool past = request.descending ? key < a : a < key;
      if (!past) continue;
    }
    if (out.log_streams.size() == static_cast<std::size_t>(limit)) {
      std::string token = tag;
      if (by_time) token += digits(static_cast<std::uint64_t>(last->last_ts + 1), 20);
      token += base64_encode(last->name);
      out.next_token = std::move(token);
      break;
    }
    out.log_streams.push_back(impl_->describe(**grp, *s));
    last = s;
  }
  return out;
}

// ---- events ----

Result<PutLogEventsResult> Logs::put_log_events(std::string_view log_group,
                                                std::string_view log_stream,
                                                const std::vector<InputLogEvent>& events) {
  if (auto st = check_stream_name(log_stream); !st) return std::unexpected(st.error());
  if (events.empty())
    return std::unexpected(
        violation("[]", "logEvents", "Member must have length greater than or equal to 1"));
  if (events.size() > kMaxLogEventsPerBatch)
    return std::unexpected(
        violation("[...]", "logEvents", "Member must have length less than or equal to 10000"));
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    std::string at = "logEvents." + std::to_string(i + 1) + ".member.";
    if (e.message.empty())
      return std::unexpected(
          violation("", at + "message", "Member must have length greater than or equal to 1"));
    if (e.timestamp < 0)
      return std::unexpected(violation(std::to_string(e.timestamp), at + "timestamp",
                                       "Member must have value greater than or equal to 0"));
    bytes += e.message.size() + kLogEventOverheadBytes;
  }
  if (bytes > kMaxLogBatchBytes)
    return fail(ErrorCode::logs_invalid_parameter, "Upload too large: " + std::to_string(bytes) +
                                                       " bytes exceeds limit of " +
                                                       std::to_string(kMaxLogBatchBytes));
  for (std::size_t i = 1; i < events.size(); ++i)
    if (events[i].timestamp < events[i - 1].timestamp)
      return fail(ErrorCode::logs_invalid_parameter,
                  "Log events in a single PutLogEvents request must be in chronological order.");

  PutLogEventsResult out;
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(log_group);
    if (!grp) return std::unexpected(grp.error());
    auto it = (*grp)->streams.find(log_stream);
    if (it == (*grp)->streams.end()) return std::unexpected(stream_missing());
    Stream& s = it->second;
    std::int64_t now = impl_->now_ms();
    std::int64_t newest = now + kMaxLogEventFuture.count();
    std::int64_t oldest = now - kMaxLogEventAge.count();
    std::int64_t cutoff = (*grp)->cutoff(now);
    std::size_t n = events.size();
    std::size_t too_new = n, too_old = 0, expired = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (events[i].timestamp > newest) {
        too_new = i;
        break;
      }
    }
    for (std::size_t i = 0; i < n && events[i].timestamp < oldest; ++i) too_old = i + 1;
    for (std::size_t i = 0; i < n && events[i].timestamp < cutoff; ++i) expired = i + 1;
    std::size_t first = std::max(too_old, expired);
    if (first < too_new &&
        events[too_new - 1].timestamp - events[first].timestamp > kMaxLogBatchSpan.count())
      return fail(ErrorCode::logs_invalid_parameter,
                  "The batch of log events in a single PutLogEvents request cannot span more than "
                  "24 hours.");
    if (too_new < n) out.too_new_log_event_start_index = static_cast<int>(too_new);
    if (too_old > 0) out.too_old_log_event_end_index = static_cast<int>(too_old);
    if (expired > 0) out.expired_log_event_end_index = static_cast<int>(expired);
    WriteBatch b;
    for (std::size_t i = first; i < too_new; ++i)
      impl_->add_event(**grp, s, events[i].timestamp, now, events[i].message, b);
    ++s.uploads;
    out.next_sequence_token = sequence_token(s.uploads + 1);
    b.put(Space::log_stream, stream_key(s.group_id, s.name), stream_value(s));
    done = impl_->submit(std::move(b));
    impl_->evict();
  }
  if (auto st = done.get(); !st) return std::unexpected(st.error());
  return out;
}

Result<GetLogEventsResult> Logs::get_log_events(const GetLogEventsRequest& request) const {
  if (auto st = check_stream_name(request.log_stream_name); !st) return std::unexpected(st.error());
  int limit = request.limit.value_or(kMaxEventsLimit);
  if (limit < 1 || limit > kMaxEventsLimit)
    return std::unexpected(limit_error(limit, kMaxEventsLimit));
  if (request.start_time && *request.start_time < 0)
    return std::unexpected(violation(std::to_string(*request.start_time), "startTime",
                                     "Member must have value greater than or equal to 0"));
  if (request.end_time && *request.end_time < 0)
    return std::unexpected(violation(std::to_string(*request.end_time), "endTime",
                                     "Member must have value greater than or equal to 0"));
  std::optional<StreamToken> token;
  if (request.next_token) {
    token = parse_stream_token(*request.next_token);
    if (!token) return std::unexpected(bad_token());
  }
  std::vector<Ref> refs;
  GetLogEventsResult out;
  {
    std::lock_guard g(impl_->mu);
    auto grp = impl_->find_group(request.log_group);
    if (!grp) return std::unexpected(grp.error());
    auto sit = (*grp)->streams.find(request.log_stream_name);
    if (sit == (*grp)->streams.end()) return std::unexpected(stream_missing());
    const Stream& s = sit->second;
    std::int64_t lo =
        std::max<std::int64_t>(request.start_time.value_or(0), (*grp)->cutoff(impl_->now_ms()));
    lo = std::max<std::int64_t>(lo, 0);
    std::int64_t hi = request.end_time.value_or(std::numeric_limits<std::int64_t>::max());
    Pos lo_pos{lo, 0}, hi_pos{hi, 0};  // the range is [lo_pos, hi_pos): seq numbers start at 1
    bool forward = token ? token->forward : request.start_from_head;
    std::size_t bytes = 0;
    auto fits = [&](const Event& e) {
      std::size_t add = e.size + kLogEventOverheadBytes;
      if (!refs.empty() && bytes + add > kMaxLogResponseBytes) return false;
      bytes += add;
      return true;
    };
    if (lo_pos < hi_pos) {
      if (forward) {
        // After the token (exclusive), from the start of the range.
        auto it = token && lo_pos < token->pos ? s.events.upper_bound(token->pos)
                                               : s.events.lower_bound(lo_pos);
        for (; it != s.events.end() && it->pos() < hi_pos; ++it) {
          if (refs.size() == static_cast<std::size_t>(limit) || !fits(*it)) break;
          refs.push_back(impl_->make_ref(s, 0, *it));
        }
      } else {
        // Before the token (exclusive), back to the start of the range.
        Pos to = token && token->pos < hi_pos ? token->pos : hi_pos;
        if (lo_pos < to) {
          auto begin = s.events.lower_bound(lo_pos);
          auto it = s.events.lower_bound(to);
          while (it != begin) {
            --it;
            if (refs.size() == static_cast<std::size_t>(limit) || !fits(*it)) break;
            refs.push_back(impl_->make_ref(s, 0, *it));
          }
          std::reverse(refs.begin(), refs.end());
        }
      }
    }
    if (!refs.empty()) {
      out.next_forward_token = format_stream_token(true, refs.back().event.pos());
      out.next_backward_token = format_stream_token(false, refs.front().event.pos());
    } else if (token && token->forward) {
      out.next_forward_token = *request.next_token;
      out.next_backward_token = format_stream_token(false, successor(token->pos));
    } else if (token) {
      out.next_backward_token = *request.next_token;
      out.next_forward_token = format_stream_token(true, predecessor(token->pos));
    } else {
      out.next_forward_token = format_stream_token(true, lo_pos);
      out.next_backward_token = format_stream_token(false, lo_pos);
    }
  }
  if (auto st = impl_->complete(refs); !st) return std::unexpected(st.error());
  out.events.reserve(refs.size());
  for (auto& r : refs) {
    if (r.gone) continue;
    out.events.push_back(OutputLogEvent{r.event.ts, std::move(*r.message), r.event.ingestion});
  }
  return out;
}

Result<FilterLogEventsResult> Logs::filter_log_events(const FilterLogEventsRequest& request) const {
  int limit = request.limit.value_or(kMaxEventsLimit);
  if (limit < 1 || limit > kMaxEventsLimit)
    return std::unexpected(limit_error(limit, kMaxEventsLimit));
  if (!request.log_stream_names.empty() && request.log_stream_name_prefix)
    return fail(ErrorCode::logs_invalid_parameter,
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
  if (request.log_stream_names.size() > 100)
    return std::unexpected(
        violation("[...]", "logStreamNames", "Member must have length less than or equal to 100"));
  for (const auto& n : request.log_stream_names)
    if (auto st = check_stream_name(n, "logStreamNames"); !st) return std::unexpected(st.error());
  if (request.log_stream_name_prefix) {
    if (auto st = check_stream_name(*request.log_stream_name_prefix, "logStreamNamePrefix"); !st)
      return std::unexpected(st.error());
  }
  for (auto [v, field] :
       {std::pair{request.start_time, "startTime"}, std::pair{request.end_time, "endTime"}})
    if (v && *v < 0)
      return std::unexpected(violation(std::to_string(*v), field,
                                       "Member must have value greater than or equal to 0"));
  auto pattern = FilterPattern::parse(request.filter_pattern);
  if (!pattern) return std::unexpected(pattern.error());
  std::optional<FilterToken> token;
  if (request.next_token) {
    token = parse_filter_token(*request.next_token);
    if (!token) return std::unexpected(bad_token());
  }
  bool ascending = token ? token->ascending : request.start_from_head.value_or(true);
  constexpr std::int64_t kJan2024 = 1'704'067'200'000;
  if (!ascending && !token && request.start_time && *request.start_time < kJan2024)
    return fail(
        ErrorCode::logs_invalid_parameter,
        "startFromHead false is supported only with a startTime on or after 2024-01-01T00:00:00Z.");

  FilterLogEventsResult out;
  std::optional<Pos> cursor = token ? std::optional<Pos>(token->pos) : std::nullopt;
  std::size_t scanned = 0, bytes = 0;
  for (;;) {
    // ---- one round under the mutex: the next events in order, from every selected stream ----
    std::vector<Ref> refs;
    std::vector<std::string> names;
    bool exhausted = true;
    {
      std::lock_guard g(impl_->mu);
      auto grp = impl_->find_group(request.log_group);
      if (!grp) return std::unexpected(grp.error());
      std::int64_t lo =
          std::max<std::int64_t>(request.start_time.value_or(0), (*grp)->cutoff(impl_->now_ms()));
      std::int64_t hi = request.end_time.value_or(std::numeric_limits<std::int64_t>::max());
      Pos lo_pos{std::max<std::int64_t>(lo, 0), 0};
      Pos hi_pos{hi, std::numeric_limits<std::uint64_t>::max()};  // inclusive end
      std::vector<const Stream*> selected;
      if (!request.log_stream_names.empty()) {
        for (const auto& n : request.log_stream_names)
          if (auto it = (*grp)->streams.find(n); it != (*grp)->streams.end())
            selected.push_back(&it->second);
        std::sort(selected.begin(), selected.end());
        selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
      } else {
        std::string_view prefix =
            request.log_stream_name_prefix ? std::string_view(*request.log_stream_name_prefix) : "";
        for (auto it = (*grp)->streams.lower_bound(prefix);
             it != (*grp)->streams.end() && it->first.starts_with(prefix); ++it)
          selected.push_back(&it->second);
      }
      // A k-way merge over the streams' indexes, by position.
      struct Head {
        Pos pos;
        std::size_t stream;
        EventIndex::const_iterator it;
      };
      auto later = [ascending](const Head& a, const Head& b) {
        return ascending ? b.pos < a.pos : a.pos < b.pos;
      };
      std::priority_queue<Head, std::vector<Head>, decltype(later)> heap(later);
      for (std::size_t i = 0; i < selected.size(); ++i) {
        const EventIndex& ev = selected[i]->events;
        if (ascending) {
          // The first event after the cursor (exclusive) and inside [lo_pos, hi_pos].
          auto it = cursor && lo_pos < *cursor ? ev.upper_bound(*cursor) : ev.lower_bound(lo_pos);
          if (it != ev.end() && !(hi_pos < it->pos())) heap.push(Head{it->pos(), i, it});
        } else {
          // The last event before the cursor (exclusive) and inside [lo_pos, hi_pos].
          auto it = cursor && *cursor < hi_pos ? ev.lower_bound(*cursor) : ev.upper_bound(hi_pos);
          if (it != ev.begin()) {
            --it;
            if (!(it->pos() < lo_pos)) heap.push(Head{it->pos(), i, it});
          }
        }
      }
      std::size_t want = pattern->matches_everything()
                             ? static_cast<std::size_t>(limit) - out.events.size()
                             : kFilterRound;
      want = std::min(want, kFilterScanBudget - scanned);
      names.reserve(selected.size());
      for (const Stream* s : selected) names.push_back(s->name);
      while (!heap.empty() && refs.size() < want) {
        Head h = heap.top();
        heap.pop();
        const Stream& s = *selected[h.stream];
        refs.push_back(impl_->make_ref(s, h.stream, *h.it));
        auto it = h.it;
        if (ascending) {
          ++it;
          if (it != s.events.end() && !(hi_pos < it->pos()))
            heap.push(Head{it->pos(), h.stream, it});
        } else if (it != s.events.begin()) {
          --it;
          if (!(it->pos() < lo_pos)) heap.push(Head{it->pos(), h.stream, it});
        }
      }
      exhausted = heap.empty();
    }
    // ---- outside the mutex: messages from the store, the pattern, the page limits ----
    if (auto st = impl_->complete(refs); !st) return std::unexpected(st.error());
    bool full = false;  // the page is complete
    bool more = false;  // and there may be events after it
    for (std::size_t i = 0; i < refs.size() && !full; ++i) {
      Ref& r = refs[i];
      ++scanned;
      cursor = r.event.pos();
      if (r.gone || !pattern->matches(*r.message)) continue;
      std::size_t add = r.message->size() + kLogEventOverheadBytes;
      if (!out.events.empty() && bytes + add > kMaxLogResponseBytes) {
        // 1 MB: this event starts the next page.
        cursor = ascending ? predecessor(r.event.pos()) : successor(r.event.pos());
        full = more = true;
        break;
      }
      bytes += add;
      FilteredLogEvent e;
      e.log_stream_name = names[r.stream_index];
      e.timestamp = r.event.ts;
      e.message = std::move(*r.message);
      e.ingestion_time = r.event.ingestion;
      e.event_id = event_id(r.event.pos());
      out.events.push_back(std::move(e));
      if (out.events.size() == static_cast<std::size_t>(limit)) {
        full = true;
        more = i + 1 < refs.size() || !exhausted;
      }
    }
    if (full) {
      if (more) out.next_token = format_filter_token(ascending, *cursor);
      break;
    }
    if (exhausted) break;
    if (scanned >= kFilterScanBudget) {
      out.next_token = format_filter_token(ascending, *cursor);
      break;
    }
  }
  return out;
}

// ---- the sink ----

void Logs::write(std::string_view group, std::string_view stream, TimePoint time,
                 std::string_view message) {
  if (!check_group_name(group) || !check_stream_name(stream)) {
    impl_->dropped_lines.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  message = utf8_prefix(message, kMaxSinkMessageBytes);
  bool wake = false;
  {
    std::lock_guard g(impl_->mu);
    if (impl_->progress->failed || impl_->stopping ||
        impl_->pending_bytes + message.size() > impl_->options.max_pending_bytes) {
      impl_->dropped_lines.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    wake = !impl_->has_pending();
    std::int64_t now = impl_->now_ms();
    auto git = impl_->groups.find(group);
    Group* grp = git != impl_->groups.end() ? &git->second : nullptr;
    if (grp == nullptr) {
      Group fresh;
      fresh.name = std::string(group);
      grp = &impl_->insert_group(std::move(fresh), now, impl_->pending);
    }
    auto sit = grp->streams.find(stream);
    Stream& s = sit != grp->streams.end() ? sit->second : impl_->insert_stream(*grp, stream, now);
    impl_->add_event(*grp, s, std::max<std::int64_t>(to_epoch_ms(time), 0), now, message,
                     impl_->pending);
    impl_->pending_bytes += message.size();
    impl_->mark_dirty(s);
    impl_->evict();
  }
  if (wake) impl_->cv.notify_one();
}

Status Logs::flush() {
  std::future<Status> done;
  {
    std::lock_guard g(impl_->mu);
    done = impl_->submit(WriteBatch());
  }
  Status st = done.get();
  std::lock_guard g(impl_->mu);
  impl_->evict();
  if (!st) return st;
  return impl_->failed_status();
}

Status Logs::sweep_expired() {
  Status st = impl_->sweep();
  Status barrier = flush();  // also waits for a sweep the background thread had started
  if (!st) return st;
  return barrier;
}

LogsStats Logs::stats() const {
  std::lock_guard g(impl_->mu);
  LogsStats s;
  s.groups = impl_->groups.size();
  for (const auto& [gn, grp] : impl_->groups) {
    s.streams += grp.streams.size();
    for (const auto& [sn, st] : grp.streams) s.events += st.events.size();
  }
  s.cached_messages = impl_->cache.size();
  s.cached_bytes = impl_->cached_bytes;
  s.store_reads = impl_->store_reads.load();
  s.dropped_lines = impl_->dropped_lines.load();
  s.expired_events = impl_->expired_events;
  return s;
}

}  // namespace orderflow::engine
