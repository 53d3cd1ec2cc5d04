#include "server/wire.h"

#include "server/xml.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace orderflow::server {

ApiResponse query_error(std::string_view xmlns, const Error& error, const RequestContext& ctx) {
  const ErrorInfo& info = error.info();
  ApiResponse r;
  r.status = info.http_status;
  r.headers.emplace_back("Content-Type", "text/xml");
  r.body.reserve(256 + error.message.size());
  r.body += "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"";
  r.body += xmlns;
  r.body += "\"><Error><Type>";
  r.body += info.sender_fault ? "Sender" : "Receiver";
  r.body += "</Type><Code>";
  r.body += xml::escape(info.code);
  r.body += "</Code><Message>";
  r.body += xml::escape(error.message);
  r.body += "</Message><Detail/></Error><RequestId>";
  r.body += xml::escape(ctx.request_id);
  r.body += "</RequestId></ErrorResponse>";
  return r;
}

ApiResponse json_error(const Error& error, const RequestContext& ctx, JsonErrorStyle style) {
  (void)ctx;
  const ErrorInfo& info = error.info();
  ApiResponse r;
  r.status = info.http_status;
  r.headers.emplace_back("Content-Type", std::string(style.content_type));
  if (style.query_compatible) {
    r.headers.emplace_back("x-amzn-query-error",
                           std::string(info.code) + (info.sender_fault ? ";Sender" : ";Receiver"));
  }
  boost::json::object body;
  body["__type"] = info.json_type;
  body["message"] = error.message;
  r.body = boost::json::serialize(body);
  return r;
}

ApiResponse ok_response(std::string body, std::string_view content_type) {
  ApiResponse r;
  r.headers.emplace_back("Content-Type", std::string(content_type));
  r.body = std::move(body);
  return r;
}

}  // namespace orderflow::server
