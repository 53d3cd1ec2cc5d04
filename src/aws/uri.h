// Percent-encoding as AWS uses it (RFC 3986), and parsing of query strings and
// application/x-www-form-urlencoded bodies.
//
// Encoding keeps only the unreserved set A-Z a-z 0-9 '-' '_' '.' '~' (and '/' when asked) and
// writes every other byte as %XX with uppercase hex; a space is "%20", never '+'. This is the
// encoding SigV4 canonicalization requires and the one AWS SDKs put on the wire.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderflow::aws {

// Whether '/' passes through uri_encode unencoded (for paths) or becomes %2F.
enum class Slash { encode, keep };
// Whether '+' in encoded text means a space (forms, query strings) or a literal '+'.
enum class Plus { literal, space };

// A malformed encoded input: what is wrong and where (byte offset into the input).
struct UriError {
  std::size_t offset = 0;
  std::string message;
};

template <class T>
using UriResult = std::expected<T, UriError>;

// Ordered name/value pairs, decoded. Names may repeat; order is the input order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// True for A-Z a-z 0-9 - _ . ~
bool is_unreserved(char c);

// Percent-encodes `text` byte by byte (UTF-8 stays as its bytes, e.g. U+1234 -> %E1%88%B4).
std::string uri_encode(std::string_view text, Slash slash = Slash::encode);

// Strict percent-decoding: every '%' must start a %XX escape with two hex digits (either case),
// or the result is a UriError. Decoded bytes are not checked for UTF-8 validity.
UriResult<std::string> uri_decode(std::string_view text, Plus plus = Plus::literal);

// Rewrites an encoded component into AWS canonical encoding: valid %XX escapes are decoded and
// re-encoded (so %7e -> ~, %2f -> %2F), other bytes are encoded as uri_encode does. Never
// fails: a '%' that does not start a valid escape is itself encoded as %25. With Plus::space,
// '+' becomes %20. Used for SigV4 canonical query strings, which must agree with what the
// signer computed from the decoded parameters.
std::string uri_reencode(std::string_view encoded, Plus plus = Plus::literal);

// Parses "a=1&b=x%20y&c" (a query string without '?', or a form body) into decoded pairs:
// [("a","1"), ("b","x y"), ("c","")]. Empty segments ("a=1&&b=2", trailing '&') are skipped;
// a segment without '=' has an empty value. With Plus::space (the default, as forms and
// query strings use it) '+' decodes to a space. Fails on a malformed % escape.
UriResult<QueryParams> parse_query(std::string_view text, Plus plus = Plus::space);

// The inverse of parse_query: "name=value" pairs, each side uri_encode'd, joined by '&', in
// the given order. A pair with an empty value is written "name=".
std::string format_query(const QueryParams& params);

}  // namespace orderflow::aws
