// The blocking form of a call that answers through a callback.
#pragma once

#include <future>
#include <utility>

namespace orderflow {

// Calls `start(answer)`, where `answer` takes a T, and waits until it has been called (on this
// thread or any other); returns what it was given.
template <class T, class Start>
T await_answer(Start&& start) {
  std::promise<T> answered;
  auto result = answered.get_future();
  std::forward<Start>(start)([&answered](T value) { answered.set_value(std::move(value)); });
  return result.get();
}

}  // namespace orderflow
