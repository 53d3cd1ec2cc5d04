// AWS Signature Version 4 (AWS4-HMAC-SHA256): signing for our outbound client, verification
// for the server. Both use the same canonicalization, so a request signed here verifies here,
// and both reproduce the official test vectors (shared/testdata/sigv4).
//
// Canonicalization (non-S3 rules):
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
//                      SignedHeaders \n PayloadHash
//   CanonicalURI   the path (dot segments and empty segments removed unless PathMode::as_is),
//                  then percent-encoded once more with '/' kept: an already-encoded wire path
//                  "/a%20b" signs as "/a%2520b", as every AWS SDK does for non-S3 services.
//   CanonicalQuery every parameter re-encoded canonically (uri_reencode, '+' read as space),
//                  sorted by encoded name then encoded value, "name=value" joined by '&'.
//   CanonicalHeaders  the signed headers, lowercase names, values trimmed with inner runs of
//                  whitespace (including folded lines) collapsed to one space; repeated
//                  headers joined by ','.
//   PayloadHash    hex SHA-256 of the body, or the literal UNSIGNED-PAYLOAD.
//
// Thread-safety: every function is pure (or touches only its arguments) and may be called
// concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http_types.h"
#include "common/clock.h"

namespace orderflow::aws {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// How far X-Amz-Date may be from the server's clock.
inline constexpr std::chrono::minutes kMaxClockSkew{15};
// Bounds of X-Amz-Expires for presigned requests (one week).
inline constexpr std::chrono::seconds kMaxPresignExpiry{604800};

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty for long-term credentials
};

// "<access_key>/<date>/<region>/<service>/aws4_request", split.
struct CredentialScope {
  std::string access_key;
  std::string date;  // yyyymmdd
  std::string region;
  std::string service;

  // "<date>/<region>/<service>/aws4_request" (without the access key).
  std::string scope() const;
};

enum class PathMode {
  normalized,  // remove "." / ".." / empty segments (every service but S3)
  as_is,       // sign the path as given (S3)
};

// ---- Timestamps ----------------------------------------------------------------------------

// "20150830T123600Z" (ISO 8601 basic format, UTC, whole seconds).
std::string format_amz_date(TimePoint t);
// Parses exactly the format above; nullopt otherwise.
std::optional<TimePoint> parse_amz_date(std::string_view text);
// RFC 1123, e.g. "Sun, 30 Aug 2015 12:36:00 GMT" (what a server sends in `Date`).
std::string format_http_date(TimePoint t);
// Parses RFC 1123 dates as above; nullopt otherwise.
std::optional<TimePoint> parse_http_date(std::string_view text);

// ---- Building blocks (exposed for tests, diagnostics and other signers) --------------------

std::string canonical_uri(std::string_view path, PathMode mode);
// Canonical form of a raw query string (without '?'). Parameters whose decoded name is in
// `exclude` are left out (X-Amz-Signature when verifying a presigned request).
std::string canonical_query(std::string_view raw_query,
                            std::span<const std::string_view> exclude = {});
// `signed_headers` are lowercase names in signing order (normally sorted). A signed header
// that the request lacks canonicalizes to an empty value.
std::string canonical_request(const HttpRequest& req, std::span<const std::string> signed_headers,
                              std::string_view payload_hash, PathMode mode,
                              std::span<const std::string_view> exclude_query = {});
std::string string_to_sign(std::string_view amz_date, const CredentialScope& scope,
                           std::string_view canonical_request);
// The raw 32-byte key HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
// "aws4_request").
std::string signing_key(std::string_view secret_key, std::string_view date, std::string_view region,
                        std::string_view service);
// Lowercase hex HMAC-SHA256(signing_key, string_to_sign).
std::string signature_hex(std::string_view signing_key, std::string_view string_to_sign);

// Equality of two strings in time independent of where they differ (length is not secret).
bool constant_time_equals(std::string_view a, std::string_view b);

// ---- Signing -------------------------------------------------------------------------------

struct SigningOptions {
  PathMode path_mode = PathMode::normalized;
  // Add an x-amz-content-sha256 header (and sign it). S3 requires it; others ignore it.
  bool add_content_sha256_header = false;
  // Sign the literal UNSIGNED-PAYLOAD instead of the body's hash.
  bool unsigned_payload = false;
  // Add the session token after signing, unsigned (what AWS IoT expects). Default: signed.
  bool omit_session_token_from_signature = false;
};

// What a signature was computed from, for tests and debugging.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
};

// Signs `req` in place with the Authorization header. Precondition: `req` carries its Host
// header (and anything else to sign). Removes any earlier Authorization, X-Amz-Date,
// X-Amz-Security-Token and x-amz-content-sha256, then adds X-Amz-Security-Token (when
// credentials have a session token), X-Amz-Date, x-amz-content-sha256 (when asked) and
// Authorization, in that order. Every header is signed except hop-by-hop and proxy headers,
// User-Agent and X-Amzn-Trace-Id.
SigningResult sign(HttpRequest& req, const Credentials& credentials, std::string_view region,
                   std::string_view service, TimePoint now, const SigningOptions& options = {});

// Presigns `req` in place: appends X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders, X-Amz-Expires, [X-Amz-Security-Token,] X-Amz-Signature to its target's
// query (after any parameters already there). Headers are signed as in sign() but none are
// added. `expires` is clamped to [1 s, kMaxPresignExpiry]. The URL to hand out is
// scheme://host + req.target.
SigningResult presign(HttpRequest& req, const Credentials& credentials, std::string_view region,
                      std::string_view service, TimePoint now, std::chrono::seconds expires,
                      const SigningOptions& options = {});

// ---- Verification --------------------------------------------------------------------------

// Why a request was refused. Each maps to one AWS error per protocol; for instance
// signature_does_not_match is SignatureDoesNotMatch (query protocol, 403) and
// InvalidSignatureException (JSON protocol).
enum class AuthFailure {
  missing_authentication_token,  // no Authorization header and no X-Amz-* query auth
  incomplete_signature,          // auth present but malformed or missing parts
  invalid_client_token_id,       // access key unknown (UnrecognizedClientException in JSON)
  signature_does_not_match,      // wrong secret, tampered request, bad scope
  request_expired,               // X-Amz-Date more than 15 min off, or presigned URL expired
};

// Stable lowercase name, e.g. "signature_does_not_match" (for logs and test output).
std::string_view to_string(AuthFailure failure);

struct AuthError {
  AuthFailure failure;
  std::string message;  // the text AWS uses for this case
  // For signature_does_not_match: what the server computed (AWS returns these in some
  // services' messages; useful in debug logs). Empty otherwise.
  std::string canonical_request;
  std::string string_to_sign;
};

template <class T>
using AuthResult = std::expected<T, AuthError>;

struct VerifiedRequest {
  std::string access_key;
  std::string region;
  std::string service;
  TimePoint signed_at;
  bool presigned = false;
  std::string session_token;  // X-Amz-Security-Token if present (not validated here)
};

struct VerifyOptions {
  PathMode path_mode = PathMode::normalized;
  std::chrono::milliseconds max_clock_skew = kMaxClockSkew;
};

// Returns the secret key of `access_key`, or nullopt when the key is unknown. Called at most
// once per verify(), on the calling thread.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key)>;

// Verifies a request signed with the Authorization header or presigned in its query string.
// The SignedHeaders the client sent are used as given (never a list of our own). The region
// and service are reported, not checked: the caller compares them with what it serves.
AuthResult<VerifiedRequest> verify(const HttpRequest& req, const SecretLookup& lookup_secret,
                                   TimePoint now, const VerifyOptions& options = {});

// The credential scope a request claims, without verifying anything else about it, so the
// server can route form-encoded requests to SQS or SNS by the scope's service. Fails the same
// way verify() would when the auth information is absent or malformed.
AuthResult<CredentialScope> credential_scope(const HttpRequest& req);

}  // namespace orderflow::aws
