// A tiny binary record codec for the engine's on-disk values: length-prefixed fields in a
// fixed order per record kind. Format per field: u64 as 8 bytes big-endian; strings as a u32
// big-endian length then the bytes. Readers fail (return false) on truncated input instead of
// reading past the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orderflow::engine {

class Encoder {
 public:
  Encoder& u64(std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
    return *this;
  }
  Encoder& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v)); }
  Encoder& str(std::string_view s) {
    auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 3; i >= 0; --i) out_.push_back(static_cast<char>((n >> (i * 8)) & 0xff));
    out_.append(s);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool u64(std::uint64_t& v) {
    if (in_.size() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(8);
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool str(std::string& s) {
    if (in_.size() < 4) return false;
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(4);
    if (in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace orderflow::engine
