// Exact non-negative decimal numbers for money and quantities: value = coefficient x 10^exponent
// with an arbitrary-precision coefficient, so "0.1" * 3 == "0.3" exactly, as doubles never are.
//
// Thread-safety: a plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderflow::orders {

class Decimal {
 public:
  // Largest |exponent| accepted by parse(), and the most digits a parsed coefficient may have;
  // bounds the work any input can cause.
  static constexpr int kMaxExponent = 400;
  static constexpr std::size_t kMaxDigits = 400;

  Decimal() = default;  // zero

  // Parses JSON number syntax ("12", "12.50", "1.5e3", "-0"). Fails (nullopt) on anything else,
  // on a negative non-zero value, or outside the bounds above.
  static std::optional<Decimal> parse(std::string_view text);
  static Decimal from_uint(std::uint64_t v);

  bool is_zero() const { return coefficient_.empty(); }
  // True when the value has no fractional part (2, 2.0, 1e3).
  bool is_integer() const;
  // Significant decimal digits of the value (0 for zero; 12.50 has 3: 1, 2, 5).
  std::size_t significant_digits() const;
  // Exponent of the most significant digit (12.5 -> 1, 0.05 -> -2); 0 for zero.
  int magnitude() const;

  friend Decimal operator+(const Decimal& a, const Decimal& b);
  friend Decimal operator*(const Decimal& a, const Decimal& b);
  friend int compare(const Decimal& a, const Decimal& b);  // <0, 0, >0
  friend bool operator==(const Decimal& a, const Decimal& b) { return compare(a, b) == 0; }

  // Plain decimal notation without exponent and without trailing fractional zeros ("12.5").
  std::string to_string() const;

 private:
  using Limbs = std::vector<std::uint32_t>;  // base 1e9, least significant first, no leading 0s
  static void trim(Limbs& l);
  static void mul_small(Limbs& l, std::uint32_t m);
  static void scale_up(Limbs& l, int digits);  // l *= 10^digits
  static std::string digits_of(const Limbs& l);
  // digits x 10^exponent, canonicalized (no bounds checks: for results of + and *).
  static Decimal from_digits(std::string digits, int exponent);

  Limbs coefficient_;
  int exponent_ = 0;
};

}  // namespace orderflow::orders
