// A response body written while it is produced: Server-Sent Events for the dashboard.
//
// An adapter answers with an ApiResponse whose `stream` is set; the server writes the status and
// headers at once (chunked transfer encoding, Connection: close) and then every chunk the
// producer pushes, until the producer closes the stream, the client goes away or the server
// drains (both close the stream, so the producer learns of it from push() returning false).
//
// Bounded: a consumer that falls more than `max_pending` bytes behind (a client that stopped
// reading) has its stream closed rather than letting the backlog grow.
//
// Thread-safety: every method is thread-safe. The ready callback runs on the thread that pushed
// or closed, without the stream's lock held; it must be quick (the server posts to the
// connection's strand).
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace orderflow::server {

class EventStream {
 public:
  explicit EventStream(std::size_t max_pending = 1 << 20) : max_pending_(max_pending) {}

  // Producer: appends a chunk. False when the stream is closed (then nothing is appended).
  bool push(std::string_view chunk);
  // Ends the stream (either side). Idempotent.
  void close();
  bool closed() const;

  // Consumer: `ready` runs once, when chunks are pending or the stream is closed (at once if
  // that is already so). take() then returns the pending bytes (empty: nothing pending).
  void on_ready(std::function<void()> ready);
  std::string take();

 private:
  const std::size_t max_pending_;
  mutable std::mutex mu_;
  std::string pending_;             // guarded by mu_
  bool closed_ = false;             // guarded by mu_
  std::function<void()> ready_;     // guarded by mu_
};

}  // namespace orderflow::server
