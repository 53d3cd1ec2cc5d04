// Small shared helpers: hashing, encodings and identifiers (OpenSSL underneath).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace orderflow {

// Lowercase hex MD5 of `data`.
std::string md5_hex(std::string_view data);
// Raw SHA-256 / hex SHA-256 / raw HMAC-SHA256.
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hex_encode(std::string_view bytes);

std::string base64_encode(std::string_view bytes);
// Strict standard base64 (with padding); nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

// A random version-4 UUID in canonical lowercase form.
std::string uuid4();
// `n` cryptographically random bytes.
std::string random_bytes(std::size_t n);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Names the calling thread (what `top -H`, `ps -L` and perf show; Linux keeps 15 bytes).
void name_this_thread(const char* name);

// A thread that names itself `name` (a string literal) and runs `f`.
template <class F>
std::thread named_thread(const char* name, F f) {
  return std::thread([name, f = std::move(f)]() mutable {
    name_this_thread(name);
    f();
  });
}

// ISO-8601 UTC with milliseconds and 'Z', e.g. 2026-11-30T10:41:41.123Z.
std::string iso8601_ms(std::int64_t epoch_ms);

// The reverse: milliseconds since the epoch of an RFC 3339 date-time in UTC with optional
// fraction ("2024-05-01T12:30:00.250Z", as the function writes receivedAt); nullopt otherwise.
std::optional<std::int64_t> parse_utc_ms(std::string_view text);

}  // namespace orderflow
