// The AWS SDKs' "standard" retry mode, as pure pieces AwsClient puts together:
//   - which failures are retried: throttling error codes (and HTTP 429), transient codes,
//     HTTP 500/502/503/504, and transport failures where nothing or not all came back
//     (connect, timeout, io); never TLS failures or ordinary 4xx service errors;
//   - backoff with full jitter: before retry n (n = 1 after the first attempt),
//     sleep random[0,1) * min(max_backoff, base_delay * 2^(n-1));
//   - the retry quota: a client-wide bucket of 500 tokens; a retry takes 5 (10 after a
//     timeout) and is not made when the bucket cannot pay; a success returns what its last
//     retry took (as botocore does), or 1 token when it needed no retry (up to the 500).
//
// Thread-safety: RetryQuota is not synchronized (one per client, and a client is used by one
// thread); the free functions are pure.
#pragma once

#include <string_view>

#include "client/config.h"
#include "common/clock.h"

namespace orderflow::client {

enum class FailureClass {
  not_retryable,
  throttling,  // the service asked us to slow down
  transient,   // 5xx, transient error codes, connection failures
  timeout,     // transient, but costs more retry quota
};

bool is_throttling_code(std::string_view code);
bool is_transient_code(std::string_view code);
// A service error response: by AWS error code and HTTP status.
FailureClass classify_service_error(int http_status, std::string_view code);

// The sleep before retry `retry_number` (1-based) given a random draw in [0, 1).
Millis backoff_delay(int retry_number, double random01, const RetryOptions& options);

class RetryQuota {
 public:
  static constexpr int kCapacity = 500;
  static constexpr int kRetryCost = 5;
  static constexpr int kTimeoutRetryCost = 10;
  static constexpr int kNoRetryIncrement = 1;

  // Takes the cost of a retry after a failure of class `c`; false (nothing taken) when the
  // bucket cannot pay. Returns the amount taken through `cost`.
  bool acquire(FailureClass c, int& cost);
  // After a successful call: returns `cost` (what its last retry took) or, when the call
  // needed no retry (cost 0), kNoRetryIncrement.
  void release(int cost);
  int available() const { return available_; }

 private:
  int available_ = kCapacity;
};

}  // namespace orderflow::client
