// SNS topics, embedded: topics, `sqs` subscriptions (raw delivery, filter policies) and
// Publish/PublishBatch with atomic fan-out.
//
// Fan-out contract: one Publish (or a whole PublishBatch) is delivered to every matching
// subscription in ONE durable store batch through Queues::deliver_all, and acknowledged only
// after that batch is durable. A crash never leaves a partial fan-out. Deliveries to a queue
// that does not exist are dropped silently, as on AWS.
//
// Thread-safety: all methods are thread-safe; one mutex guards topics and subscriptions and is
// never held while calling into Queues.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/message_attributes.h"
#include "engine/queues.h"
#include "engine/store.h"

namespace orderflow::engine {

struct TopicsOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Base of SigningCertURL / UnsubscribeURL in envelopes, e.g. "http://127.0.0.1:4566".
  std::string base_url = "http://localhost:4566";
  // RSA key size for envelope signatures (AWS signs every notification).
  int signing_key_bits = 2048;
  // A new data directory's signing key is generated on a thread of its own, so that open()
  // returns at once; the first publish waits for it (and, should generating or storing it
  // fail, fails with InternalError and starts again). False: open() generates it.
  bool generate_key_in_background = false;
};

struct PublishRequest {
  std::string message;
  std::optional<std::string> subject;
  std::string message_structure;  // "" or "json"
  MessageAttributes attributes;
};

struct Page {
  std::vector<std::string> items;
  std::string next_token;  // empty on the last page
};

struct SubscriptionInfo {
  std::string subscription_arn;
  std::string topic_arn;
  std::string protocol;
  std::string endpoint;
  std::string owner;
};

class Topics {
 public:
  static Result<std::unique_ptr<Topics>> open(Store& store, Clock& clock, Queues& queues,
                                              TopicsOptions options = {});
  ~Topics();
  Topics(const Topics&) = delete;
  Topics& operator=(const Topics&) = delete;

  // Idempotent: the same name returns the same ARN (InvalidParameter when attributes differ).
  Result<std::string> create_topic(std::string_view name, const AttributeMap& attributes,
                                   const TagMap& tags = {});
  Status delete_topic(std::string_view topic_arn);  // deleting a missing topic succeeds, as on AWS
  Result<Page> list_topics(std::string_view next_token) const;
  // TagResource / UntagResource / ListTagsForResource on a topic. Keys 1..128 and values
  // 0..256 characters; at most 50 tags (TagLimitExceeded). A missing topic: ResourceNotFound.
  Status tag_topic(std::string_view topic_arn, const TagMap& tags);
  Status untag_topic(std::string_view topic_arn, const std::vector<std::string>& keys);
  Result<TagMap> topic_tags(std::string_view topic_arn) const;
  Result<AttributeMap> get_topic_attributes(std::string_view topic_arn) const;
  Status set_topic_attribute(std::string_view topic_arn, std::string_view name, std::string_view value);

  // Only protocol "sqs" delivers here; `endpoint` is the queue ARN.
  Result<std::string> subscribe(std::string_view topic_arn, std::string_view protocol,
                                std::string_view endpoint, const AttributeMap& attributes);
  Status unsubscribe(std::string_view subscription_arn);
  Result<std::vector<SubscriptionInfo>> list_subscriptions(std::string_view topic_arn /* "" = all */,
                                                           std::string_view next_token,
                                                           std::string* next_out) const;
  Result<AttributeMap> get_subscription_attributes(std::string_view subscription_arn) const;
  Status set_subscription_attribute(std::string_view subscription_arn, std::string_view name,
                                    std::string_view value);

  // Returns the MessageId.
  Result<std::string> publish(std::string_view topic_arn, PublishRequest request);
  Result<BatchOutcome<std::string>> publish_batch(
      std::string_view topic_arn, std::vector<std::pair<std::string, PublishRequest>> entries);

  // Messages published to each topic since the process started (accepted entries), by ARN.
  std::map<std::string, std::uint64_t> published_counts() const;

  // The PEM certificate that SigningCertURL serves.
  std::string signing_certificate_pem() const;
  std::string topic_arn(std::string_view name) const;

 private:
  struct Impl;
  explicit Topics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderflow::engine
