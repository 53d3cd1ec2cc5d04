// GET /metrics: the engine's live state in the Prometheus text exposition format (0.0.4), for
// `orderflow status`, the dashboard and any Prometheus scraper. Unauthenticated and read-only,
// like /_orderflow/health; it reveals names and counts, never message contents.
//
//   orderflow_queue_messages{queue="q",state="visible|in_flight|delayed"}   gauge
//   orderflow_table_items{table="t"}                                          gauge
//   orderflow_function_workers{function="f"}                                  gauge (alive)
//   orderflow_function_busy_workers{function="f"}                             gauge
//   orderflow_function_queued_invocations{function="f"}                       gauge
//   orderflow_function_invocations_total{function="f"}                        counter
//   orderflow_function_errors_total{function="f"}                             counter
//   orderflow_function_timeouts_total{function="f"}                           counter
//   orderflow_function_crashes_total{function="f"}                            counter
//   orderflow_function_workers_started_total{function="f"}                    counter
//   orderflow_function_duration_seconds_total{function="f"}                   counter
//   orderflow_event_source_mapping_invocations_total{uuid,queue,function}     counter
//   orderflow_event_source_mapping_messages_deleted_total{...}                counter
//   orderflow_event_source_mapping_failed_batches_total{...}                  counter
//   orderflow_event_source_mapping_in_flight{...}                             gauge
//   orderflow_topic_messages_published_total{topic="t"}                       counter
//   orderflow_emf_count / _sum{namespace,metric,unit,dimensions="K=v,..."}     counter
//   orderflow_emf_min / _max{namespace,metric,unit,dimensions}                 gauge
// The orderflow_emf_* series are the Embedded Metric Format lines the functions printed,
// aggregated per CloudWatch metric (engine/metrics.h).
// Label values are escaped as the format requires (backslash, quote, newline).
#pragma once

#include <string>
#include <string_view>

#include "aws/http_types.h"
#include "engine/engine.h"
#include "server/api.h"

namespace orderflow::server {

inline constexpr std::string_view kMetricsPath = "/metrics";

std::string render_metrics(engine::Engine& engine);

void respond_metrics(engine::Engine& engine, const aws::HttpRequest& request, const Respond& respond);

}  // namespace orderflow::server
