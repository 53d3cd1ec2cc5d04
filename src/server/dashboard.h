// The dashboard that `orderflow up` serves on its port: the pipeline as a live picture.
//
// Routes (everything else is not the dashboard's: handle() returns false):
//   GET  /  (and /index.html)             the page; not when the query has Action= or the
//                                         request is signed (those are SQS/SNS query calls)
//   GET  /_orderflow/dashboard/<asset>    the page's script, styles and uPlot, compiled into
//                                         the binary (no CDN: works offline)
//   GET  /_orderflow/api/overview         the pipeline's resources and the latest sample
//   GET  /_orderflow/api/history[?since=ms]   the samples of the last 15 minutes, as columns
//   GET  /_orderflow/api/events           Server-Sent Events: "sample" every second, "log" for
//                                         every new function log line
//   GET  /_orderflow/api/logs[?after=seq&limit=n]   recent function log lines
//   GET  /_orderflow/api/dlq[?limit=n]    the dead-letter queue's messages (peeked: receiving
//                                         nothing) with orderId and the failure reason from the
//                                         function's logs
//   POST /_orderflow/api/dlq/redrive      {} moves every message back (a message move task);
//                                         {"messageId": id} that one message
//   GET  /_orderflow/api/orders?id=ID     one order; ?limit=n the latest stored ones
//
// The pipeline is found in the engine: the first event source mapping gives the queue and the
// function, the queue's RedrivePolicy the DLQ, the function's ORDERS_TABLE variable the table,
// and the topic subscribed to the queue the topic.
//
// Safety. When options.token is set (`up` bound a non-loopback address), every route but the
// static assets needs it: `?token=` or the X-Orderflow-Token header; otherwise 401. POSTs must
// be application/json and, when the browser sends an Origin, come from this same host (no
// cross-site request reaches the engine). Every parameter is checked (ids by their format,
// numbers by range, bodies by size and shape) before the engine sees it.
//
// Threading: handle() may be called from any thread. A thread pushes events to the open
// streams every 250 ms; shutdown() (or the destructor) ends it and closes the streams.
#pragma once

#include <memory>
#include <string>

#include "aws/http_types.h"
#include "engine/engine.h"
#include "server/api.h"

namespace orderflow::server {

inline constexpr std::string_view kDashboardApiPrefix = "/_orderflow/api/";
inline constexpr std::string_view kDashboardAssetPrefix = "/_orderflow/dashboard/";

struct DashboardOptions {
  std::string token;            // empty: no token needed
  std::size_t max_streams = 64;  // concurrent event streams; more get 503
};

class Dashboard {
 public:
  Dashboard(engine::Engine& engine, DashboardOptions options);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Answers the request and returns true when it is the dashboard's.
  bool handle(const aws::HttpRequest& request, const Respond& respond);
  // Ends every event stream and the pusher thread. Idempotent.
  void shutdown();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One file compiled into the binary (dashboard_assets.cpp, generated from web/).
struct DashboardAsset {
  std::string_view name;  // e.g. "app.js"
  std::string_view content_type;
  std::string_view data;
};
const DashboardAsset* find_dashboard_asset(std::string_view name);

}  // namespace orderflow::server
