// TEST ONLY. A tiny blocking HTTP/1.1 server on 127.0.0.1 with an ephemeral port, for tests of
// code that talks HTTP (the AWS client, the Lambda runtime loop). One thread accepts; each
// connection gets its own thread and may carry several requests (keep-alive). Requests need a
// Content-Length for their body (no chunked encoding). The handler runs on the connection's
// thread and may block (a long-poll); it can also ask to drop the connection without an answer.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aws/http_types.h"
#include "client/transport.h"

namespace orderflow::client::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
  int connection = 0;  // 1 for the first accepted connection, 2 for the next, ...

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  // As the aws layer sees requests (for aws::verify).
  aws::HttpRequest to_aws() const { return aws::HttpRequest{method, target, headers, body}; }
};

struct CannedResponse {
  int status = 200;
  Headers headers;
  std::string body;
  bool drop_connection = false;  // close the socket instead of answering
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<CannedResponse(const ReceivedRequest&)>;

  // Listening when returned; nullptr when no socket could be bound.
  static std::unique_ptr<LoopbackHttpServer> start(Handler handler) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      return nullptr;
    }
    std::unique_ptr<LoopbackHttpServer> s(new LoopbackHttpServer(fd, ntohs(addr.sin_port), std::move(handler)));
    s->acceptor_ = std::thread([raw = s.get()] { raw->accept_loop(); });
    return s;
  }

  ~LoopbackHttpServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    {
      std::lock_guard g(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<ReceivedRequest> requests() const {
    std::lock_guard g(mu_);
    return requests_;
  }
  int connections_accepted() const { return connections_.load(); }

 private:
  LoopbackHttpServer(int fd, int port, Handler handler)
      : listen_fd_(fd), port_(port), handler_(std::move(handler)) {}

  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        return;
      }
      int id = ++connections_;
      std::lock_guard g(mu_);
      open_fds_.insert(fd);
      workers_.emplace_back([this, fd, id] { serve(fd, id); });  // joined in the destructor
    }
  }

  void serve(int fd, int connection) {
    std::string buf;
    while (!stopping_) {
      std::size_t header_end;
      while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!read_more(fd, buf)) return close_fd(fd);
      }
      ReceivedRequest req;
      req.connection = connection;
      std::string_view head(buf.data(), header_end);
      std::size_t line_end = head.find("\r\n");
      std::string_view request_line = head.substr(0, line_end);
      std::size_t sp1 = request_line.find(' ');
      std::size_t sp2 = request_line.find(' ', sp1 + 1);
      req.method = std::string(request_line.substr(0, sp1));
      req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
      std::size_t content_length = 0;
      bool close_after = false;
      while (line_end != std::string_view::npos && line_end < head.size()) {
        std::size_t next = head.find("\r\n", line_end + 2);
        std::string_view line = head.substr(line_end + 2, next == std::string_view::npos ? std::string_view::npos : next - line_end - 2);
        line_end = next;
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (aws::iequals(name, "content-length")) content_length = std::stoul(std::string(value));
        if (aws::iequals(name, "connection") && aws::iequals(value, "close")) close_after = true;
        req.headers.emplace_back(std::move(name), std::string(value));
      }
      buf.erase(0, header_end + 4);
      while (buf.size() < content_length) {
        if (!read_more(fd, buf)) return close_fd(fd);
      }
      req.body = buf.substr(0, content_length);
      buf.erase(0, content_length);
      {
        std::lock_guard g(mu_);
        requests_.push_back(req);
      }
      CannedResponse resp = handler_(req);
      if (resp.drop_connection) return close_fd(fd);
      std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " Canned\r\n";
      for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
      out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n" + resp.body;
      if (!write_all(fd, out) || close_after) return close_fd(fd);
    }
    close_fd(fd);
  }

  static bool read_more(int fd, std::string& buf) {
    char chunk[4096];
    ssize_t n;
    do {
      n = ::recv(fd, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  static bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void close_fd(int fd) {
    std::lock_guard g(mu_);
    open_fds_.erase(fd);
    ::close(fd);
  }

  const int listen_fd_;
  const int port_;
  const Handler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;  // guarded by mu_
  std::set<int> open_fds_;                 // guarded by mu_
  std::vector<std::thread> workers_;       // guarded by mu_ (joined after the acceptor ends)
};

}  // namespace orderflow::client::testing
