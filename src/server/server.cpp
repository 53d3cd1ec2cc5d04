// The only translation unit of the server layer that includes Beast and Asio (compile time).
#include "server/server.h"

#include "common/util.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <thread>
#include <unordered_map>
#include <vector>

namespace orderflow::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// The request memory budget (ServerOptions::request_memory_limit), shared by every session.
// A request that does not fit leaves a wake-up call and is retried after the next release:
// no polling, however many wait. Thread-safe.
class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit) : limit_(limit) {}

  // Reserves `bytes` when they fit, or when nothing is held at all (so any one request up to
  // the body limit gets through). Otherwise keeps `make_wake()`, called once after the next
  // release (made only then: the common case allocates nothing).
  template <class MakeWake>
  bool reserve_or_wait(std::size_t bytes, MakeWake&& make_wake) {
    std::lock_guard g(mu_);
    if (held_ == 0 || held_ + bytes <= limit_) {
      held_ += bytes;
      return true;
    }
    waiters_.emplace_back(make_wake());
    return false;
  }

  void release(std::size_t bytes) {
    std::vector<std::function<void()>> wake;
    {
      std::lock_guard g(mu_);
      held_ -= bytes;
      wake.swap(waiters_);
    }
    for (auto& w : wake) w();
  }

 private:
  const std::size_t limit_;
  std::mutex mu_;
  std::size_t held_ = 0;                        // guarded by mu_
  std::vector<std::function<void()>> waiters_;  // guarded by mu_
};

// Bytes of the memory budget held by one request; released when destroyed.
class Reservation {
 public:
  Reservation() = default;
  // `budget` outlives every session (a member of Server::Impl).
  Reservation(MemoryBudget& budget, std::size_t bytes) : budget_(&budget), bytes_(bytes) {}
  Reservation(Reservation&& o) noexcept : budget_(std::exchange(o.budget_, nullptr)), bytes_(o.bytes_) {}
  Reservation& operator=(Reservation&& o) noexcept {
    if (this != &o) {
      reset();
      budget_ = std::exchange(o.budget_, nullptr);
      bytes_ = o.bytes_;
    }
    return *this;
  }
  ~Reservation() { reset(); }
  void reset() {
    if (budget_ != nullptr) std::exchange(budget_, nullptr)->release(bytes_);
  }

 private:
  MemoryBudget* budget_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace

class Session;

struct Server::Impl {
  explicit Impl(ServerOptions o)
      : options(std::move(o)), ioc(std::max(1, options.io_threads)), acceptor(ioc), accept_pause(ioc), signals(ioc) {}

  void accept();
  void drain();
  // The first SIGINT/SIGTERM drains; a second one while draining stops at once.
  // Arming and cancelling the wait both happen under `mu`, after checking / setting `drained`:
  // a drain that finishes while the handler below is still in drain() (on_drain may take a
  // while) must not leave a re-armed wait keeping the io threads alive.
  void wait_signal() {
    std::lock_guard g(mu);
    if (drained) return;
    signals.async_wait([this](error_code ec, int) {
      if (ec) return;
      bool again;
      {
        std::lock_guard g(mu);
        again = draining;
      }
      if (again) return ioc.stop();
      std::fprintf(stderr, "orderflow: draining (signal again to stop at once)\n");
      drain();
      wait_signal();
    });
  }
  // Registers a live session; returns true when the server is already draining.
  bool add(Session* s, std::weak_ptr<Session> w) {
    std::lock_guard g(mu);
    sessions.emplace(s, std::move(w));
    return draining;
  }
  // Called when a session closes (and again when it is destroyed): idempotent.
  void remove(Session* s) {
    bool last;
    {
      std::lock_guard g(mu);
      if (sessions.erase(s) == 0) return;
      last = draining && sessions.empty();
    }
    if (last) finish_drain();
  }
  // Once drained, nothing but the signal wait keeps the io threads running: end it.
  void finish_drain() {
    asio::post(ioc, [this] {
      std::lock_guard g(mu);
      drained = true;
      error_code ignored;
      signals.cancel(ignored);
    });
  }

  std::size_t connections() {
    std::lock_guard g(mu);
    return sessions.size();
  }

  ServerOptions options;
  RequestHandler handler;
  std::uint16_t port = 0;

  // Declared before the io_context: sessions destroyed with its pending handlers unregister.
  std::mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mu
  bool draining = false;                                           // guarded by mu
  bool drained = false;  // every session closed; no signal wait may be armed; guarded by mu
  bool started = false;                                            // guarded by mu
  std::vector<std::thread> threads;                                // guarded by mu (join)
  // The sessions' request bodies. Its waiters own sessions: declared after `mu` and `sessions`
  // (which a session's destructor uses) so that it is destroyed before them.
  MemoryBudget memory{options.request_memory_limit};

  asio::io_context ioc;
  tcp::acceptor acceptor;   // used on the io threads only (and before start())
  asio::steady_timer accept_pause;  // accept() waits on it after running out of descriptors
  asio::signal_set signals;
  // Runs the handler (which may block on the engine). Created by start(); stopped and joined
  // by wait() once the io threads have ended. Declared after the io_context so that handlers
  // it never ran (a forced stop) are destroyed while the io_context they refer to exists.
  std::unique_ptr<asio::thread_pool> pool;  // guarded by mu (reset)
};

// One connection. All members are used on the session's strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server)
      : socket_(std::move(socket)),
        server_(server),
        read_timer_(socket_.get_executor()),
        write_timer_(socket_.get_executor()) {
    // Room for a whole typical request (SigV4 headers and a small body: 1 to 2 KiB) in one
    // read: Beast reads at most the buffer's free capacity (512 bytes when it is new), and the
    // buffer keeps its capacity from one request to the next.
    buffer_.reserve(8 * 1024);
  }

  ~Session() { server_.remove(this); }

  void start() {
    bool draining = server_.add(this, weak_from_this());
    asio::dispatch(socket_.get_executor(), [self = shared_from_this(), draining] {
      if (draining) return self->drain();
      self->maybe_read();
    });
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

  // Stop reading new requests; close once what is in progress has been written.
  void drain() {
    draining_ = true;
    if (stream_) stream_->close();  // ends the stream: its last chunk is written, then close
    if (queue_.empty() && !writing_) close();
  }

 private:
  struct Slot {
    std::optional<http::response<http::string_body>> response;
    bool close = false;
    std::shared_ptr<EventStream> stream;  // a streamed body: `response` holds the head only
    Reservation memory;  // the request's share of the memory budget, until answered
  };

  // ---- reading ----
  void maybe_read() {
    if (reading_ || closing_ || draining_ || eof_ || queue_.size() >= server_.options.pipeline_limit) return;
    reading_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    parser_->body_limit(server_.options.body_limit);
    arm_read_timer(false);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  // Idle deadline while nothing is in progress (none while the client awaits answers);
  // the body deadline once a header has arrived.
  void arm_read_timer(bool body) {
    if (!reading_) return read_timer_.cancel(), void();
    if (!body && !queue_.empty()) {
      read_timer_.expires_at(asio::steady_timer::time_point::max());
      return;
    }
    read_timer_.expires_after(body ? server_.options.body_timeout : server_.options.idle_timeout);
    read_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && self->read_timer_.expiry() <= asio::steady_timer::clock_type::now()) self->close();
    });
  }

  void on_header(error_code ec) {
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) {
      maybe_continue();
      return on_request();
    }
    // The body is read once its size fits the server's request memory (chunked: as much as
    // the limit allows). Until then it stays unread, in the client and the kernel's buffers.
    auto length = parser_->content_length();
    reserve_and_read_body(length ? std::min<std::uint64_t>(*length, server_.options.body_limit)
                                 : server_.options.body_limit);
  }

  void reserve_and_read_body(std::size_t bytes) {
    if (closing_) return;
    // The wake-up call owns the session while it waits (nothing else does): something is held,
    // so a release, and with it the call, comes once that request is answered or dropped.
    auto make_retry = [this, bytes] {
      return [self = shared_from_this(), bytes] {
        asio::post(self->socket_.get_executor(), [self, bytes] { self->reserve_and_read_body(bytes); });
      };
    };
    if (!server_.memory.reserve_or_wait(bytes, make_retry)) {
      read_timer_.cancel();  // waiting on the server, not on the client: no read deadline
      return;
    }
    reading_memory_ = Reservation(server_.memory, bytes);
    maybe_continue();
    arm_read_timer(true);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
  }

  // Answers "Expect: 100-continue" when the body is about to be read.
  void maybe_continue() {
    if (!beast::iequals(parser_->get()[http::field::expect], "100-continue") || writing_ || !queue_.empty())
      return;
    // Written like an answer, never blocking: a client that does not read would otherwise
    // hold this io thread (and, a few of them, every io thread) once its buffers are full.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    writing_ = true;
    write_timer_.expires_after(server_.options.write_timeout);
    write_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && self->write_timer_.expiry() <= asio::steady_timer::clock_type::now()) self->close();
    });
    asio::async_write(socket_, asio::buffer(kContinue), [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      self->write_timer_.cancel();
      if (ec) return self->close();
      if (self->queue_.empty() && (self->eof_ || self->draining_)) return self->close();
      self->try_write();
    });
  }

  void on_body(error_code ec) {
    if (ec) return on_read_error(ec);
    on_request();
  }

  void on_read_error(error_code ec) {
    reading_ = false;
    read_timer_.cancel();
    reading_memory_.reset();
    if (stream_) return close();  // the client of a stream went away (or sent more): done
    if (ec == http::error::body_limit) return reply_and_close(413, "Request body is larger than the limit.");
    if (ec == http::error::header_limit) return reply_and_close(431, "Request header is larger than the limit.");
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::bad_descriptor || closing_) {
      eof_ = true;  // write what is in progress, then close
      if (queue_.empty() && !writing_) close();
      return;
    }
    reply_and_close(400, "Malformed HTTP request: " + ec.message());
  }

  // A framing error: answer it after what is in progress, then close (lingering).
  void reply_and_close(int status, std::string text) {
    eof_ = true;
    linger_ = true;
    Slot slot;
    slot.close = true;
    auto& res = slot.response.emplace(static_cast<http::status>(status), 11);
    res.set(http::field::content_type, "text/plain");
    res.set(http::field::connection, "close");
    res.set("x-amzn-RequestId", uuid4());
    res.body() = std::move(text);
    res.prepare_payload();
    queue_.push_back(std::move(slot));
    try_write();
  }

  void on_request() {
    reading_ = false;
    read_timer_.cancel();
    http::request<http::string_body> req = parser_->release();
    parser_.reset();

    aws::HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    for (const auto& field : req) in.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    in.body = std::move(req.body());

    bool inline_run = server_.options.runs_inline && server_.options.runs_inline(in);
    std::uint64_t seq = next_seq_++;
    Slot slot;
    slot.close = !req.keep_alive() || draining_;
    slot.memory = std::move(reading_memory_);
    queue_.push_back(std::move(slot));

    // Keeps the io threads running until the answer has been handed back (drain waits for
    // it). Released when the answer arrives, not when the last copy of `respond` goes away.
    using Guard = asio::executor_work_guard<asio::io_context::executor_type>;
    auto guard = std::make_shared<std::optional<Guard>>(server_.ioc.get_executor());
    Respond respond = [self = shared_from_this(), seq, guard](ApiResponse r) mutable {
      asio::post(self->socket_.get_executor(), [self, seq, guard, r = std::move(r)]() mutable {
        self->on_response(seq, std::move(r));
        guard->reset();
      });
    };
    // The handler may block until the engine has made a write durable: never on an io thread.
    auto run = [&server = server_, in = std::move(in), respond = std::move(respond)]() mutable {
      try {
        server.handler(std::move(in), respond);
      } catch (const std::exception& e) {
        // Last resort: a handler bug must not take the process down.
        std::fprintf(stderr, "orderflow: request handler failed: %s\n", e.what());
        ApiResponse r;
        r.status = 500;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = R"({"__type":"InternalFailure","message":"internal error"})";
        respond(std::move(r));
      }
    };
    if (inline_run) {
      run();  // it does not wait: its answer comes back through `respond`, posted to this strand
    } else {
      asio::post(*server_.pool, [run = std::move(run)]() mutable {
        thread_local bool named = false;
        if (!named) name_this_thread("of-handler"), named = true;
        run();
      });
    }
    maybe_read();
  }

  // ---- writing ----
  void on_response(std::uint64_t seq, ApiResponse r) {
    if (closing_ || seq < first_seq_ || seq - first_seq_ >= queue_.size()) return;
    Slot& slot = queue_[seq - first_seq_];
    if (slot.response) return;  // answered twice: keep the first
    bool close = slot.close || draining_;
    slot.close = close;
    auto& res = slot.response.emplace(static_cast<http::status>(r.status), 11);
    for (auto& [name, value] : r.headers) res.insert(name, value);
    res.set(http::field::server, "orderflow");
    if (r.stream) {
      // Streamed: the connection ends with the stream (no request after it is read).
      slot.close = true;
      slot.stream = std::move(r.stream);
      res.keep_alive(false);
      res.chunked(true);
    } else {
      res.keep_alive(!close);
      res.body() = std::move(r.body);
      res.prepare_payload();
    }
    try_write();
  }

  void arm_write_timer() {
    write_timer_.expires_after(server_.options.write_timeout);
    write_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && self->write_timer_.expiry() <= asio::steady_timer::clock_type::now()) self->close();
    });
  }

  void try_write() {
    if (writing_ || closing_ || queue_.empty() || !queue_.front().response) return;
    writing_ = true;
    arm_write_timer();
    if (queue_.front().stream) return start_stream();
    http::async_write(socket_, *queue_.front().response,
                      [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
  }

  // ---- a streamed body (event_stream.h): the head, then chunks as they come, then the end ----
  void start_stream() {
    stream_ = queue_.front().stream;
    eof_ = true;  // nothing after the stream is read
    if (draining_) stream_->close();
    serializer_.emplace(*queue_.front().response);
    http::async_write_header(socket_, *serializer_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->close();
      self->next_chunk();
    });
  }

  void next_chunk() {
    write_timer_.cancel();
    if (closing_) return;
    chunk_ = stream_->take();
    if (!chunk_.empty()) {
      arm_write_timer();
      return asio::async_write(socket_, http::make_chunk(asio::buffer(chunk_)),
                               [self = shared_from_this()](error_code ec, std::size_t) {
                                 if (ec) return self->close();
                                 self->next_chunk();
                               });
    }
    if (stream_->closed()) {
      arm_write_timer();
      return asio::async_write(socket_, http::make_chunk_last(),
                               [self = shared_from_this()](error_code, std::size_t) { self->close(); });
    }
    stream_->on_ready([self = shared_from_this()] {
      asio::post(self->socket_.get_executor(), [self] { self->next_chunk(); });
    });
  }

  void on_write(error_code ec) {
    writing_ = false;
    write_timer_.cancel();
    if (ec) return close();
    bool close_after = queue_.front().close;
    queue_.pop_front();
    ++first_seq_;
    if (close_after) return linger_ ? linger() : close();
    if (queue_.empty() && (eof_ || draining_)) return close();
    try_write();
    if (reading_) arm_read_timer(false);  // nothing in progress any more: the idle deadline runs
    maybe_read();
  }

  // After answering a request that was not read to its end (413, 431, 400), the client may
  // still be sending it. Closing with unread input makes the kernel reset the connection, and
  // a client still writing then fails (EPIPE, ECONNRESET) without reading the answer. So stop
  // sending (the client sees the end of the answer) and read and discard until the client
  // closes too, for 2 s at most.
  void linger() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    read_timer_.expires_after(std::chrono::seconds(2));
    read_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->close();
    });
    discard();
  }
  void discard() {
    buffer_.clear();
    socket_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec || self->closing_) return self->close();
      self->discard();
    });
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    if (stream_) stream_->close();  // the producer stops; a parked ready callback runs and ends
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    read_timer_.cancel();
    write_timer_.cancel();
    queue_.clear();
    reading_memory_.reset();
    server_.remove(this);
  }

  tcp::socket socket_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  asio::steady_timer read_timer_;
  asio::steady_timer write_timer_;
  Reservation reading_memory_;       // the memory of the request being read
  std::deque<Slot> queue_;       // requests in progress, in arrival order
  std::shared_ptr<EventStream> stream_;  // the body being streamed, if any
  std::optional<http::response_serializer<http::string_body>> serializer_;
  std::string chunk_;  // the chunk being written
  std::uint64_t first_seq_ = 0;  // sequence number of queue_.front()
  std::uint64_t next_seq_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool draining_ = false;
  bool eof_ = false;  // no more requests will be read
  bool linger_ = false;  // a framing error was answered: linger() rather than close()
};

void Server::Impl::accept() {
  // At the connection limit, the next connections wait in the listen backlog (checked again
  // every 50 ms, until some close).
  if (connections() >= options.max_connections) {
    accept_pause.expires_after(std::chrono::milliseconds(50));
    return accept_pause.async_wait([this](error_code wait_ec) {
      if (!wait_ec) accept();
    });
  }
  acceptor.async_accept(asio::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      {
        std::lock_guard g(mu);
        if (draining) return;
      }
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
    // Out of file descriptors (or memory): the pending connection stays in the backlog and
    // accepting again at once fails again at once, spinning an io thread. Retry after a pause,
    // by when closing connections may have freed some.
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
        ec == boost::system::errc::too_many_files_open_in_system) {
      accept_pause.expires_after(std::chrono::milliseconds(100));
      return accept_pause.async_wait([this](error_code wait_ec) {
        if (!wait_ec) accept();
      });
    }
    accept();
  });
}

void Server::Impl::drain() {
  {
    std::lock_guard g(mu);
    if (draining) return;
    draining = true;
  }
  // Long-lived requests (parked Runtime API calls) are answered by their owner now, so the
  // drain below can finish.
  if (options.on_drain) options.on_drain();
  {
    std::lock_guard g(mu);
    if (!started) return;
  }
  asio::post(ioc, [this] {
    error_code ignored;
    acceptor.close(ignored);
    accept_pause.cancel();
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard g(mu);
      for (auto& [p, w] : sessions)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    // Session::drain runs on the session's strand.
    for (auto& s : live) asio::post(s->executor(), [s] { s->drain(); });
    if (live.empty()) finish_drain();
  });
}


Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  drain();
  wait();
}

Result<std::unique_ptr<Server>> Server::bind(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  error_code ec;
  std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return fail(ErrorCode::internal_error, "invalid listen address '" + options.host + "': " + ec.message());
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (ec)
    return fail(ErrorCode::internal_error,
                "cannot bind " + options.host + ":" + std::to_string(options.port) + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint(ec).port();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const { return impl_->port; }

Status Server::start(RequestHandler handler) {
  Impl& s = *impl_;
  {
    std::lock_guard g(s.mu);
    if (s.started) return fail(ErrorCode::internal_error, "server already started");
    s.started = true;
  }
  s.handler = std::move(handler);
  {
    std::lock_guard g(s.mu);
    auto size = static_cast<std::size_t>(std::max(1, s.options.handler_threads));
    s.pool = std::make_unique<asio::thread_pool>(size);
  }
  error_code ec;
  s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::internal_error, "cannot listen: " + ec.message());
  s.accept();
  if (s.options.handle_signals) {
    s.signals.add(SIGINT, ec);
    s.signals.add(SIGTERM, ec);
    s.wait_signal();
  }
  std::lock_guard g(s.mu);
  for (int i = 0; i < std::max(1, s.options.io_threads); ++i)
    s.threads.push_back(named_thread("of-io", [&s] { s.ioc.run(); }));
  return {};
}

void Server::drain() { impl_->drain(); }

void Server::wait() {
  std::vector<std::thread> threads;
  {
    std::lock_guard g(impl_->mu);
    threads.swap(impl_->threads);
  }
  if (threads.empty()) return;  // not started, or another caller is waiting
  for (auto& t : threads) t.join();
  // The io threads end only once every request has been answered (or at a forced stop), so
  // every handler has started by now: stop() drops none that a drain waits for, and join()
  // waits for those still running (a forced stop) before anyone destroys the engine.
  std::unique_ptr<asio::thread_pool> pool;
  {
    std::lock_guard g(impl_->mu);
    pool.swap(impl_->pool);
  }
  if (pool) {
    pool->stop();
    pool->join();
  }
}

}  // namespace orderflow::server
