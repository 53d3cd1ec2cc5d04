#include "engine/sns/envelope.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <ctime>
#include <utility>

#include "common/util.h"

namespace orderflow::engine::sns {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

std::shared_ptr<evp_pkey_st> own(EVP_PKEY* key) {
  return std::shared_ptr<evp_pkey_st>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

// OpenSSL reports failures on a per-thread queue; drain it so failures don't leak into
// unrelated later calls, and return its last message for our error text.
std::string drain_openssl_errors() {
  std::string last;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    last = buf;
  }
  return last;
}

std::unexpected<Error> openssl_failure(std::string_view what) {
  std::string detail = drain_openssl_errors();
  std::string message = "SNS signing: " + std::string(what) + " failed";
  if (!detail.empty()) message += ": " + detail;
  return fail(ErrorCode::sns_internal_error, std::move(message));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

const EVP_MD* digest_for(SignatureVersion version) {
  return version == SignatureVersion::v2 ? EVP_sha256() : EVP_sha1();
}

std::string_view trim_trailing_slash(std::string_view base_url) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return base_url;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += "  ";
  out += json_quote(name);
  out += " : ";
  out += json_quote(value);
}

}  // namespace

// ---- SigningKey ------------------------------------------------------------------------------

SigningKey::SigningKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}

Result<SigningKey> SigningKey::generate(int bits) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) <= 0) {
    return openssl_failure("RSA key setup");
  }
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &key) <= 0 || key == nullptr) {
    return openssl_failure("RSA key generation");
  }
  return SigningKey(own(key));
}

Result<SigningKey> SigningKey::from_private_key_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return openssl_failure("BIO allocation");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return openssl_failure("reading the private key PEM");
  auto owned = own(key);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return fail(ErrorCode::sns_internal_error, "SNS signing: the private key is not an RSA key");
  }
  return SigningKey(std::move(owned));
}

std::string SigningKey::private_key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    drain_openssl_errors();
    return {};
  }
  return bio_contents(bio.get());
}

std::string SigningKey::public_key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    drain_openssl_errors();
    return {};
  }
  return bio_contents(bio.get());
}

Result<std::string> SigningKey::certificate_pem(std::int64_t not_before_epoch_s,
                                                std::string_view common_name) const {
  constexpr std::int64_t kTenYears = 10LL * 365 * 24 * 3600;
  X509Ptr cert(X509_new());
  if (!cert) return openssl_failure("certificate allocation");
  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool ok =
      X509_set_version(cert.get(), 2) == 1 &&
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(not_before_epoch_s)) !=
          nullptr &&
      ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                    static_cast<time_t>(not_before_epoch_s + kTenYears)) != nullptr &&
      X509_set_pubkey(cert.get(), key_.get()) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 &&
      X509_sign(cert.get(), key_.get(), EVP_sha256()) > 0;
  if (!ok) return openssl_failure("certificate creation");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
    return openssl_failure("certificate encoding");
  }
  return bio_contents(bio.get());
}

Result<std::string> SigningKey::sign(std::string_view data, SignatureVersion version) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, digest_for(version), nullptr, key_.get()) != 1) {
    return openssl_failure("signature setup");
  }
  std::size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) {
    return openssl_failure("signature sizing");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes,
                     data.size()) != 1) {
    return openssl_failure("signing");
  }
  signature.resize(length);
  return signature;
}

Result<SigningKey> generate_signing_key() { return SigningKey::generate(2048); }

bool verify_signature(std::string_view pem, std::string_view data, std::string_view signature,
                      SignatureVersion version) {
  EVP_PKEY* raw = nullptr;
  {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (bio) raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  }
  if (raw == nullptr) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (cert) raw = X509_get_pubkey(cert.get());
  }
  if (raw == nullptr) {
    drain_openssl_errors();
    return false;
  }
  auto key = own(raw);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(version), nullptr, raw) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  drain_openssl_errors();
  return ok;
}

// ---- Envelope ------------------------------------------------------------------------------

std::string signing_cert_url(std::string_view base_url) {
  std::string url(trim_trailing_slash(base_url));
  url += '/';
  url += signing_cert_file_name;
  return url;
}

std::string unsubscribe_url(std::string_view base_url, std::string_view subscription_arn) {
  std::string url(trim_trailing_slash(base_url));
  url += "/?Action=Unsubscribe&SubscriptionArn=";
  url += subscription_arn;
  return url;
}

std::string notification_string_to_sign(const Notification& n) {
  std::string out;
  auto add = [&](std::string_view name, std::string_view value) {
    out += name;
    out += '\n';
    out += value;
    out += '\n';
  };
  add("Message", n.message);
  add("MessageId", n.message_id);
  if (n.subject) add("Subject", *n.subject);
  add("Timestamp", iso8601_ms(n.timestamp_ms));
  add("TopicArn", n.topic_arn);
  add("Type", "Notification");
  return out;
}

Result<std::string> build_notification_envelope(const Notification& n, const SigningKey& key) {
  auto signature = key.sign(notification_string_to_sign(n), n.signature_version);
  if (!signature) return std::unexpected(signature.error());

  std::string out;
  out.reserve(n.message.size() + 1024);
  out += "{\n";
  append_field(out, "Type", "Notification");
  out += ",\n";
  append_field(out, "MessageId", n.message_id);
  out += ",\n";
  append_field(out, "TopicArn", n.topic_arn);
  out += ",\n";
  if (n.subject) {
    append_field(out, "Subject", *n.subject);
    out += ",\n";
  }
  append_field(out, "Message", n.message);
  out += ",\n";
  append_field(out, "Timestamp", iso8601_ms(n.timestamp_ms));
  out += ",\n";
  append_field(out, "SignatureVersion", n.signature_version == SignatureVersion::v2 ? "2" : "1");
  out += ",\n";
  append_field(out, "Signature", base64_encode(*signature));
  out += ",\n";
  append_field(out, "SigningCertURL", signing_cert_url(n.base_url));
  out += ",\n";
  append_field(out, "UnsubscribeURL", unsubscribe_url(n.base_url, n.subscription_arn));
  if (!n.attributes.empty()) {
    out += ",\n  \"MessageAttributes\" : {\n";
    bool first = true;
    for (const auto& [name, value] : n.attributes) {
      if (!first) out += ",\n";
      first = false;
      out += "    ";
      out += json_quote(name);
      out += " : {\"Type\":";
      out += json_quote(value.data_type);
      out += ",\"Value\":";
      out += json_quote(value.is_binary() ? base64_encode(value.binary_value) : value.string_value);
      out += '}';
    }
    out += "\n  }";
  }
  out += "\n}";
  return out;
}

std::string json_quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace orderflow::engine::sns
