#include "common/crc32.h"

#include <zlib.h>

#include <algorithm>

namespace orderflow {

std::uint32_t crc32(std::string_view bytes) {
  uLong c = ::crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {  // zlib takes uInt lengths
    auto n = static_cast<uInt>(std::min<std::size_t>(left, 1U << 30));
    c = ::crc32(c, p, n);
    p += n;
    left -= n;
  }
  return static_cast<std::uint32_t>(c);
}

}  // namespace orderflow
