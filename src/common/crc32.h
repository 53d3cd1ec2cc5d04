// CRC-32 (IEEE 802.3, as zlib's crc32() computes it): the x-amz-crc32 header DynamoDB puts on
// every answer, written by the server and checked by the client. crc32("{}") == 2745614147.
#pragma once

#include <cstdint>
#include <string_view>

namespace orderflow {

std::uint32_t crc32(std::string_view bytes);

}  // namespace orderflow
