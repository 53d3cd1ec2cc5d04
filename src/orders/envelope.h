// What an SQS record's body holds: either an SNS notification envelope (raw message delivery
// off, the default for an SNS -> SQS subscription) or the published message itself (raw
// delivery on, or a message sent straight to the queue).
//
// A body is an envelope when it is a JSON object with "Type": "Notification" and both
// "MessageId" and "TopicArn" members; its "Message" must then be a string, which is the
// published message (itself JSON-escaped text: an order arrives parsed twice). Any other body
// is taken as the message verbatim. Envelope signatures are not checked: the queue policy,
// not the consumer, decides who may deliver.
//
// Thread-safety: pure functions.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace orderflow::orders {

struct UnwrappedMessage {
  std::string message;                        // the published message text
  std::optional<std::string> sns_message_id;  // set when the body was an SNS envelope
  std::optional<std::string> topic_arn;       // likewise
  bool from_sns() const { return sns_message_id.has_value(); }
};

struct EnvelopeError {
  std::string reason;  // e.g. "SNS notification has no Message string"
};

std::expected<UnwrappedMessage, EnvelopeError> unwrap_message(std::string_view body);

}  // namespace orderflow::orders
