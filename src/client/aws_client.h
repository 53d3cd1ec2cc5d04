// AwsClient: outbound, SigV4-signed calls to AWS services (or anything speaking their wire
// protocols, such as `orderflow up`), with the SDKs' standard retries (retry.h).
//
// Protocols:
//   call_json   POST / with X-Amz-Target: <target>, Content-Type application/x-amz-json-1.0
//               (dynamodb, sqs) or -1.1 (logs); errors read from "__type" (the part after '#')
//               and "message"/"Message", or from the x-amzn-ErrorType header.
//   call_query  POST / with a form body (application/x-www-form-urlencoded); the caller puts
//               Action and Version into the parameters; errors read from the XML
//               <Error><Code>/<Message>.
// Each attempt is signed afresh (X-Amz-Date from the injected clock). For DynamoDB a response
// whose x-amz-crc32 header does not match its body is a retryable protocol error, as in
// botocore. A call succeeds only with a 2xx answer; every other outcome is a ClientError.
//
// Thread-safety: not thread-safe. Use one client per thread (each owns one HTTP connection
// pool of one handle).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/uri.h"
#include "client/config.h"
#include "client/error.h"
#include "client/retry.h"
#include "client/transport.h"
#include "common/clock.h"
#include "common/crc32.h"

namespace orderflow::client {

// The seams of a client; every member left empty gets the real implementation.
struct ClientDeps {
  std::unique_ptr<HttpTransport> transport;  // default: make_default_transport (libcurl for https)
  Clock* clock = nullptr;                    // default: the wall clock; not owned
  std::function<void(Millis)> sleep;         // default: blocks the thread for the duration
  std::function<double()> random;            // default: uniform [0, 1), seeded per client
};

// A successful (2xx) answer.
struct AwsResponse {
  int status = 0;
  Headers headers;
  std::string body;
  int attempts = 1;
};

enum class PutItemOutcome { stored, condition_failed };

struct PublishBatchEntry {
  std::string id;
  std::string message;
  std::string subject;  // empty: none
};

struct PublishBatchResult {
  struct Success {
    std::string id;
    std::string message_id;
  };
  struct Failure {
    std::string id;
    std::string code;
    std::string message;
    bool sender_fault = false;
  };
  std::vector<Success> successful;
  std::vector<Failure> failed;
};

class AwsClient {
 public:
  // Fails (Kind::config) when an endpoint URL is unusable.
  static ClientResult<std::unique_ptr<AwsClient>> create(ClientConfig config, ClientDeps deps = {});

  AwsClient(const AwsClient&) = delete;
  AwsClient& operator=(const AwsClient&) = delete;
  ~AwsClient();

  // `service` is the signing name ("dynamodb", "sqs", "logs"); `target` the full X-Amz-Target
  // ("DynamoDB_20120810.PutItem"); `body` a JSON document.
  ClientResult<AwsResponse> call_json(std::string_view service, std::string_view target,
                                      std::string_view body);
  // `service` is "sns" or "sqs"; `params` the decoded form parameters, Action and Version
  // included.
  ClientResult<AwsResponse> call_query(std::string_view service, const aws::QueryParams& params);

  // DynamoDB PutItem. `item_json` is the Item as AttributeValue JSON ({"k":{"S":"v"},...});
  // `condition_expression` may be empty. A ConditionalCheckFailedException is not an error
  // but PutItemOutcome::condition_failed.
  ClientResult<PutItemOutcome> dynamodb_put_item(std::string_view table, std::string_view item_json,
                                                 std::string_view condition_expression = {});
  // SNS Publish to a topic; returns the MessageId.
  ClientResult<std::string> sns_publish(std::string_view topic_arn, std::string_view message,
                                        std::string_view subject = {});
  // SNS PublishBatch (1..10 entries; the service enforces the limits). Per-entry failures are
  // part of the result, not an error.
  ClientResult<PublishBatchResult> sns_publish_batch(std::string_view topic_arn,
                                                     const std::vector<PublishBatchEntry>& entries);

  const ClientConfig& config() const { return config_; }
  // Tokens left in the retry quota (for tests and diagnostics).
  int retry_quota_available() const { return quota_.available(); }

 private:
  AwsClient(ClientConfig config, ClientDeps deps);
  struct Call {
    std::string service;
    Headers headers;  // besides Host and the signature headers
    std::string body;
  };
  ClientResult<AwsResponse> execute(const Call& call);

  ClientConfig config_;
  ClientDeps deps_;
  std::unique_ptr<Clock> own_clock_;
  RetryQuota quota_;
};

// ---- Small XML readers for query-protocol responses (exposed for tests) --------------------

// The raw inner text of every element named `tag` (not nested in one another), in order.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);
// The text of the first element named `tag`, entity-decoded; nullopt when absent.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);
// Decodes &amp; &lt; &gt; &quot; &apos; and numeric references (&#13; &#xD;).
std::string xml_unescape(std::string_view text);


}  // namespace orderflow::client
