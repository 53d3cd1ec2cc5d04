// Time comes in through one seam (STYLE.md item 2). Engine logic never calls
// std::chrono clocks directly: it asks a Clock, so tests can use ManualClock and advance
// time instead of sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <utility>

namespace orderflow {

// Wall-clock time with millisecond resolution, as AWS timestamps are.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;
using Micros = std::chrono::microseconds;
// Wall-clock time with microsecond resolution: for measuring durations that AWS reports to
// the hundredth of a millisecond (a Lambda REPORT line's Duration and Init Duration).
using PreciseTimePoint = std::chrono::time_point<std::chrono::system_clock, Micros>;

inline std::int64_t to_epoch_ms(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_epoch_ms(std::int64_t ms) { return TimePoint(Millis(ms)); }

// Thread-safe. `wait_until` blocks the caller, which holds `lock` (the mutex that guards the
// condition it waits for), until `cv` is notified or `deadline` has passed on this clock.
// Spurious wake-ups are allowed: callers re-check their condition and the time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // now() with microseconds where the clock has them (the real clock); by default now().
  virtual PreciseTimePoint precise_now() const { return now(); }
  virtual void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline) = 0;
};

// The real wall clock.
class RealClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
  PreciseTimePoint precise_now() const override {
    return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  }
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline) override {
    cv.wait_until(lock, deadline);
  }
};

// A clock that moves only when told to. Waiters blocked in wait_until are woken by advance()
// (which takes each waiter's mutex before notifying, so no wake-up is lost).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = from_epoch_ms(1'700'000'000'000)) : now_(start) {}

  TimePoint now() const override {
    std::lock_guard g(mu_);
    return now_;
  }

  void advance(Millis d) {
    std::set<std::pair<std::mutex*, std::condition_variable*>> waiters;
    {
      std::lock_guard g(mu_);
      now_ += d;
      waiters = waiters_;
    }
    for (auto [m, cv] : waiters) {
      std::lock_guard g(*m);
      cv->notify_all();
    }
  }

  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline) override {
    auto key = std::make_pair(lock.mutex(), &cv);
    {
      std::lock_guard g(mu_);
      if (now_ >= deadline) return;
      waiters_.insert(key);
    }
    cv.wait(lock);
    std::lock_guard g(mu_);
    waiters_.erase(key);
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;  // guarded by mu_
  std::set<std::pair<std::mutex*, std::condition_variable*>> waiters_;  // guarded by mu_
};

}  // namespace orderflow
