#include "cli/publish.h"

#include <gtest/gtest.h>

#include <set>

#include "orders/order.h"

namespace orderflow::cli {
namespace {

constexpr std::int64_t kCreated = 1'714'566'600'250;  // 2024-05-01T12:30:00.250Z

TEST(SampleOrder, IsAValidOrderForEveryNumber) {
  SampleOrderOptions options{"abc123", 42};
  for (std::uint64_t n = 1; n <= 500; ++n) {
    std::string text = sample_order(options, n, kCreated);
    auto order = orders::parse_order(text);
    ASSERT_TRUE(order.has_value()) << text << ": " << order.error().reason;
    EXPECT_EQ(order->order_id, "ord-abc123-" + std::to_string(n));
    EXPECT_TRUE(order->customer_id.has_value());
    ASSERT_TRUE(order->items.has_value());
    EXPECT_GE(order->items->size(), 1u);
    EXPECT_LE(order->items->size(), 3u);
    EXPECT_TRUE(order->total.has_value());  // validation checked it equals the sum
    EXPECT_EQ(order->created_at, "2024-05-01T12:30:00.250Z");
    EXPECT_TRUE(order->email.has_value());
    EXPECT_TRUE(order->currency.has_value());
  }
}

TEST(SampleOrder, IsDeterministicPerSeedAndNumber) {
  SampleOrderOptions a{"run", 1}, b{"run", 2};
  EXPECT_EQ(sample_order(a, 7, kCreated), sample_order(a, 7, kCreated));
  EXPECT_NE(sample_order(a, 7, kCreated), sample_order(a, 8, kCreated));
  EXPECT_NE(sample_order(a, 7, kCreated), sample_order(b, 7, kCreated));
}

TEST(SampleOrder, RunIdsAreSixBase36Characters) {
  std::set<std::string> ids;
  for (std::uint64_t r : {0ull, 1ull, 35ull, 36ull, 0xFFFFFFFFFFFFFFFFull}) {
    std::string id = make_run_id(r);
    EXPECT_EQ(id.size(), 6u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz"), std::string::npos);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 5u);
}

TEST(PublishInput, TellsJsonFromOtherLines) {
  EXPECT_TRUE(is_json_text(R"({"orderId":"a"})"));
  EXPECT_TRUE(is_json_text("42"));
  EXPECT_FALSE(is_json_text("not json"));
  EXPECT_FALSE(is_json_text(R"({"orderId":)"));
  EXPECT_FALSE(is_json_text(""));
}

TEST(PublishBatching, TenEntriesAnd256KiBAtMost) {
  EXPECT_TRUE(fits_batch(0, 0, kMaxBatchBytes + 1));  // alone, it fails by itself
  EXPECT_TRUE(fits_batch(9, 100, 100));
  EXPECT_FALSE(fits_batch(10, 100, 1));
  EXPECT_TRUE(fits_batch(1, kMaxBatchBytes - 10, 10));
  EXPECT_FALSE(fits_batch(1, kMaxBatchBytes - 10, 11));
}

}  // namespace
}  // namespace orderflow::cli
