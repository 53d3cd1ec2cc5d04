// Fuzz target: the SQS event a Lambda invocation carries (orders/processor.h), processed as
// the function does, into an in-memory order store.
//
// Input: the invocation payload ({"Records":[{"messageId":..,"body":..,"attributes":{..}},..]}).
// Properties: every log line and the batch response are JSON; the response lists exactly the
// records that failed; the counts add up to the records; a record is stored at most once per
// orderId.
#include <cstddef>
#include <cstdint>
#include <set>

#include "fuzz/fuzz_support.h"
#include "orders/json.h"
#include "orders/processor.h"

namespace {

namespace orders = orderflow::orders;
using orderflow::fuzz::contract_broken;

class MemoryStore final : public orders::OrderStore {
 public:
  orders::StoreOutcome put_if_absent(const orders::Order& order, std::string_view, std::string_view) override {
    if (order.order_id == "ord-store-error") return orders::StoreOutcome::error("injected", true);
    if (!ids.insert(order.order_id).second) return orders::StoreOutcome::duplicate();
    return orders::StoreOutcome::stored();
  }
  std::set<std::string> ids;
};

class CheckingSink final : public orders::LogSink {
 public:
  void write(std::string_view line) override {
    if (!orders::parse_json(line)) contract_broken("a log line is not JSON", line);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view event = orderflow::fuzz::as_text(data, size);
  MemoryStore store;
  CheckingSink sink;
  orderflow::ManualClock clock(orderflow::from_epoch_ms(1'714'564'800'000));
  orders::ProcessOptions options;
  options.metric_dimensions = {{"FunctionName", "ProcessOrderLambda"}};
  if (size % 3 == 1) options.deadline = clock.now();  // past the deadline: nothing is attempted

  auto result = orders::process_sqs_event(event, store, clock, sink, options);
  if (!result) return 0;
  const orders::BatchResult& r = *result;
  if (r.stored + r.duplicates + r.rejected + r.store_errors + r.not_attempted != r.records.size())
    contract_broken("record counts do not add up");
  if (r.stored != store.ids.size()) contract_broken("stored count differs from the store");
  std::size_t failed = 0;
  for (const auto& rec : r.records) failed += rec.succeeded() ? 0 : 1;
  if (failed != r.failed_message_ids.size()) contract_broken("failure list differs from the failed records");
  if (r.response_body != orders::batch_response_body(r.failed_message_ids))
    contract_broken("response body differs from batch_response_body");
  if (!orders::parse_json(r.response_body)) contract_broken("the batch response is not JSON", r.response_body);
  return 0;
}
