// Plain HTTP/1.1 behind HttpTransport, for http:// endpoints (`orderflow up`, the Lambda
// Runtime API): a blocking socket kept alive between requests, the request written in one
// send, the response read with Boost.Beast's parser. libcurl stays the transport for https://
// (make_default_transport picks by scheme): for plain HTTP on loopback its per-request work
// (option setup, header lists, poll before every read and write) cost more CPU than the
// server's own handling of a PutItem.
//
// Keep-alive: the connection to the last authority is reused. When a reused connection turns
// out to be closed (the server's idle timeout) before any byte of the answer arrived, the
// request is sent again once on a new connection, as libcurl does; a failure on a new
// connection is the caller's to retry.
// Timeouts: OutboundRequest::timeout bounds the exchange (SO_SNDTIMEO / SO_RCVTIMEO, checked
// against a deadline after every read); TransportOptions::connect_timeout bounds the connect.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "aws/http_types.h"
#include "client/config.h"
#include "client/transport.h"

namespace orderflow::client {

namespace {

namespace http = boost::beast::http;
using Steady = std::chrono::steady_clock;

struct Target {
  std::string_view authority;  // host[:port], as the URL has it (the Host header)
  std::string host;            // for getaddrinfo: an IPv6 literal without its brackets
  std::string port;
  std::string_view path;       // from the first '/', query included, fragment dropped
};

// http://host[:port][/path[?query]]: the authority checked by parse_endpoint (as for a
// configured endpoint); nullopt for anything else.
std::optional<Target> parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size() || !aws::iequals(url.substr(0, kScheme.size()), kScheme))
    return std::nullopt;
  std::size_t path_start = url.find_first_of("/?#", kScheme.size());
  auto endpoint = parse_endpoint(url.substr(0, path_start));
  if (!endpoint) return std::nullopt;
  Target t;
  t.authority = url.substr(kScheme.size(), path_start - kScheme.size());
  t.path = path_start == std::string_view::npos ? std::string_view("/") : url.substr(path_start);
  if (t.path.starts_with('?')) return std::nullopt;  // "http://h?x": no path to put it on
  t.path = t.path.substr(0, t.path.find('#'));
  if (t.path.empty()) t.path = "/";
  std::string_view host = endpoint->host;
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  t.host = std::string(host);
  t.port = std::to_string(endpoint->port);
  return t;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

TransportError error(TransportError::Kind kind, std::string message) {
  return TransportError{kind, std::move(message)};
}

class PlainHttpTransport final : public HttpTransport {
 public:
  explicit PlainHttpTransport(TransportOptions options) : options_(std::move(options)) {}
  ~PlainHttpTransport() override { close_connection(); }
  PlainHttpTransport(const PlainHttpTransport&) = delete;
  PlainHttpTransport& operator=(const PlainHttpTransport&) = delete;

  TransportResult send(const OutboundRequest& request) override {
    auto target = parse_http_url(request.url);
    if (!target)
      return std::unexpected(error(TransportError::Kind::invalid,
                                   "not an http:// URL this transport can send to: " + request.url));
    if (request.method.empty() || has_line_break(request.method) ||
        request.method.find(' ') != std::string::npos)
      return std::unexpected(error(TransportError::Kind::invalid, "bad HTTP method"));
    std::optional<Steady::time_point> deadline;
    if (request.timeout) deadline = Steady::now() + *request.timeout;
    if (auto built = build(request, *target); !built) return std::unexpected(built.error());

    // One try on the open connection, if there is one, and one on a new connection.
    for (int attempt = 0;; ++attempt) {
      bool reused = fd_ >= 0 && connected_to_ == target->authority;
      if (!reused) {
        close_connection();
        if (auto c = connect(*target); !c) return std::unexpected(c.error());
      }
      bool received_any = false;
      auto r = exchange(request, deadline, received_any);
      if (r) return r;
      close_connection();
      bool stale = reused && !received_any && r.error().kind == TransportError::Kind::io;
      if (!stale || attempt > 0) return r;
    }
  }

 private:
  std::expected<void, TransportError> build(const OutboundRequest& request, const Target& target) {
    out_.clear();
    out_ += request.method;
    out_ += ' ';
    out_ += target.path;
    out_ += " HTTP/1.1\r\n";
    bool has_host = false;
    for (const auto& [k, v] : request.headers) {
      if (k.empty() || has_line_break(k) || k.find(':') != std::string::npos || has_line_break(v))
        return std::unexpected(error(TransportError::Kind::invalid, "bad header: " + k));
      if (aws::iequals(k, "content-length") || aws::iequals(k, "transfer-encoding") ||
          aws::iequals(k, "connection"))
        continue;  // this transport frames the body and manages the connection itself
      if (aws::iequals(k, "host")) has_host = true;
      out_ += k;
      out_ += ": ";
      out_ += v;
      out_ += "\r\n";
    }
    if (!has_host) {
      out_ += "Host: ";
      out_ += target.authority;
      out_ += "\r\n";
    }
    if (request.method != "GET" && request.method != "HEAD") {
      out_ += "Content-Length: ";
      out_ += std::to_string(request.body.size());
      out_ += "\r\n";
    } else if (!request.body.empty()) {
      return std::unexpected(error(TransportError::Kind::invalid, request.method + " with a body"));
    }
    out_ += "\r\n";
    out_ += request.body;
    return {};
  }

  std::expected<void, TransportError> connect(const Target& target) {
    auto fail = [&](std::string why) {
      return std::unexpected(
          error(TransportError::Kind::connect, "connect to " + std::string(target.authority) + ": " + why));
    };
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found); rc != 0)
      return fail(::gai_strerror(rc));
    std::string why = "no address";
    const auto until = Steady::now() + options_.connect_timeout;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd < 0) {
        why = std::strerror(errno);
        continue;
      }
      int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Steady::now());
        int ready;
        do {
          ready = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        } while (ready < 0 && errno == EINTR);
        int so_error = 0;
        socklen_t len = sizeof so_error;
        if (ready == 0) {
          why = "timed out";
        } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) {
          why = std::strerror(errno);
        } else if (so_error != 0) {
          why = std::strerror(so_error);
        } else {
          rc = 0;
        }
      } else if (rc != 0) {
        why = std::strerror(errno);
      }
      if (rc == 0) {
        int flags = ::fcntl(fd, F_GETFL);
        int one = 1;
        if (flags >= 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0) {
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
          ::freeaddrinfo(found);
          fd_ = fd;
          connected_to_ = std::string(target.authority);
          timeout_ms_ = 0;
          return {};
        }
        why = std::strerror(errno);
      }
      ::close(fd);
    }
    ::freeaddrinfo(found);
    return fail(why);
  }

  void close_connection() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    connected_to_.clear();
  }

  // Sets the socket's send and receive timeouts (0: none), when they change.
  void set_timeout(std::int64_t ms) {
    if (ms == timeout_ms_) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    timeout_ms_ = ms;
  }

  // Milliseconds left until `deadline` (at least 1), 0 without one; nullopt when passed.
  static std::optional<std::int64_t> left_ms(const std::optional<Steady::time_point>& deadline) {
    if (!deadline) return 0;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Steady::now()).count();
    if (left <= 0) return std::nullopt;
    return left;
  }

  TransportResult exchange(const OutboundRequest& request,
                           const std::optional<Steady::time_point>& deadline, bool& received_any) {
    auto timed_out = [] { return error(TransportError::Kind::timeout, "the exchange timed out"); };
    auto left = left_ms(deadline);
    if (!left) return std::unexpected(timed_out());
    set_timeout(*left);
    // A server may answer and close before it has taken the whole request (a body over its
    // limit): after a failed send, an answer that was sent is still read, else the send fails.
    std::optional<TransportError> send_failed;
    for (std::string_view rest = out_; !rest.empty();) {
      ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::unexpected(timed_out());
      if (n <= 0) {
        send_failed = error(TransportError::Kind::io, std::string("send: ") + std::strerror(errno));
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    auto failed = [&](TransportError e) { return std::unexpected(send_failed ? *send_failed : std::move(e)); };

    std::optional<http::response_parser<http::string_body>> parser;
    auto fresh_parser = [&] {
      parser.emplace();
      parser->body_limit(options_.max_response_bytes);
      parser->header_limit(64 * 1024);
      if (request.method == "HEAD") parser->skip(true);
    };
    fresh_parser();
    in_.clear();
    std::size_t parsed = 0;  // bytes of in_ the parser has taken
    for (;;) {
      // Parse what is there; a complete interim (1xx) answer is dropped.
      while (parsed < in_.size()) {
        boost::system::error_code ec;
        std::size_t used =
            parser->put(boost::asio::buffer(in_.data() + parsed, in_.size() - parsed), ec);
        parsed += used;
        if (ec == http::error::need_more) break;
        if (ec == http::error::body_limit)
          return failed(error(TransportError::Kind::too_large,
                                       "response body exceeds " +
                                           std::to_string(options_.max_response_bytes) + " bytes"));
        if (ec) return failed(error(TransportError::Kind::io, "bad HTTP response: " + ec.message()));
        if (parser->is_done()) {
          int status = static_cast<int>(parser->get().result_int());
          if (status >= 100 && status < 200 && status != 101) {
            fresh_parser();
            continue;
          }
          return finish(*parser, parsed);
        }
        if (used == 0) break;
      }
      if (parsed == in_.size()) {
        in_.clear();
        parsed = 0;
      }
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return failed(timed_out());
      if (n < 0)
        return failed(error(TransportError::Kind::io, std::string("recv: ") + std::strerror(errno)));
      if (n == 0) {  // closed by the server: the end of a body without a length, or a failure
        boost::system::error_code ec;
        if (parser->is_header_done()) parser->put_eof(ec);
        if (parser->is_header_done() && !ec && parser->is_done()) {
          auto done = finish(*parser, parsed);
          close_connection();  // the server closed it
          return done;
        }
        return failed(error(TransportError::Kind::io, received_any
                                                                   ? "connection closed mid-response"
                                                                   : "connection closed before the response"));
      }
      received_any = true;
      in_.append(chunk, static_cast<std::size_t>(n));
      if (deadline) {
        auto more = left_ms(deadline);
        if (!more) return failed(timed_out());
        // Shortened only when that matters (a setsockopt per read would cost more than it bounds).
        if (*more < timeout_ms_ * 9 / 10) set_timeout(*more);
      }
    }
  }

  TransportResult finish(http::response_parser<http::string_body>& parser, std::size_t parsed) {
    auto& msg = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg)
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    // Bytes past the answer (nothing was asked for them) or a server that closes: start over.
    if (!msg.keep_alive() || parsed != in_.size()) close_connection();
    out.body = std::move(msg.body());
    return out;
  }

  const TransportOptions options_;
  int fd_ = -1;
  std::string connected_to_;  // the authority fd_ is connected to
  std::int64_t timeout_ms_ = 0;  // the socket's current SO_RCVTIMEO / SO_SNDTIMEO
  std::string out_;           // the request being sent
  std::string in_;            // bytes received and not yet parsed
};

// http:// on PlainHttpTransport, https:// on libcurl (made when first needed).
class DefaultTransport final : public HttpTransport {
 public:
  explicit DefaultTransport(TransportOptions options) : options_(std::move(options)), plain_(options_) {}

  TransportResult send(const OutboundRequest& request) override {
    std::string_view url = request.url;
    if (url.size() >= 8 && aws::iequals(url.substr(0, 8), "https://")) {
      if (!tls_) {
        auto made = make_curl_transport(options_);
        if (!made)
          return std::unexpected(error(TransportError::Kind::invalid, "https needs libcurl: " + made.error()));
        tls_ = std::move(*made);
      }
      return tls_->send(request);
    }
    return plain_.send(request);
  }

 private:
  const TransportOptions options_;
  PlainHttpTransport plain_;
  std::unique_ptr<HttpTransport> tls_;
};

}  // namespace

std::unique_ptr<HttpTransport> make_plain_http_transport(const TransportOptions& options) {
  return std::make_unique<PlainHttpTransport>(options);
}

std::unique_ptr<HttpTransport> make_default_transport(const TransportOptions& options) {
  return std::make_unique<DefaultTransport>(options);
}

}  // namespace orderflow::client
