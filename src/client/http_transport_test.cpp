#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "client/testing/loopback_http_server.h"
#include "client/transport.h"

namespace orderflow::client {
namespace {

using testing::CannedResponse;
using testing::LoopbackHttpServer;
using testing::ReceivedRequest;

// A server that answers one connection with whatever `script` writes on the socket (raw bytes,
// for answers LoopbackHttpServer does not make: chunked, close-delimited, interim, none).
class ScriptedServer {
 public:
  using Script = std::function<void(int fd)>;
  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      ADD_FAILURE() << "cannot listen";
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      script_(c);
      ::close(c);
    });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  // Reads until the end of a request head (these tests send no bodies to scripted servers).
  static std::string read_head(int fd) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    return in;
  }
  static void write(int fd, std::string_view data) {
    ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  }

 private:
  Script script_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

OutboundRequest get(const std::string& url) {
  OutboundRequest r;
  r.method = "GET";
  r.url = url;
  r.timeout = Millis(5000);
  return r;
}

// A GET answered by a server that writes `raw` after the request head, then closes.
TransportResult get_answered_with(std::string raw) {
  ScriptedServer server([&raw](int fd) {
    ScriptedServer::read_head(fd);
    ScriptedServer::write(fd, raw);
  });
  return make_plain_http_transport()->send(get(server.url()));
}

TEST(PlainHttpTransport, SendsMethodPathHeadersAndBodyAndReadsTheAnswer) {
  auto server = LoopbackHttpServer::start([](const ReceivedRequest&) {
    return CannedResponse{201, {{"X-Answer", "yes"}, {"Content-Type", "text/plain"}}, "created"};
  });
  ASSERT_NE(server, nullptr);
  auto transport = make_plain_http_transport();
  OutboundRequest req;
  req.method = "POST";
  req.url = server->url() + "/some/path?x=1&y=%2F";
  req.headers = {{"X-Amz-Target", "DynamoDB_20120810.PutItem"}, {"Empty", ""}};
  req.body = R"({"TableName":"Orders"})";
  auto r = transport->send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->header("x-answer"), "yes");
  EXPECT_EQ(r->body, "created");
  auto seen = server->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/some/path?x=1&y=%2F");
  EXPECT_EQ(seen[0].header("Host"), server->host_port());
  EXPECT_EQ(seen[0].header("X-Amz-Target"), "DynamoDB_20120810.PutItem");
  EXPECT_EQ(seen[0].header("Empty"), "");
  EXPECT_EQ(seen[0].header("Content-Length"), std::to_string(req.body.size()));
  EXPECT_EQ(seen[0].body, req.body);
}

TEST(PlainHttpTransport, KeepsOneConnectionForSuccessiveRequests) {
  auto server = LoopbackHttpServer::start(
      [](const ReceivedRequest& q) { return CannedResponse{200, {}, q.body + "!"}; });
  ASSERT_NE(server, nullptr);
  auto transport = make_plain_http_transport();
  for (int i = 0; i < 5; ++i) {
    OutboundRequest req;
    req.method = "POST";
    req.url = server->url();
    req.body = std::to_string(i);
    auto r = transport->send(req);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, std::to_string(i) + "!");
  }
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST(PlainHttpTransport, ReplacesAKeepAliveConnectionTheServerClosedAndSendsAgainOnce) {
  std::atomic<int> calls{0};
  auto server = LoopbackHttpServer::start([&](const ReceivedRequest&) {
    CannedResponse r{200, {}, "ok"};
    r.drop_connection = ++calls == 2;  // the second request meets a closed connection
    return r;
  });
  ASSERT_NE(server, nullptr);
  auto transport = make_plain_http_transport();
  ASSERT_TRUE(transport->send(get(server->url())).has_value());
  auto r = transport->send(get(server->url()));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(server->connections_accepted(), 2);
}

TEST(PlainHttpTransport, DoesNotSendAgainWhenANewConnectionFails) {
  std::atomic<int> calls{0};
  auto server = LoopbackHttpServer::start([&](const ReceivedRequest&) {
    ++calls;
    CannedResponse r;
    r.drop_connection = true;
    return r;
  });
  ASSERT_NE(server, nullptr);
  auto transport = make_plain_http_transport();
  auto r = transport->send(get(server->url()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportError::Kind::io);
  EXPECT_EQ(calls.load(), 1);
}

TEST(PlainHttpTransport, ReadsChunkedBodiesAndSkipsInterimAnswers) {
  auto r = get_answered_with(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  EXPECT_EQ(r->header("X-A"), "1");
}

TEST(PlainHttpTransport, ReadsABodyThatEndsWithTheConnection) {
  auto r = get_answered_with("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "until the end");
}

TEST(PlainHttpTransport, AnAnswerCutShortIsAnIoError) {
  auto r = get_answered_with("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportError::Kind::io);
  EXPECT_NE(r.error().message.find("mid-response"), std::string::npos) << r.error().message;
}

TEST(PlainHttpTransport, ReadsTheAnswerOfAServerThatStopsReadingTheRequest) {
  ScriptedServer server([](int fd) {
    ScriptedServer::read_head(fd);
    ScriptedServer::write(fd, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo long");
    ::shutdown(fd, SHUT_WR);
  });
  auto transport = make_plain_http_transport();
  OutboundRequest req;
  req.method = "POST";
  req.url = server.url();
  req.body = std::string(32u << 20, 'x');  // more than the socket buffers take
  req.timeout = Millis(10000);
  auto r = transport->send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "too long");
}

TEST(PlainHttpTransport, AServerThatDoesNotAnswerTimesOut) {
  ScriptedServer server([](int fd) {
    ScriptedServer::read_head(fd);
    ScriptedServer::read_head(fd);  // no answer; returns when the client gives up and closes
  });
  auto transport = make_plain_http_transport();
  OutboundRequest req = get(server.url());
  req.timeout = Millis(200);
  auto t0 = std::chrono::steady_clock::now();
  auto r = transport->send(req);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportError::Kind::timeout);
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(PlainHttpTransport, ARefusedConnectionIsAConnectError) {
  // A bound socket that does not listen holds a port that refuses connections.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto transport = make_plain_http_transport();
  auto r = transport->send(get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"));
  ::close(fd);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportError::Kind::connect);
}

TEST(PlainHttpTransport, ALongerBodyThanTheLimitIsRefused) {
  auto server = LoopbackHttpServer::start(
      [](const ReceivedRequest&) { return CannedResponse{200, {}, std::string(1000, 'x')}; });
  ASSERT_NE(server, nullptr);
  TransportOptions options;
  options.max_response_bytes = 100;
  auto transport = make_plain_http_transport(options);
  auto r = transport->send(get(server->url()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportError::Kind::too_large);
}

TEST(PlainHttpTransport, AConnectionCloseAnswerMakesTheNextRequestConnectAgain) {
  auto server = LoopbackHttpServer::start(
      [](const ReceivedRequest&) { return CannedResponse{200, {{"Connection", "close"}}, "bye"}; });
  ASSERT_NE(server, nullptr);
  auto transport = make_plain_http_transport();
  for (int i = 0; i < 3; ++i) {
    auto r = transport->send(get(server->url()));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "bye");
  }
  EXPECT_EQ(server->connections_accepted(), 3);
}

TEST(PlainHttpTransport, RefusesWhatItCannotSendSafely) {
  auto transport = make_plain_http_transport();
  for (std::string url : {"https://127.0.0.1:1/", "ftp://x/", "http://", "http://user@host/",
                          "http://host:80x/", "http://[::1/"}) {
    auto r = transport->send(get(url));
    ASSERT_FALSE(r.has_value()) << url;
    EXPECT_EQ(r.error().kind, TransportError::Kind::invalid) << url;
  }
  OutboundRequest injected = get("http://127.0.0.1:1/");
  injected.headers = {{"X-Evil", "a\r\nX-Injected: b"}};
  auto r = transport->send(injected);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportError::Kind::invalid);
}

TEST(DefaultTransport, SendsPlainHttpWithoutLoadingLibcurl) {
  auto server = LoopbackHttpServer::start(
      [](const ReceivedRequest&) { return CannedResponse{200, {}, "plain"}; });
  ASSERT_NE(server, nullptr);
  auto transport = make_default_transport();
  auto r = transport->send(get(server->url()));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "plain");
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  EXPECT_EQ(text.str().find("libcurl"), std::string::npos);
}

}  // namespace
}  // namespace orderflow::client
