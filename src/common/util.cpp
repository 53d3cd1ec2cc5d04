#include "common/util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace orderflow {
namespace {

// OpenSSL 3 looks an algorithm up by name on every EVP_Digest(EVP_sha256(), ...) and allocates
// a context each time; on the hot paths (MD5 of every message, a receipt handle's HMAC, SigV4)
// that cost more than the hashing. The algorithms are fetched once per process and each thread
// keeps its contexts.
const EVP_MD* fetched_md(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) std::abort();  // the default provider lacks MD5/SHA-256: nothing can work
  return md;                        // kept for the life of the process
}

const EVP_MD* md5_md() {
  static const EVP_MD* md = fetched_md("MD5");
  return md;
}

const EVP_MD* sha256_md() {
  static const EVP_MD* md = fetched_md("SHA256");
  return md;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

std::string digest(const EVP_MD* md, std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1)
    std::abort();  // only allocation failure gets here
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

// One keyed HMAC-SHA256 context per thread; a call with the key of the previous call on this
// thread reuses its key schedule (EVP_MAC_init with a null key keeps the key set before).
struct HmacState {
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx;
  std::string key;
  bool keyed = false;
};

HmacState& hmac_state() {
  static EVP_MAC* mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  thread_local HmacState st{std::unique_ptr<EVP_MAC_CTX, MacCtxFree>(EVP_MAC_CTX_new(mac)), {}, false};
  if (st.ctx == nullptr) std::abort();
  return st;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string md5_hex(std::string_view data) { return hex_encode(digest(md5_md(), data)); }
std::string sha256(std::string_view data) { return digest(sha256_md(), data); }
std::string sha256_hex(std::string_view data) { return hex_encode(sha256(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  HmacState& st = hmac_state();
  int rc;
  if (st.keyed && st.key == key) {
    rc = EVP_MAC_init(st.ctx.get(), nullptr, 0, nullptr);
  } else {
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end()};
    st.keyed = false;
    rc = EVP_MAC_init(st.ctx.get(), reinterpret_cast<const unsigned char*>(key.data()),
                      key.size(), params);
    if (rc == 1) {
      st.key.assign(key);
      st.keyed = true;
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t len = 0;
  if (rc != 1 ||
      EVP_MAC_update(st.ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(st.ctx.get(), out.data(), &len, out.size()) != 1)
    std::abort();  // only allocation failure gets here
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                      std::uint8_t(bytes[i + 2]);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = std::uint8_t(bytes[i]) << 16;
    if (rest == 2) v |= std::uint8_t(bytes[i + 1]) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=') {
        if (i + 4 != text.size() || j < 2) return std::nullopt;
        v[j] = 0;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        v[j] = b64_value(c);
        if (v[j] < 0) return std::nullopt;
      }
    }
    std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>((n >> 16) & 255));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 255));
    if (pad < 1) out.push_back(static_cast<char>(n & 255));
  }
  return out;
}

std::string random_bytes(std::size_t n) {
  // RAND_bytes costs about as much per call for 16 bytes as for 512: each thread draws 512 at a
  // time and hands them out (never twice; a forked child drops what its parent drew).
  thread_local std::array<unsigned char, 512> pool{};
  thread_local std::size_t used = pool.size();
  thread_local pid_t owner = 0;
  if (pid_t pid = ::getpid(); pid != owner) {
    owner = pid;
    used = pool.size();
  }
  std::string out(n, '\0');
  auto fill = [](unsigned char* p, std::size_t len) {
    // RAND_bytes only fails when the OS entropy source is unusable; nothing sane can go on.
    if (RAND_bytes(p, static_cast<int>(len)) != 1) std::abort();
  };
  if (n > pool.size() / 4) {
    fill(reinterpret_cast<unsigned char*>(out.data()), n);
    return out;
  }
  if (pool.size() - used < n) {
    fill(pool.data(), pool.size());
    used = 0;
  }
  std::copy_n(pool.data() + used, n, out.data());
  std::fill_n(pool.data() + used, n, 0);
  used += n;
  return out;
}

std::string uuid4() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::optional<std::int64_t> parse_utc_ms(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.f+]Z
  auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    if (at + count > t.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
    return std::nullopt;
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(*year),
                                   std::chrono::month(static_cast<unsigned>(*month)),
                                   std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  std::size_t at = 19;
  std::int64_t millis = 0;
  if (t[at] == '.') {
    ++at;
    std::size_t start = at;
    int scale = 100;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
      millis += (t[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return std::nullopt;
  }
  if (at + 1 != t.size() || t[at] != 'Z') return std::nullopt;
  auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return ((static_cast<std::int64_t>(days) * 24 + *hour) * 60 + *minute) * 60'000 +
         std::int64_t{*second} * 1000 + millis;
}

void name_this_thread(const char* name) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s", name);
  ::pthread_setname_np(::pthread_self(), buf);
}

std::string iso8601_ms(std::int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_ms % 1000));
  return buf;
}

}  // namespace orderflow
