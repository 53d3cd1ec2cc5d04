#include "orders/decimal.h"

#include <algorithm>

namespace orderflow::orders {

namespace {

constexpr std::uint32_t kBase = 1'000'000'000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void Decimal::trim(Limbs& l) {
  while (!l.empty() && l.back() == 0) l.pop_back();
}

void Decimal::mul_small(Limbs& l, std::uint32_t m) {
  std::uint64_t carry = 0;
  for (auto& limb : l) {
    std::uint64_t v = static_cast<std::uint64_t>(limb) * m + carry;
    limb = static_cast<std::uint32_t>(v % kBase);
    carry = v / kBase;
  }
  if (carry) l.push_back(static_cast<std::uint32_t>(carry));
  trim(l);
}

void Decimal::scale_up(Limbs& l, int digits) {
  static constexpr std::uint32_t kPow10[] = {1,      10,      100,      1000,      10000,
                                             100000, 1000000, 10000000, 100000000};
  if (l.empty()) return;
  l.insert(l.begin(), static_cast<std::size_t>(digits / 9), 0u);
  if (digits % 9) mul_small(l, kPow10[digits % 9]);
}

std::string Decimal::digits_of(const Limbs& l) {
  if (l.empty()) return "0";
  std::string s = std::to_string(l.back());
  for (std::size_t i = l.size() - 1; i-- > 0;) {
    std::string part = std::to_string(l[i]);
    s.append(9 - part.size(), '0');
    s += part;
  }
  return s;
}

namespace {

// Builds the canonical (coefficient without trailing zeros) decimal of digits x 10^exponent.
struct Parts {
  std::string digits;
  int exponent;
};

Parts canonical(std::string digits, int exponent) {
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return {"", 0};
  digits.erase(0, first);
  std::size_t last = digits.find_last_not_of('0');
  exponent += static_cast<int>(digits.size() - 1 - last);
  digits.resize(last + 1);
  return {std::move(digits), exponent};
}

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  std::string digits;
  std::size_t int_start = i;
  while (i < text.size() && is_digit(text[i])) digits += text[i++];
  std::size_t int_len = i - int_start;
  if (int_len == 0) return std::nullopt;
  if (int_len > 1 && text[int_start] == '0') return std::nullopt;  // JSON: no leading zeros
  int frac_len = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i])) {
      digits += text[i++];
      ++frac_len;
    }
    if (frac_len == 0) return std::nullopt;
  }
  long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    std::size_t exp_start = i;
    while (i < text.size() && is_digit(text[i])) {
      if (exp < 1'000'000) exp = exp * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_start) return std::nullopt;
    if (exp_negative) exp = -exp;
  }
  if (i != text.size()) return std::nullopt;
  if (digits.size() > kMaxDigits) return std::nullopt;
  if (exp > 100'000 || exp < -100'000) return std::nullopt;

  Decimal d = from_digits(std::move(digits), static_cast<int>(exp) - frac_len);
  if (d.is_zero()) return d;  // including "-0"
  if (negative) return std::nullopt;
  if (d.exponent_ > kMaxExponent || d.exponent_ < -kMaxExponent) return std::nullopt;
  return d;
}

Decimal Decimal::from_digits(std::string digits, int exponent) {
  Parts p = canonical(std::move(digits), exponent);
  Decimal d;
  if (p.digits.empty()) return d;
  d.exponent_ = p.exponent;
  for (std::size_t end = p.digits.size(); end > 0;) {
    std::size_t begin = end >= 9 ? end - 9 : 0;
    std::uint32_t limb = 0;
    for (std::size_t k = begin; k < end; ++k) limb = limb * 10 + static_cast<std::uint32_t>(p.digits[k] - '0');
    d.coefficient_.push_back(limb);
    end = begin;
  }
  trim(d.coefficient_);
  return d;
}

Decimal Decimal::from_uint(std::uint64_t v) {
  return *parse(std::to_string(v));
}

bool Decimal::is_integer() const { return is_zero() || exponent_ >= 0; }

std::size_t Decimal::significant_digits() const {
  return is_zero() ? 0 : digits_of(coefficient_).size();
}

int Decimal::magnitude() const {
  return is_zero() ? 0 : static_cast<int>(significant_digits()) - 1 + exponent_;
}

Decimal operator+(const Decimal& a, const Decimal& b) {
  if (a.is_zero()) return b;
  if (b.is_zero()) return a;
  int e = std::min(a.exponent_, b.exponent_);
  Decimal::Limbs x = a.coefficient_, y = b.coefficient_;
  Decimal::scale_up(x, a.exponent_ - e);
  Decimal::scale_up(y, b.exponent_ - e);
  if (x.size() < y.size()) std::swap(x, y);
  std::uint32_t carry = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::uint64_t v = static_cast<std::uint64_t>(x[i]) + (i < y.size() ? y[i] : 0) + carry;
    x[i] = static_cast<std::uint32_t>(v % kBase);
    carry = static_cast<std::uint32_t>(v / kBase);
  }
  if (carry) x.push_back(carry);
  return Decimal::from_digits(Decimal::digits_of(x), e);
}

Decimal operator*(const Decimal& a, const Decimal& b) {
  if (a.is_zero() || b.is_zero()) return Decimal();
  const auto& x = a.coefficient_;
  const auto& y = b.coefficient_;
  std::vector<std::uint64_t> acc(x.size() + y.size() + 1, 0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::uint64_t carry = 0;
    for (std::size_t j = 0; j < y.size(); ++j) {
      std::uint64_t v = acc[i + j] + static_cast<std::uint64_t>(x[i]) * y[j] + carry;
      acc[i + j] = v % kBase;
      carry = v / kBase;
    }
    for (std::size_t k = i + y.size(); carry; ++k) {
      std::uint64_t v = acc[k] + carry;
      acc[k] = v % kBase;
      carry = v / kBase;
    }
  }
  Decimal::Limbs out(acc.begin(), acc.end());
  Decimal::trim(out);
  return Decimal::from_digits(Decimal::digits_of(out), a.exponent_ + b.exponent_);
}

int compare(const Decimal& a, const Decimal& b) {
  if (a.is_zero() || b.is_zero()) return (a.is_zero() ? 0 : 1) - (b.is_zero() ? 0 : 1);
  if (a.magnitude() != b.magnitude()) return a.magnitude() < b.magnitude() ? -1 : 1;
  int e = std::min(a.exponent_, b.exponent_);
  Decimal::Limbs x = a.coefficient_, y = b.coefficient_;
  Decimal::scale_up(x, a.exponent_ - e);
  Decimal::scale_up(y, b.exponent_ - e);
  if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  for (std::size_t i = x.size(); i-- > 0;) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

std::string Decimal::to_string() const {
  if (is_zero()) return "0";
  std::string d = digits_of(coefficient_);
  if (exponent_ >= 0) return d + std::string(static_cast<std::size_t>(exponent_), '0');
  auto frac = static_cast<std::size_t>(-exponent_);
  if (d.size() <= frac) return "0." + std::string(frac - d.size(), '0') + d;
  return d.substr(0, d.size() - frac) + "." + d.substr(d.size() - frac);
}


}  // namespace orderflow::orders
