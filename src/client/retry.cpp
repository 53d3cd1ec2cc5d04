#include "client/retry.h"

#include <algorithm>
#include <cmath>

namespace orderflow::client {

bool is_throttling_code(std::string_view code) {
  constexpr std::string_view kCodes[] = {
      "Throttling",          "ThrottlingException",
      "ThrottledException",  "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException",
      "TransactionInProgressException", "RequestLimitExceeded",
      "BandwidthLimitExceeded", "LimitExceededException",
      "RequestThrottled",    "SlowDown",
      "PriorRequestNotComplete", "EC2ThrottledException",
  };
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

bool is_transient_code(std::string_view code) {
  constexpr std::string_view kCodes[] = {"RequestTimeout", "RequestTimeoutException",
                                         "PriorRequestNotComplete", "InternalError",
                                         "InternalFailure", "InternalServerError",
                                         "ServiceUnavailable"};
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

FailureClass classify_service_error(int http_status, std::string_view code) {
  if (is_throttling_code(code) || http_status == 429) return FailureClass::throttling;
  if (is_transient_code(code)) return FailureClass::transient;
  if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504) {
    return FailureClass::transient;
  }
  return FailureClass::not_retryable;
}

Millis backoff_delay(int retry_number, double random01, const RetryOptions& options) {
  double cap = static_cast<double>(options.max_backoff.count());
  double exp = static_cast<double>(options.base_delay.count()) *
               std::pow(2.0, std::clamp(retry_number - 1, 0, 62));
  double ceiling = std::min(cap, exp);
  double r = std::clamp(random01, 0.0, 1.0);
  return Millis(static_cast<Millis::rep>(r * ceiling));
}

bool RetryQuota::acquire(FailureClass c, int& cost) {
  cost = c == FailureClass::timeout ? kTimeoutRetryCost : kRetryCost;
  if (available_ < cost) {
    cost = 0;
    return false;
  }
  available_ -= cost;
  return true;
}

void RetryQuota::release(int cost) {
  available_ = std::min(kCapacity, available_ + (cost > 0 ? cost : kNoRetryIncrement));
}

}  // namespace orderflow::client
