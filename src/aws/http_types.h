// A socket-free description of one HTTP request, as the wire formats in this layer see it.
// The server fills it from Beast; the client builds it and hands it to its transport. Nothing
// here does I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderflow::aws {

// ASCII case-insensitive equality (header names, tokens).
bool iequals(std::string_view a, std::string_view b);
// ASCII lowercase copy.
std::string to_lower(std::string_view s);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  // Request target exactly as on the wire: path, then optionally '?' and the raw query.
  std::string target;
  // Header fields in wire order; names keep their case, values are raw (not trimmed).
  // A name may repeat.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of the first header named `name` (case-insensitive), or nullopt. The view
  // points into `headers` and is invalidated by any change to it.
  std::optional<std::string_view> header(std::string_view name) const;
  // Every value of headers named `name` (case-insensitive), in wire order.
  std::vector<std::string_view> header_values(std::string_view name) const;
  // Removes every header named `name` (case-insensitive); returns how many were removed.
  std::size_t remove_header(std::string_view name);
  // Replaces every header named `name` by one `name: value` at the end.
  void set_header(std::string name, std::string value);

  // `target` up to the first '?', and after it (without the '?'; empty when absent).
  std::string_view path() const;
  std::string_view query() const;
};

}  // namespace orderflow::aws
