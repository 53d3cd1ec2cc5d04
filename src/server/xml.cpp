#include "server/xml.h"

namespace orderflow::server::xml {

void escape(std::string_view text, std::string& out) {
  out.reserve(out.size() + text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#xD;";
        break;
      case '\t':
      case '\n':
        out += c;
        break;
      default:
        // XML 1.0 has no way to carry the other C0 controls, not even as character
        // references: a parser stops at them. They become U+FFFD so the document stays valid.
        if (static_cast<unsigned char>(c) < 0x20) out += "\xEF\xBF\xBD";
        else out += c;
        break;
    }
  }
}

std::string escape(std::string_view text) {
  std::string out;
  escape(text, out);
  return out;
}

Writer& Writer::declaration() {
  out_ += "<?xml version=\"1.0\"?>";
  return *this;
}

Writer& Writer::open(std::string_view name, std::string_view xmlns) {
  out_ += '<';
  out_ += name;
  if (!xmlns.empty()) {
    out_ += " xmlns=\"";
    escape(xmlns, out_);
    out_ += '"';
  }
  out_ += '>';
  open_.emplace_back(name);
  return *this;
}

Writer& Writer::close() {
  out_ += "</";
  out_ += open_.back();
  out_ += '>';
  open_.pop_back();
  return *this;
}

Writer& Writer::text(std::string_view text) {
  escape(text, out_);
  return *this;
}

Writer& Writer::element(std::string_view name, std::string_view text) {
  return open(name).text(text).close();
}

std::string Writer::finish() {
  while (!open_.empty()) close();
  return std::move(out_);
}

}  // namespace orderflow::server::xml
