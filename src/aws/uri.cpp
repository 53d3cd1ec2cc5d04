#include "aws/uri.h"

namespace orderflow::aws {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void append_escape(std::string& out, unsigned char byte) {
  out += '%';
  out += kHex[byte >> 4];
  out += kHex[byte & 0x0F];
}

void append_encoded(std::string& out, char c, Slash slash) {
  if (is_unreserved(c) || (c == '/' && slash == Slash::keep)) {
    out += c;
  } else {
    append_escape(out, static_cast<unsigned char>(c));
  }
}

// The byte of the escape starting at text[i] ('%'), or -1 when it is not a valid escape.
int escape_at(std::string_view text, std::size_t i) {
  if (i + 2 >= text.size()) return -1;
  int hi = hex_value(text[i + 1]);
  int lo = hex_value(text[i + 2]);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

}  // namespace

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string uri_encode(std::string_view text, Slash slash) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char c : text) append_encoded(out, c, slash);
  return out;
}

UriResult<std::string> uri_decode(std::string_view text, Plus plus) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int byte = escape_at(text, i);
      if (byte < 0) {
        std::string_view bad = text.substr(i, 3);
        return std::unexpected(UriError{i, "malformed percent-escape '" + std::string(bad) + "'"});
      }
      out += static_cast<char>(byte);
      i += 2;
    } else if (c == '+' && plus == Plus::space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string uri_reencode(std::string_view encoded, Plus plus) {
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 2);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      int byte = escape_at(encoded, i);
      if (byte >= 0) {
        append_encoded(out, static_cast<char>(byte), Slash::encode);
        i += 2;
        continue;
      }
    } else if (c == '+' && plus == Plus::space) {
      out += "%20";
      continue;
    }
    append_encoded(out, c, Slash::encode);
  }
  return out;
}

UriResult<QueryParams> parse_query(std::string_view text, Plus plus) {
  QueryParams params;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view segment = text.substr(pos, amp - pos);
    if (!segment.empty()) {
      std::size_t eq = segment.find('=');
      std::string_view raw_name = segment.substr(0, eq);
      std::string_view raw_value =
          eq == std::string_view::npos ? std::string_view() : segment.substr(eq + 1);
      auto name = uri_decode(raw_name, plus);
      if (!name) {
        name.error().offset += pos;
        return std::unexpected(std::move(name.error()));
      }
      auto value = uri_decode(raw_value, plus);
      if (!value) {
        value.error().offset += pos + eq + 1;
        return std::unexpected(std::move(value.error()));
      }
      params.emplace_back(std::move(*name), std::move(*value));
    }
    pos = amp + 1;
  }
  return params;
}

std::string format_query(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += uri_encode(name);
    out += '=';
    out += uri_encode(value);
  }
  return out;
}

}  // namespace orderflow::aws
