#include "aws/sigv4.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "aws/uri.h"
#include "common/util.h"

namespace orderflow::aws {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::seconds;

constexpr std::string_view kTerminator = "aws4_request";

constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

// Headers a signer must not sign: hop-by-hop and proxy headers, and ones that proxies or
// SDKs change in flight (the same list botocore uses).
constexpr std::array<std::string_view, 12> kUnsignedHeaders = {"authorization",
                                                               "connection",
                                                               "expect",
                                                               "keep-alive",
                                                               "proxy-authenticate",
                                                               "proxy-authorization",
                                                               "te",
                                                               "trailer",
                                                               "transfer-encoding",
                                                               "upgrade",
                                                               "user-agent",
                                                               "x-amzn-trace-id"};

constexpr std::array<std::string_view, 7> kWeekdays = {"Thu", "Fri", "Sat", "Sun",
                                                       "Mon", "Tue", "Wed"};  // 1970-01-01 = Thu
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Trimmed, with every run of whitespace (folded lines included) collapsed to one space.
void append_collapsed(std::string& out, std::string_view value) {
  value = trim(value);
  bool in_space = false;
  for (char c : value) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out += ' ';
    in_space = false;
    out += c;
  }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t next = s.find(sep, pos);
    if (next == std::string_view::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
}

std::string join(std::span<const std::string> parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// Parses exactly `n` decimal digits at s[pos...]; -1 if they are not all digits.
int digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<TimePoint> make_time(int y, int mo, int d, int h, int mi, int s) {
  if (y < 0 || mo < 1 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(y),
                                  std::chrono::month(static_cast<unsigned>(mo)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  auto t =
      std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) + seconds(s);
  return std::chrono::time_point_cast<Millis>(t);
}

struct Civil {
  int year;
  unsigned month, day, hour, minute, second, weekday;
};

Civil civil(TimePoint t) {
  auto secs = floor<seconds>(t);
  auto day_start = floor<days>(secs);
  std::chrono::year_month_day ymd{day_start};
  std::chrono::hh_mm_ss hms{secs - day_start};
  auto since_epoch = day_start.time_since_epoch().count();
  auto wd = static_cast<unsigned>(((since_epoch % 7) + 7) % 7);
  return Civil{static_cast<int>(ymd.year()),
               static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()),
               static_cast<unsigned>(hms.hours().count()),
               static_cast<unsigned>(hms.minutes().count()),
               static_cast<unsigned>(hms.seconds().count()),
               wd};
}

// botocore's remove_dot_segments: drop "." and empty segments, resolve "..", keep the leading
// slash, and a trailing slash when anything is left.
std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  for (std::string_view seg : split(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    result += out[i];
  }
  if (path.back() == '/' && !out.empty()) result += '/';
  return result;
}

bool is_unsigned_header(std::string_view lower_name) {
  return std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), lower_name) !=
         kUnsignedHeaders.end();
}

// The lowercase names of the headers sign()/presign() sign, sorted and unique.
std::vector<std::string> headers_to_sign(const HttpRequest& req, bool skip_security_token) {
  std::vector<std::string> names;
  for (const auto& [name, value] : req.headers) {
    std::string lower = to_lower(name);
    if (is_unsigned_header(lower)) continue;
    if (skip_security_token && lower == "x-amz-security-token") continue;
    names.push_back(std::move(lower));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string authorization_value(std::string_view access_key, const CredentialScope& scope,
                                std::string_view signed_headers, std::string_view signature) {
  std::string out(kSigV4Algorithm);
  out += " Credential=";
  out += access_key;
  out += '/';
  out += scope.scope();
  out += ", SignedHeaders=";
  out += signed_headers;
  out += ", Signature=";
  out += signature;
  return out;
}

SigningResult compute(const HttpRequest& req, std::span<const std::string> signed_headers,
                      std::string_view payload_hash, PathMode mode, std::string_view amz_date,
                      const CredentialScope& scope, std::string_view secret_key,
                      std::span<const std::string_view> exclude_query = {}) {
  SigningResult r;
  r.canonical_request = canonical_request(req, signed_headers, payload_hash, mode, exclude_query);
  r.string_to_sign = string_to_sign(amz_date, scope, r.canonical_request);
  r.signature = signature_hex(signing_key(secret_key, scope.date, scope.region, scope.service),
                              r.string_to_sign);
  return r;
}

void append_query_param(std::string& target, std::string_view name, std::string_view value) {
  // The query starts after the first '?'; a later '?' (legal in a query) is part of a value.
  std::size_t q = target.find('?');
  if (q == std::string::npos) {
    target += '?';
  } else if (q + 1 != target.size() && target.back() != '&') {
    target += '&';
  }
  target += name;
  target += '=';
  target += uri_encode(value);
}

// ---- Verification internals ----------------------------------------------------------------

AuthError auth_error(AuthFailure failure, std::string message) {
  return AuthError{failure, std::move(message), {}, {}};
}

std::unexpected<AuthError> reject(AuthFailure failure, std::string message) {
  return std::unexpected(auth_error(failure, std::move(message)));
}

// The auth information a request claims, parsed but not verified.
struct ClaimedAuth {
  bool presigned = false;
  CredentialScope scope;
  std::vector<std::string> signed_headers;  // lowercase, in the client's order
  std::string signature;
  std::string amz_date;  // basic format, as it goes into the string to sign
  TimePoint signed_at;
  std::optional<seconds> expires;  // presigned only
  std::string session_token;
  bool query_unsigned_payload = false;  // X-Amz-Content-Sha256=UNSIGNED-PAYLOAD in the query
};

std::string bad_date_message(std::string_view got) {
  return "Date must be in ISO-8601 'basic format'. Got '" + std::string(got) +
         "'. See http://en.wikipedia.org/wiki/ISO_8601";
}

std::string unsupported_algorithm_message(std::string_view algorithm) {
  return "Unsupported AWS 'algorithm': '" + std::string(algorithm) + "'";
}

AuthResult<void> parse_credential(std::string_view credential, ClaimedAuth& out) {
  auto parts = split(credential, '/');
  if (parts.size() != 5) {
    return reject(AuthFailure::incomplete_signature,
                  "Credential must have exactly 5 slash-delimited elements, e.g. "
                  "keyid/date/region/service/term, got '" +
                      std::string(credential) + "'");
  }
  if (parts[4] != kTerminator) {
    return reject(AuthFailure::signature_does_not_match,
                  "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                      std::string(parts[4]) + "'.");
  }
  out.scope.access_key = parts[0];
  out.scope.date = parts[1];
  out.scope.region = parts[2];
  out.scope.service = parts[3];
  return {};
}

AuthResult<void> parse_signed_headers(std::string_view list, ClaimedAuth& out) {
  for (std::string_view name : split(list, ';')) {
    if (name.empty()) continue;
    out.signed_headers.push_back(to_lower(name));
  }
  if (std::find(out.signed_headers.begin(), out.signed_headers.end(), "host") ==
      out.signed_headers.end()) {
    return reject(AuthFailure::incomplete_signature,
                  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return {};
}

AuthResult<void> check_scope_date(const ClaimedAuth& auth) {
  std::string_view day = std::string_view(auth.amz_date).substr(0, 8);
  if (auth.scope.date != day) {
    return reject(AuthFailure::signature_does_not_match,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                  "date from HTTP: '" +
                      auth.scope.date + "' != '" + std::string(day) + "', from '" + auth.amz_date +
                      "'.");
  }
  return {};
}

AuthResult<ClaimedAuth> parse_header_auth(const HttpRequest& req, std::string_view header) {
  ClaimedAuth auth;
  std::string_view value = trim(header);
  std::size_t space = value.find_first_of(" \t");
  std::string_view algorithm = value.substr(0, space);
  std::string_view rest =
      space == std::string_view::npos ? std::string_view() : value.substr(space);

  std::optional<std::string_view> credential, signed_headers, signature;
  if (algorithm == kSigV4Algorithm) {
    for (std::string_view pair : split(rest, ',')) {
      pair = trim(pair);
      if (pair.empty()) continue;
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        return reject(AuthFailure::incomplete_signature,
                      "'" + std::string(pair) +
                          "' not a valid key=value pair (missing equal-sign) in Authorization "
                          "header: '" +
                          std::string(value) + "'.");
      }
      std::string_view key = trim(pair.substr(0, eq));
      std::string_view val = trim(pair.substr(eq + 1));
      if (key == "Credential") credential = val;
      if (key == "SignedHeaders") signed_headers = val;
      if (key == "Signature") signature = val;
    }
  } else if (algorithm.starts_with("AWS4-")) {
    return reject(AuthFailure::incomplete_signature, unsupported_algorithm_message(algorithm));
  }

  auto amz_date = req.header("X-Amz-Date");
  auto date = amz_date ? amz_date : req.header("Date");

  std::string missing;
  if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!date) {
    missing +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (!missing.empty()) {
    return reject(AuthFailure::incomplete_signature,
                  missing + "Authorization=" + std::string(value));
  }

  std::string_view date_text = trim(*date);
  auto signed_at = parse_amz_date(date_text);
  if (!signed_at && !amz_date) signed_at = parse_http_date(date_text);
  if (!signed_at) return reject(AuthFailure::incomplete_signature, bad_date_message(date_text));
  auth.signed_at = *signed_at;
  auth.amz_date = format_amz_date(*signed_at);

  if (auto ok = parse_credential(*credential, auth); !ok) return std::unexpected(ok.error());
  if (auto ok = parse_signed_headers(*signed_headers, auth); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_scope_date(auth); !ok) return std::unexpected(ok.error());
  auth.signature = *signature;
  if (auto token = req.header("X-Amz-Security-Token")) auth.session_token = trim(*token);
  return auth;
}

const std::string* find_param(const QueryParams& params, std::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return &v;
  }
  return nullptr;
}

bool has_query_auth(const QueryParams& params) {
  return find_param(params, "X-Amz-Algorithm") || find_param(params, "X-Amz-Credential") ||
         find_param(params, "X-Amz-Signature");
}

AuthResult<ClaimedAuth> parse_query_auth(const QueryParams& params) {
  ClaimedAuth auth;
  auth.presigned = true;
  const std::string* algorithm = find_param(params, "X-Amz-Algorithm");
  const std::string* credential = find_param(params, "X-Amz-Credential");
  const std::string* signature = find_param(params, "X-Amz-Signature");
  const std::string* signed_headers = find_param(params, "X-Amz-SignedHeaders");
  const std::string* date = find_param(params, "X-Amz-Date");
  const std::string* expires = find_param(params, "X-Amz-Expires");

  std::string missing;
  auto require = [&](const std::string* p, std::string_view name) {
    if (p) return;
    if (!missing.empty()) missing += ' ';
    missing += "AWS query-string parameters must include '" + std::string(name) +
               "'. Re-examine the query-string parameters.";
  };
  require(algorithm, "X-Amz-Algorithm");
  require(credential, "X-Amz-Credential");
  require(signature, "X-Amz-Signature");
  require(signed_headers, "X-Amz-SignedHeaders");
  require(date, "X-Amz-Date");
  require(expires, "X-Amz-Expires");
  if (!missing.empty()) return reject(AuthFailure::incomplete_signature, missing);

  if (*algorithm != kSigV4Algorithm) {
    return reject(AuthFailure::incomplete_signature, unsupported_algorithm_message(*algorithm));
  }
  auto signed_at = parse_amz_date(*date);
  if (!signed_at) return reject(AuthFailure::incomplete_signature, bad_date_message(*date));
  auth.signed_at = *signed_at;
  auth.amz_date = *date;

  std::string_view e = *expires;
  bool negative = e.starts_with('-');
  if (negative) e.remove_prefix(1);
  if (e.empty() || e.size() > 12 || digits(e, 0, e.size()) < 0) {
    return reject(AuthFailure::incomplete_signature, "X-Amz-Expires should be a number");
  }
  std::int64_t n = 0;
  for (char c : e) n = n * 10 + (c - '0');
  if (negative && n != 0) {
    return reject(AuthFailure::incomplete_signature, "X-Amz-Expires must be non-negative");
  }
  if (n > kMaxPresignExpiry.count()) {
    return reject(AuthFailure::incomplete_signature,
                  "X-Amz-Expires must be less than a week (in seconds) that is 604800");
  }
  auth.expires = seconds(n);

  if (auto ok = parse_credential(*credential, auth); !ok) return std::unexpected(ok.error());
  if (auto ok = parse_signed_headers(*signed_headers, auth); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_scope_date(auth); !ok) return std::unexpected(ok.error());
  auth.signature = *signature;
  if (const std::string* token = find_param(params, "X-Amz-Security-Token")) {
    auth.session_token = *token;
  }
  if (const std::string* sha = find_param(params, "X-Amz-Content-Sha256")) {
    auth.query_unsigned_payload = *sha == kUnsignedPayload;
  }
  return auth;
}

AuthResult<ClaimedAuth> parse_auth(const HttpRequest& req) {
  auto header = req.header("Authorization");
  std::string_view raw_query = req.query();
  bool maybe_query_auth = raw_query.find("X-Amz-") != std::string_view::npos;
  if (!header && !maybe_query_auth) {
    return reject(AuthFailure::missing_authentication_token,
                  "Request is missing Authentication Token");
  }
  QueryParams params;
  if (maybe_query_auth) {
    auto parsed = parse_query(raw_query, Plus::space);
    if (parsed) {
      params = std::move(*parsed);
    } else if (!header) {
      return reject(AuthFailure::incomplete_signature,
                    "Malformed query string: " + parsed.error().message);
    }
  }
  bool query_auth = has_query_auth(params);
  if (header && query_auth) {
    return reject(AuthFailure::incomplete_signature,
                  "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                  "Signature query string parameter or the Authorization header should be "
                  "specified");
  }
  if (header) return parse_header_auth(req, *header);
  if (query_auth) return parse_query_auth(params);
  return reject(AuthFailure::missing_authentication_token,
                "Request is missing Authentication Token");
}

std::string skew_text(std::chrono::milliseconds skew) {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(skew).count();
  if (std::chrono::minutes(minutes) == skew) return std::to_string(minutes) + " min.";
  return std::to_string(std::chrono::duration_cast<seconds>(skew).count()) + " sec.";
}

AuthResult<void> check_time(const ClaimedAuth& auth, TimePoint now,
                            std::chrono::milliseconds skew) {
  if (auth.signed_at > now + skew) {
    return reject(AuthFailure::request_expired,
                  "Signature not yet current: " + auth.amz_date + " is still later than " +
                      format_amz_date(now + skew) + " (" + format_amz_date(now) + " + " +
                      skew_text(skew) + ")");
  }
  if (auth.presigned) {
    if (now > auth.signed_at + *auth.expires) {
      return reject(AuthFailure::request_expired, "Request has expired");
    }
  } else if (auth.signed_at < now - skew) {
    return reject(AuthFailure::request_expired,
                  "Signature expired: " + auth.amz_date + " is now earlier than " +
                      format_amz_date(now - skew) + " (" + format_amz_date(now) + " - " +
                      skew_text(skew) + ")");
  }
  return {};
}

}  // namespace

// ---- Public API ----------------------------------------------------------------------------

std::string CredentialScope::scope() const {
  std::string out = date;
  out += '/';
  out += region;
  out += '/';
  out += service;
  out += '/';
  out += kTerminator;
  return out;
}

std::string format_amz_date(TimePoint t) {
  Civil c = civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02u%02u%02uZ", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

std::optional<TimePoint> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  int y = digits(s, 0, 4), mo = digits(s, 4, 2), d = digits(s, 6, 2);
  int h = digits(s, 9, 2), mi = digits(s, 11, 2), sec = digits(s, 13, 2);
  return make_time(y, mo, d, h, mi, sec);
}

std::string format_http_date(TimePoint t) {
  Civil c = civil(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3s, %02u %.3s %04d %02u:%02u:%02u GMT",
                kWeekdays[c.weekday].data(), c.day, kMonths[c.month - 1].data(), c.year, c.hour,
                c.minute, c.second);
  return buf;
}

std::optional<TimePoint> parse_http_date(std::string_view s) {
  // "Sun, 30 Aug 2015 12:36:00 GMT"
  auto parts = split(trim(s), ' ');
  if (parts.size() != 6) return std::nullopt;
  std::string_view wd = parts[0];
  if (wd.size() != 4 || wd.back() != ',' ||
      std::find(kWeekdays.begin(), kWeekdays.end(), wd.substr(0, 3)) == kWeekdays.end()) {
    return std::nullopt;
  }
  std::string_view day = parts[1];
  if (day.empty() || day.size() > 2) return std::nullopt;
  int d = digits(day, 0, day.size());
  auto month = std::find(kMonths.begin(), kMonths.end(), parts[2]);
  if (month == kMonths.end()) return std::nullopt;
  int mo = static_cast<int>(month - kMonths.begin()) + 1;
  if (parts[3].size() != 4) return std::nullopt;
  int y = digits(parts[3], 0, 4);
  std::string_view hms = parts[4];
  if (hms.size() != 8 || hms[2] != ':' || hms[5] != ':') return std::nullopt;
  int h = digits(hms, 0, 2), mi = digits(hms, 3, 2), sec = digits(hms, 6, 2);
  if (parts[5] != "GMT" && parts[5] != "UTC") return std::nullopt;
  return make_time(y, mo, d, h, mi, sec);
}

std::string canonical_uri(std::string_view path, PathMode mode) {
  if (path.empty()) return "/";
  std::string p = mode == PathMode::normalized ? normalize_path(path) : std::string(path);
  return uri_encode(p, Slash::keep);
}

std::string canonical_query(std::string_view raw_query, std::span<const std::string_view> exclude) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string_view segment : split(raw_query, '&')) {
    if (segment.empty()) continue;
    std::size_t eq = segment.find('=');
    std::string_view raw_name = segment.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : segment.substr(eq + 1);
    if (!exclude.empty()) {
      auto name = uri_decode(raw_name, Plus::space);
      if (name && std::find(exclude.begin(), exclude.end(), *name) != exclude.end()) continue;
    }
    pairs.emplace_back(uri_reencode(raw_name, Plus::space), uri_reencode(raw_value, Plus::space));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string canonical_request(const HttpRequest& req, std::span<const std::string> signed_headers,
                              std::string_view payload_hash, PathMode mode,
                              std::span<const std::string_view> exclude_query) {
  std::string out = req.method;
  out += '\n';
  out += canonical_uri(req.path(), mode);
  out += '\n';
  out += canonical_query(req.query(), exclude_query);
  out += '\n';
  for (const std::string& name : signed_headers) {
    out += name;
    out += ':';
    bool first = true;
    for (const auto& [n, v] : req.headers) {
      if (!iequals(n, name)) continue;
      if (!first) out += ',';
      first = false;
      append_collapsed(out, v);
    }
    out += '\n';
  }
  out += '\n';
  out += join(signed_headers, ';');
  out += '\n';
  out += payload_hash;
  return out;
}

std::string string_to_sign(std::string_view amz_date, const CredentialScope& scope,
                           std::string_view canonical_request) {
  std::string out(kSigV4Algorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope.scope();
  out += '\n';
  out += sha256_hex(canonical_request);
  return out;
}

std::string signing_key(std::string_view secret_key, std::string_view date, std::string_view region,
                        std::string_view service) {
  // The key changes once a day per region and service: each thread keeps the last one it
  // derived (four HMACs saved on nearly every request signed or verified).
  struct Last {
    std::string secret, date, region, service, key;
  };
  thread_local Last last;
  if (!last.key.empty() && last.secret == secret_key && last.date == date &&
      last.region == region && last.service == service)
    return last.key;
  std::string k = hmac_sha256("AWS4" + std::string(secret_key), date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  k = hmac_sha256(k, kTerminator);
  last = Last{std::string(secret_key), std::string(date), std::string(region), std::string(service), k};
  return k;
}

std::string signature_hex(std::string_view signing_key, std::string_view string_to_sign) {
  return hex_encode(hmac_sha256(signing_key, string_to_sign));
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

SigningResult sign(HttpRequest& req, const Credentials& credentials, std::string_view region,
                   std::string_view service, TimePoint now, const SigningOptions& options) {
  req.remove_header("Authorization");
  req.remove_header("X-Amz-Date");
  req.remove_header("X-Amz-Security-Token");
  req.remove_header("X-Amz-Content-Sha256");

  std::string amz_date = format_amz_date(now);
  if (!credentials.session_token.empty()) {
    req.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  req.headers.emplace_back("X-Amz-Date", amz_date);
  std::string payload_hash =
      options.unsigned_payload ? std::string(kUnsignedPayload) : sha256_hex(req.body);
  if (options.add_content_sha256_header) {
    req.headers.emplace_back("x-amz-content-sha256", payload_hash);
  }

  CredentialScope scope{credentials.access_key, amz_date.substr(0, 8), std::string(region),
                        std::string(service)};
  std::vector<std::string> names = headers_to_sign(req, options.omit_session_token_from_signature);
  SigningResult r =
      compute(req, names, payload_hash, options.path_mode, amz_date, scope, credentials.secret_key);
  req.headers.emplace_back("Authorization", authorization_value(credentials.access_key, scope,
                                                                join(names, ';'), r.signature));
  return r;
}

SigningResult presign(HttpRequest& req, const Credentials& credentials, std::string_view region,
                      std::string_view service, TimePoint now, seconds expires,
                      const SigningOptions& options) {
  expires = std::clamp(expires, seconds(1), kMaxPresignExpiry);
  std::string amz_date = format_amz_date(now);
  CredentialScope scope{credentials.access_key, amz_date.substr(0, 8), std::string(region),
                        std::string(service)};
  std::vector<std::string> names = headers_to_sign(req, /*skip_security_token=*/false);
  std::string payload_hash =
      options.unsigned_payload ? std::string(kUnsignedPayload) : sha256_hex(req.body);

  append_query_param(req.target, "X-Amz-Algorithm", kSigV4Algorithm);
  append_query_param(req.target, "X-Amz-Credential", credentials.access_key + "/" + scope.scope());
  append_query_param(req.target, "X-Amz-Date", amz_date);
  append_query_param(req.target, "X-Amz-SignedHeaders", join(names, ';'));
  append_query_param(req.target, "X-Amz-Expires", std::to_string(expires.count()));
  bool token = !credentials.session_token.empty();
  if (token && !options.omit_session_token_from_signature) {
    append_query_param(req.target, "X-Amz-Security-Token", credentials.session_token);
  }
  SigningResult r =
      compute(req, names, payload_hash, options.path_mode, amz_date, scope, credentials.secret_key);
  if (token && options.omit_session_token_from_signature) {
    append_query_param(req.target, "X-Amz-Security-Token", credentials.session_token);
  }
  append_query_param(req.target, "X-Amz-Signature", r.signature);
  return r;
}

std::string_view to_string(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::missing_authentication_token:
      return "missing_authentication_token";
    case AuthFailure::incomplete_signature:
      return "incomplete_signature";
    case AuthFailure::invalid_client_token_id:
      return "invalid_client_token_id";
    case AuthFailure::signature_does_not_match:
      return "signature_does_not_match";
    case AuthFailure::request_expired:
      return "request_expired";
  }
  return "unknown";
}

AuthResult<CredentialScope> credential_scope(const HttpRequest& req) {
  auto auth = parse_auth(req);
  if (!auth) return std::unexpected(std::move(auth.error()));
  return std::move(auth->scope);
}

AuthResult<VerifiedRequest> verify(const HttpRequest& req, const SecretLookup& lookup_secret,
                                   TimePoint now, const VerifyOptions& options) {
  auto parsed = parse_auth(req);
  if (!parsed) return std::unexpected(std::move(parsed.error()));
  const ClaimedAuth& auth = *parsed;

  std::optional<std::string> secret = lookup_secret(auth.scope.access_key);
  if (!secret) {
    return reject(AuthFailure::invalid_client_token_id,
                  "The security token included in the request is invalid.");
  }
  if (auto ok = check_time(auth, now, options.max_clock_skew); !ok) {
    return std::unexpected(ok.error());
  }

  std::string payload_hash;
  auto content_sha = req.header("X-Amz-Content-Sha256");
  std::string_view claimed_sha = content_sha ? trim(*content_sha) : std::string_view();
  if (claimed_sha == kUnsignedPayload || (auth.presigned && auth.query_unsigned_payload)) {
    payload_hash = kUnsignedPayload;
  } else {
    payload_hash = sha256_hex(req.body);
    if (content_sha && to_lower(claimed_sha) != payload_hash) {
      return reject(AuthFailure::signature_does_not_match,
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed.");
    }
  }

  static constexpr std::array<std::string_view, 1> kWithoutSignature = {"X-Amz-Signature"};
  static constexpr std::array<std::string_view, 2> kWithoutSignatureAndToken = {
      "X-Amz-Signature", "X-Amz-Security-Token"};
  std::span<const std::string_view> exclude;
  if (auth.presigned) exclude = kWithoutSignature;

  SigningResult r = compute(req, auth.signed_headers, payload_hash, options.path_mode,
                            auth.amz_date, auth.scope, *secret, exclude);
  bool match = constant_time_equals(r.signature, auth.signature);
  if (!match && auth.presigned && !auth.session_token.empty()) {
    // A presigned URL may carry its session token unsigned, appended after signing (as
    // AWS IoT expects and the header form allows by leaving it out of SignedHeaders).
    SigningResult alt = compute(req, auth.signed_headers, payload_hash, options.path_mode,
                                auth.amz_date, auth.scope, *secret, kWithoutSignatureAndToken);
    match = constant_time_equals(alt.signature, auth.signature);
  }
  if (!match) {
    return std::unexpected(AuthError{AuthFailure::signature_does_not_match,
                                     std::string(kSignatureMismatch),
                                     std::move(r.canonical_request), std::move(r.string_to_sign)});
  }

  VerifiedRequest v;
  v.access_key = auth.scope.access_key;
  v.region = auth.scope.region;
  v.service = auth.scope.service;
  v.signed_at = auth.signed_at;
  v.presigned = auth.presigned;
  v.session_token = auth.session_token;
  return v;
}

}  // namespace orderflow::aws
