#include "client/retry.h"

#include <gtest/gtest.h>

namespace orderflow::client {
namespace {

TEST(RetryPolicy, RetriesThrottlingErrorCodes) {
  for (const char* code : {"ThrottlingException", "ProvisionedThroughputExceededException",
                           "RequestLimitExceeded", "Throttling", "TooManyRequestsException",
                           "LimitExceededException", "SlowDown"}) {
    EXPECT_EQ(classify_service_error(400, code), FailureClass::throttling) << code;
  }
  EXPECT_EQ(classify_service_error(429, ""), FailureClass::throttling);
}

TEST(RetryPolicy, RetriesServerErrorsAndTransientCodes) {
  for (int status : {500, 502, 503, 504}) {
    EXPECT_EQ(classify_service_error(status, "Whatever"), FailureClass::transient) << status;
  }
  EXPECT_EQ(classify_service_error(400, "RequestTimeout"), FailureClass::transient);
}

TEST(RetryPolicy, DoesNotRetryClientErrors) {
  for (const char* code : {"ValidationException", "ResourceNotFoundException",
                           "ConditionalCheckFailedException", "UnrecognizedClientException",
                           "InvalidSignatureException", "NotFound", ""}) {
    EXPECT_EQ(classify_service_error(400, code), FailureClass::not_retryable) << code;
  }
  EXPECT_EQ(classify_service_error(501, ""), FailureClass::not_retryable);
}

TEST(RetryPolicy, BackoffIsFullJitterOverADoublingCappedCeiling) {
  RetryOptions o;  // 100 ms base, 20 s cap
  EXPECT_EQ(backoff_delay(1, 0.0, o), Millis(0));
  EXPECT_EQ(backoff_delay(1, 0.5, o), Millis(50));
  EXPECT_EQ(backoff_delay(2, 0.5, o), Millis(100));
  EXPECT_EQ(backoff_delay(3, 0.999, o), Millis(399));
  EXPECT_EQ(backoff_delay(9, 1.0, o), Millis(20'000));   // 25.6 s capped
  EXPECT_EQ(backoff_delay(60, 0.25, o), Millis(5'000));  // no overflow far out
}

TEST(RetryQuota, ChargesRetriesAndRefundsSuccesses) {
  RetryQuota q;
  int cost = 0;
  ASSERT_TRUE(q.acquire(FailureClass::transient, cost));
  EXPECT_EQ(cost, 5);
  EXPECT_EQ(q.available(), 495);
  ASSERT_TRUE(q.acquire(FailureClass::timeout, cost));
  EXPECT_EQ(cost, 10);
  EXPECT_EQ(q.available(), 485);
  q.release(10);
  EXPECT_EQ(q.available(), 495);
  q.release(0);  // success without retry
  EXPECT_EQ(q.available(), 496);
  for (int i = 0; i < 10; ++i) q.release(0);
  EXPECT_EQ(q.available(), RetryQuota::kCapacity);
}

TEST(RetryQuota, RefusesRetriesWhenEmpty) {
  RetryQuota q;
  int cost = 0;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.acquire(FailureClass::throttling, cost));
  EXPECT_EQ(q.available(), 0);
  EXPECT_FALSE(q.acquire(FailureClass::throttling, cost));
  EXPECT_EQ(cost, 0);
}

}  // namespace
}  // namespace orderflow::client
