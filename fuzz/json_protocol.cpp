// Fuzz target: JSON protocol request bodies, through the socket-free router to the SQS JSON,
// DynamoDB and CloudWatch Logs adapters.
//
// Input: the X-Amz-Target on the first line ("DynamoDB_20120810.PutItem"), the body after it.
// The request is signed with the router's credentials for the service the target names (so it
// passes authentication and reaches the adapter) and answered on an engine holding the order
// pipeline's queues, topic, tables and log group. Every answer must keep the router's contract
// (fuzz_support.h: one answer, a valid status, JSON that parses).
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_engine.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static orderflow::fuzz::FuzzEngine* fuzz_engine =
      new orderflow::fuzz::FuzzEngine(orderflow::fuzz::create_pipeline_resources);
  std::string_view in = orderflow::fuzz::as_text(data, size);
  std::string_view target = orderflow::fuzz::take_line(in);
  auto req = orderflow::fuzz::json_request(target, std::string(in));
  fuzz_engine->call_signed(std::move(req), orderflow::fuzz::service_of_target(target));
  return 0;
}
