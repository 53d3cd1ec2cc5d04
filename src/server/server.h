// The HTTP/1.1 edge (Boost.Beast/Asio, in the shape of Beast's advanced server): a listener
// and one session per connection. This header is plain C++; Beast and Asio stay in server.cpp.
//
// Per connection:
//  - keep-alive; requests may be pipelined, and up to `pipeline_limit` of them may be in
//    progress at once (answered in order); past that the session stops reading until one is
//    written;
//  - every read has a deadline: `idle_timeout` for the next request's header while nothing is
//    in progress (none while the client awaits answers, e.g. a long poll), then `body_timeout`
//    for its body; a connection that misses one is closed. Writes have `write_timeout`;
//  - bodies over `body_limit` get 413, headers over `header_limit` get 431, malformed HTTP
//    gets 400; each of these closes the connection after the answer (lingering: reading and
//    discarding what the client still sends, 2 s at most, so that a client still writing can
//    read the answer instead of being reset);
//  - nothing blocks an io thread (a client that does not read stalls only its connection);
//    out of file descriptors, accepting pauses for 100 ms rather than spinning;
//  - the handler runs on a separate pool of `handler_threads` threads, never on an io thread:
//    it may block (the engine acknowledges a write only once it is durable), and many requests
//    blocked at once let the engine's group commit make one fsync serve them all. Its answer
//    may come later from any thread (long-polling ReceiveMessage answers from the engine, so a
//    long poll holds no pool thread while it waits): it is posted back to the session's strand.
//
// Lifecycle: bind() reserves the port (nothing listens yet: connections are refused), start()
// listens and runs `io_threads` io threads and the handler pool, drain() (or SIGINT/SIGTERM
// when `handle_signals`) stops accepting, lets every request in progress finish and be
// written, closes idle connections, and then the threads end; wait() blocks until they have
// (the handler pool included: after wait() no handler runs). A second signal while draining
// stops at once (requests still in progress are dropped unanswered; handlers already running
// finish).
//
// Thread-safety: port(), drain() and wait() may be called from any thread; start() once.
// The destructor drains and waits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "aws/http_types.h"
#include "common/result.h"
#include "server/api.h"

namespace orderflow::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4566;  // 0: an ephemeral port (see Server::port())
  int io_threads = 2;
  int handler_threads = 32;  // the pool that runs the RequestHandler (at least 1)
  std::size_t body_limit = 16 * 1024 * 1024;
  std::size_t header_limit = 64 * 1024;
  std::size_t pipeline_limit = 16;
  // Connections served at once; more wait in the listen backlog until some close.
  std::size_t max_connections = 4096;
  // Request bodies held at once across all connections, from their header (the declared
  // Content-Length; body_limit when chunked) until their answer is written. A request that
  // does not fit waits, unread, until memory is released (one request is always admitted, so
  // a body of up to body_limit always gets through).
  std::size_t request_memory_limit = 256 * 1024 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds body_timeout{60};
  std::chrono::seconds write_timeout{60};
  bool handle_signals = false;  // drain on SIGINT/SIGTERM
  // Runs once when draining begins (before connections are drained), on the thread that
  // started the drain: the owner answers requests that would otherwise wait forever
  // (a parked Runtime API `next`).
  std::function<void()> on_drain;
  // Requests whose handler never waits (it answers later through `respond`, from whichever
  // thread finishes the work) run on the io thread that read them instead of being handed to
  // the handler pool: one thread hand-over less per request. Unset: every request goes to the
  // pool. Must be quick and must not block.
  std::function<bool(const aws::HttpRequest&)> runs_inline;
};

// Answers one request; may call `respond` later, from any thread, exactly once.
using RequestHandler = std::function<void(aws::HttpRequest, Respond)>;

class Server {
 public:
  // Opens and binds the socket. Fails (internal_error with the OS's reason) when the address
  // cannot be bound.
  static Result<std::unique_ptr<Server>> bind(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the ephemeral one when options.port was 0).
  std::uint16_t port() const;
  // Starts listening and serving with `handler`.
  Status start(RequestHandler handler);
  // Stops accepting and lets requests in progress finish. Idempotent.
  void drain();
  // Blocks until drained and every io thread and handler thread has ended.
  void wait();

 private:
  friend class Session;
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::server
