// Test-only helpers for the server layer's unit tests: an engine on a temp dir with a manual
// clock, and a way to wait for an asynchronous Respond.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/testing/temp_dir.h"
#include "server/api.h"

namespace orderflow::server::testing {

// Collects one response; get() waits for it (up to `timeout`) and fails the test otherwise.
class Reply {
 public:
  Respond respond() {
    return [p = promise_](ApiResponse r) { p->set_value(std::move(r)); };
  }
  bool ready(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
    return future_.wait_for(wait) == std::future_status::ready;
  }
  ApiResponse get(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    if (future_.wait_for(timeout) != std::future_status::ready) return ApiResponse{-1, {}, "no response"};
    return future_.get();
  }

 private:
  std::shared_ptr<std::promise<ApiResponse>> promise_ = std::make_shared<std::promise<ApiResponse>>();
  std::future<ApiResponse> future_ = promise_->get_future();
};

inline std::optional<std::string> header(const ApiResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(k[i])) != std::tolower(static_cast<unsigned char>(name[i]))) same = false;
    if (same) return v;
  }
  return std::nullopt;
}

inline bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// An engine on a fresh temp dir, on a ManualClock.
struct TestEngine {
  TestEngine() {
    engine::EngineOptions o;
    o.data_dir = dir.path();
    o.sns_signing_key_bits = 1024;
    auto e = engine::Engine::open(o, clock);
    if (e) engine = std::move(*e);
  }
  orderflow::testing::TempDir dir;
  ManualClock clock{from_epoch_ms(1'800'000'000'000)};
  std::unique_ptr<engine::Engine> engine;
};

}  // namespace orderflow::server::testing
