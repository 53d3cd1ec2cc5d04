// The HTTP server itself (the protocol logic is tested through handle() elsewhere): which
// thread runs a request's handler.
#include "server/server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <string>

namespace orderflow::server {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// One POST on a fresh connection; the answer's body.
std::string post(std::uint16_t port, const std::string& path) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req(http::verb::post, path, 11);
  req.set(http::field::host, "127.0.0.1");
  req.body() = "x";
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res.body();
}

ApiResponse text(std::string body) {
  ApiResponse r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

TEST(ServerTest, InlineRequestsAreAnsweredWhileEveryHandlerThreadWaits) {
  ServerOptions options;
  options.port = 0;
  options.handler_threads = 1;
  options.runs_inline = [](const aws::HttpRequest& r) { return r.path() == "/inline"; };
  auto server = Server::bind(options);
  ASSERT_TRUE(server) << server.error().message;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> blocking_started;
  ASSERT_TRUE((*server)->start([&](aws::HttpRequest req, Respond respond) {
    if (req.path() == "/inline") return respond(text("inline"));
    blocking_started.set_value();
    released.wait();  // holds the only handler thread
    respond(text("pooled"));
  }));
  std::uint16_t port = (*server)->port();
  auto pooled = std::async(std::launch::async, [port] { return post(port, "/pooled"); });
  blocking_started.get_future().wait();
  // The one pool thread is taken: only a request run on the io thread can be answered now.
  auto inline_answer = std::async(std::launch::async, [port] { return post(port, "/inline"); });
  ASSERT_EQ(inline_answer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(inline_answer.get(), "inline");
  EXPECT_EQ(pooled.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  release.set_value();
  EXPECT_EQ(pooled.get(), "pooled");
  (*server)->drain();
  (*server)->wait();
}

}  // namespace
}  // namespace orderflow::server
