// Helpers shared by the libFuzzer targets in this folder (not part of any layer): splitting one
// fuzz input into the pieces a target wants, so seed files stay readable text, and
// contract_broken(), which aborts so that libFuzzer reports the input as a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/http_types.h"

namespace orderflow::fuzz {

// Prints `what` and aborts: the fuzzer records the input as a crash.
[[noreturn]] inline void contract_broken(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz contract broken: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Removes and returns the text up to the first '\n' (without it; a trailing '\r' is dropped).
// The whole rest when there is no newline.
inline std::string_view take_line(std::string_view& in) {
  auto nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// "Method Target [HTTP/1.1]\nName: value\n...\n\nbody" (lines may end in \r\n) as an HttpRequest,
// header values kept raw as a server hands them over (only the separator's spaces removed).
// A line without ':' is skipped. Used by targets that build requests themselves.
inline aws::HttpRequest request_from_text(std::string_view in) {
  aws::HttpRequest req;
  std::string_view first = take_line(in);
  auto sp = first.find(' ');
  req.method = std::string(first.substr(0, sp));
  if (sp != std::string_view::npos) {
    std::string_view rest = first.substr(sp + 1);
    auto sp2 = rest.find(' ');
    req.target = std::string(rest.substr(0, sp2));
  }
  while (!in.empty()) {
    std::string_view line = take_line(in);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  req.body = std::string(in);
  return req;
}

}  // namespace orderflow::fuzz
