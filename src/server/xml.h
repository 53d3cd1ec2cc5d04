// A tiny XML writer for the query-protocol responses (SNS, SQS): elements, escaped text and
// attributes, nothing else. No validation of names: callers pass literal element names.
//
// Escaping (aws-protocols.md section 8, trap 5): & < > " ' become entities, and CR becomes
// "&#xD;" so that XML parsers do not normalise CR LF to LF in message bodies. The other C0
// controls but tab and LF, which XML 1.0 cannot carry at all (an echoed input in an error
// message, say), become U+FFFD. Bytes are otherwise copied as they are (the caller guarantees
// valid UTF-8).
//
// Thread-compatible: one Writer per response.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orderflow::server::xml {

// Appends `text` to `out`, escaped for character data or a double-quoted attribute value.
void escape(std::string_view text, std::string& out);
std::string escape(std::string_view text);

class Writer {
 public:
  // `<?xml version="1.0"?>` (SQS responses start with it; SNS responses do not).
  Writer& declaration();
  // `<name>`, or `<name xmlns="...">` when `xmlns` is not empty.
  Writer& open(std::string_view name, std::string_view xmlns = {});
  // Closes the innermost open element. Precondition: one is open.
  Writer& close();
  // Escaped character data inside the current element.
  Writer& text(std::string_view text);
  // `<name>text</name>` in one call (`<name></name>` for empty text).
  Writer& element(std::string_view name, std::string_view text);

  // The document so far; closes every element still open.
  std::string finish();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

}  // namespace orderflow::server::xml
