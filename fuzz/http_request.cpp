// Fuzz target: HTTP/1.1 request heads as the server reads them off a connection.
//
// The bytes are what a client sent on one keep-alive connection. They go through Beast's
// request parser with the server's limits (ServerOptions' header and body limits), as many
// pipelined requests as there are (at most 8); each parsed request becomes an aws::HttpRequest
// as server.cpp's Session::on_request builds it and is answered by the socket-free router
// (unsigned: health, metrics, the Runtime API, protocol detection, query and form parsing,
// credential scope and SigV4 refusals).
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_engine.h"
#include "server/server.h"

namespace {

namespace http = boost::beast::http;
using orderflow::fuzz::FuzzEngine;

// As Session::on_request converts Beast's request (server.cpp).
orderflow::aws::HttpRequest convert(http::request<http::string_body>& req) {
  orderflow::aws::HttpRequest in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  for (const auto& field : req) in.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  in.body = std::move(req.body());
  return in;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static FuzzEngine* fuzz_engine = new FuzzEngine();  // lives for the process
  static const orderflow::server::ServerOptions limits;

  std::string_view rest = orderflow::fuzz::as_text(data, size);
  for (int pipelined = 0; pipelined < 8 && !rest.empty(); ++pipelined) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    parser.body_limit(limits.body_limit);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    // Beast's read loop over a connection that has delivered exactly these bytes, then EOF.
    while (!parser.is_done()) {
      std::size_t n = parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += n;
      if (ec == http::error::need_more) {
        if (used < rest.size() && n > 0) continue;
        ec = {};
        parser.put_eof(ec);
        break;
      }
      if (ec || n == 0) break;
    }
    if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 and closes
    rest.remove_prefix(used);

    http::request<http::string_body> req = parser.release();
    orderflow::aws::HttpRequest in = convert(req);
    (void)in.path();
    (void)in.query();
    (void)in.header_values("Host");
    (void)orderflow::aws::credential_scope(in);
    fuzz_engine->call(in);
    if (!req.keep_alive()) break;
  }
  return 0;
}
