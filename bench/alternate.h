// Comparing a drain from a small backlog with one from a large backlog on a machine whose disk
// speed drifts: in alternating rounds, so that both drains see the same moments. Header-only.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace orderflow::bench {

inline constexpr int kDrainRounds = 4;

// How many messages the drains below may count in all: at most `cap`, and no more than a
// backlog of `backlog` holds, since each drain may take up to 10 more per thread than it counts
// (the receives in flight when the last counted message is deleted). At least 1.
inline long drain_total(long backlog, int threads, long cap) {
  return std::max(1L, std::min(cap, backlog - long{kDrainRounds} * threads * 10));
}

// kDrainRounds times (fewer when total is smaller): refill(n) puts n messages into the small
// queue; then, after sync(2) each (neither drain pays for the write-back of what came before),
// drain(false, n) takes n from the small queue and drain(true, n) n from the large one, in
// turns which goes first; drain returns the seconds it took. Returns {small, large}:
// messages/s over all rounds. total >= 1, as drain_total gives.
template <class Refill, class Drain>
std::pair<double, double> alternating_drains(long total, Refill refill, Drain drain) {
  long rounds = std::min<long>(kDrainRounds, total);  // every round drains at least one
  double seconds[2] = {0, 0};
  long done = 0;
  for (long r = 0; r < rounds; ++r) {
    long n = (total - done) / (rounds - r);
    refill(n);
    for (long i = 0; i < 2; ++i) {
      bool large = (r + i) % 2 == 1;
      ::sync();
      seconds[large ? 1 : 0] += drain(large, n);
    }
    done += n;
  }
  return {static_cast<double>(total) / seconds[0], static_cast<double>(total) / seconds[1]};
}

}  // namespace orderflow::bench
