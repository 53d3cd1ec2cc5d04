// Comparing a drain from a small backlog with one from a large backlog on a machine whose disk
// speed drifts: in alternating rounds, so that both drains see the same moments. Header-only.
#pragma once

#include <unistd.h>

#include <utility>

namespace orderflow::bench {

inline constexpr int kDrainRounds = 4;  // the benchmarks' rounds

// `rounds` times: refill(n) puts n messages into the small queue; then, after sync(2) each
// (neither drain pays for the write-back of what came before), drain(false, n) takes n from
// the small queue and drain(true, n) n from the large one, in turns which goes first; drain
// returns the seconds it took. Returns {small, large}: messages/s over all rounds. total >= 1;
// the large queue must hold total plus what the drains may take beyond what they count.
template <class Refill, class Drain>
std::pair<double, double> alternating_drains(long total, int rounds, Refill refill, Drain drain) {
  if (rounds > total) rounds = static_cast<int>(total);  // every round drains at least one
  double seconds[2] = {0, 0};
  long done = 0;
  for (int r = 0; r < rounds; ++r) {
    long n = (total - done) / (rounds - r);
    refill(n);
    for (int i = 0; i < 2; ++i) {
      bool large = (r + i) % 2 == 1;
      ::sync();
      seconds[large ? 1 : 0] += drain(large, n);
    }
    done += n;
  }
  return {static_cast<double>(total) / seconds[0], static_cast<double>(total) / seconds[1]};
}

}  // namespace orderflow::bench
