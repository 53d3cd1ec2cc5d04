// The SNS notification envelope: the JSON document SNS delivers to an SQS queue (and HTTP/S
// endpoints) when raw message delivery is off, signed the way AWS signs it.
//
// Wire format (byte-compatible with AWS, including its pretty-printing):
//   {
//     "Type" : "Notification",
//     "MessageId" : "<uuid>",
//     "TopicArn" : "<topic arn>",
//     "Subject" : "<subject>",                       only when the publisher set one
//     "Message" : "<message, JSON-escaped>",
//     "Timestamp" : "2012-05-02T00:54:06.655Z",
//     "SignatureVersion" : "1",
//     "Signature" : "<base64 RSA signature>",
//     "SigningCertURL" : "<base>/SimpleNotificationService-0000.pem",
//     "UnsubscribeURL" : "<base>/?Action=Unsubscribe&SubscriptionArn=<subscription arn>",
//     "MessageAttributes" : {                        only when there are attributes
//       "<name>" : {"Type":"<DataType>","Value":"<StringValue or base64 of BinaryValue>"}
//     }
//   }
// The signature (SignatureVersion "1" = SHA1withRSA, "2" = SHA256withRSA, PKCS#1 v1.5) is over
// the string-to-sign: for Message, MessageId, Subject (only if set), Timestamp, TopicArn, Type
// in that order, "<Name>\n<Value>\n".
//
// Thread-safety: SigningKey is immutable after creation; copies share the key, and signing
// from several threads at once is safe. The free functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/message_attributes.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace orderflow::engine::sns {

enum class SignatureVersion : std::uint8_t { v1 = 1, v2 = 2 };

// Name of the certificate file the SigningCertURL points at, served by the HTTP edge.
inline constexpr std::string_view signing_cert_file_name = "SimpleNotificationService-0000.pem";

// An RSA private key for signing notifications. Created by a factory (generation or PEM
// import can fail); cheap to copy (shared, immutable).
class SigningKey {
 public:
  // A fresh RSA key of `bits` bits (2048 like AWS). Errors: sns_internal_error.
  static Result<SigningKey> generate(int bits = 2048);
  // Imports a PEM private key (as produced by private_key_pem()), so a key can persist across
  // restarts. Errors: sns_internal_error when the PEM is not an RSA private key.
  static Result<SigningKey> from_private_key_pem(std::string_view pem);

  // PKCS#8 PEM of the private key ("-----BEGIN PRIVATE KEY-----").
  std::string private_key_pem() const;
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  std::string public_key_pem() const;
  // A self-signed X.509 certificate for the key (what SigningCertURL serves), valid for ten
  // years from `not_before_epoch_s` (pass the injected clock's time), subject CN=`common_name`.
  Result<std::string> certificate_pem(std::int64_t not_before_epoch_s,
                                      std::string_view common_name = "sns.amazonaws.com") const;
  // Raw signature bytes over `data`. Errors: sns_internal_error.
  Result<std::string> sign(std::string_view data, SignatureVersion version) const;

 private:
  explicit SigningKey(std::shared_ptr<evp_pkey_st> key);
  std::shared_ptr<evp_pkey_st> key_;
};

// The same as SigningKey::generate(2048).
Result<SigningKey> generate_signing_key();

// True when `signature` (raw bytes) is a valid signature of `data` by the key in `pem`, which
// may be a public key PEM or a certificate PEM. False for any malformed input.
bool verify_signature(std::string_view pem, std::string_view data, std::string_view signature,
                      SignatureVersion version);

// Everything that goes into one envelope.
struct Notification {
  std::string message_id;
  std::string topic_arn;
  std::optional<std::string> subject;
  std::string message;
  std::int64_t timestamp_ms = 0;  // epoch milliseconds of the publish
  MessageAttributes attributes;
  std::string subscription_arn;
  std::string base_url;  // e.g. "http://127.0.0.1:4566"; a trailing '/' is ignored
  SignatureVersion signature_version = SignatureVersion::v1;
};

// "<base>/SimpleNotificationService-0000.pem".
std::string signing_cert_url(std::string_view base_url);
// "<base>/?Action=Unsubscribe&SubscriptionArn=<arn>" (the ARN is not percent-encoded, as AWS).
std::string unsubscribe_url(std::string_view base_url, std::string_view subscription_arn);

// The canonical string SNS signs for a Notification.
std::string notification_string_to_sign(const Notification& notification);

// The complete, signed envelope. Errors: sns_internal_error if signing fails.
Result<std::string> build_notification_envelope(const Notification& notification,
                                                const SigningKey& key);

// `text` as a JSON string literal (with the quotes), escaped as AWS escapes it: '"', '\\',
// \b \f \n \r \t, other control characters as \u00XX; everything else (UTF-8 included) verbatim.
std::string json_quote(std::string_view text);

}  // namespace orderflow::engine::sns
