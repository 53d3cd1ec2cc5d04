#include "orders/envelope.h"

#include "orders/json.h"

namespace orderflow::orders {

std::expected<UnwrappedMessage, EnvelopeError> unwrap_message(std::string_view body) {
  UnwrappedMessage out;
  auto doc = parse_json(body);
  const JsonValue* type = doc ? doc->find("Type") : nullptr;
  const JsonValue* message_id = doc ? doc->find("MessageId") : nullptr;
  const JsonValue* topic_arn = doc ? doc->find("TopicArn") : nullptr;
  bool envelope = type != nullptr && type->is_string() && type->as_string() == "Notification" &&
                  message_id != nullptr && topic_arn != nullptr;
  if (!envelope) {
    out.message = std::string(body);
    return out;
  }
  if (!message_id->is_string() || !topic_arn->is_string()) {
    return std::unexpected(EnvelopeError{"SNS notification has a non-string MessageId or TopicArn"});
  }
  const JsonValue* message = doc->find("Message");
  if (message == nullptr || !message->is_string()) {
    return std::unexpected(EnvelopeError{"SNS notification has no Message string"});
  }
  out.message = message->as_string();
  out.sns_message_id = message_id->as_string();
  out.topic_arn = topic_arn->as_string();
  return out;
}

}  // namespace orderflow::orders
