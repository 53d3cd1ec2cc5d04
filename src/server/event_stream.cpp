#include "server/event_stream.h"

#include <utility>

namespace orderflow::server {

bool EventStream::push(std::string_view chunk) {
  std::function<void()> ready;
  {
    std::lock_guard g(mu_);
    if (closed_) return false;
    if (pending_.size() + chunk.size() > max_pending_) {
      closed_ = true;  // the consumer stopped reading: give up on it
    } else {
      pending_.append(chunk);
    }
    ready = std::exchange(ready_, nullptr);
  }
  if (ready) ready();
  std::lock_guard g(mu_);
  return !closed_;
}

void EventStream::close() {
  std::function<void()> ready;
  {
    std::lock_guard g(mu_);
    closed_ = true;
    ready = std::exchange(ready_, nullptr);
  }
  if (ready) ready();
}

bool EventStream::closed() const {
  std::lock_guard g(mu_);
  return closed_;
}

void EventStream::on_ready(std::function<void()> ready) {
  {
    std::lock_guard g(mu_);
    if (pending_.empty() && !closed_) {
      ready_ = std::move(ready);
      return;
    }
  }
  ready();
}

std::string EventStream::take() {
  std::lock_guard g(mu_);
  return std::exchange(pending_, {});
}

}  // namespace orderflow::server
