// Fuzz target: SigV4 Authorization headers and presigned query strings (aws/sigv4.h).
//
// Input: a request as text ("Method Target\nName: value\n...\n\nbody", see request_from_text).
// The verifier runs on it at the fixed time 2024-05-01T12:00:00Z with the key pair test/test
// (the seeds are requests correctly signed then, with the header and in the query), plus every
// building block a verification goes through: credential scope, canonical URI and query,
// timestamps. Then two properties:
//  - whatever the request, signing it with sign() (resp. presign()) and verifying the result
//    succeeds, for the same key, region and service;
//  - a request that verified still verifies after the same canonicalization again (verify is
//    deterministic).
#include <cctype>
#include <cstddef>
#include <cstdint>

#include "aws/sigv4.h"
#include "aws/uri.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace aws = orderflow::aws;
using orderflow::fuzz::contract_broken;

const orderflow::TimePoint kNow = orderflow::from_epoch_ms(1'714'564'800'000);  // 2024-05-01T12:00:00Z

std::optional<std::string> lookup(std::string_view key) {
  if (key == "test") return std::string("test");
  if (key == "AKIDEXAMPLE") return std::string("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  return std::nullopt;
}

// Whether sign() can be expected to produce a request that verifies: what a client could send.
// Header names that are HTTP tokens, values as an HTTP parser hands them over (no CR/LF/NUL),
// a target without spaces or control characters, and no auth parameters of its own in the
// query.
bool sendable(const aws::HttpRequest& req) {
  auto clean = [](std::string_view s) {
    for (unsigned char c : s)
      if (c < 0x20 || c == 0x7f) return false;
    return true;
  };
  if (req.method.empty() || !clean(req.method) || req.target.empty() || req.target.front() != '/') return false;
  for (unsigned char c : req.target)
    if (c <= 0x20 || c == 0x7f) return false;
  // Auth parameters already in the query make the request presigned (or ambiguous) whatever
  // sign() adds: no client signs such a request.
  if (aws::to_lower(req.query()).find("x-amz-") != std::string::npos) return false;
  for (const auto& [k, v] : req.headers) {
    if (k.empty()) return false;
    for (char c : k)  // an HTTP token (RFC 9110 tchar)
      if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
        return false;
    for (unsigned char c : v)
      if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aws::HttpRequest req = orderflow::fuzz::request_from_text(orderflow::fuzz::as_text(data, size));

  // The pieces on their own.
  (void)aws::credential_scope(req);
  (void)aws::canonical_uri(req.path(), aws::PathMode::normalized);
  (void)aws::canonical_uri(req.path(), aws::PathMode::as_is);
  std::string_view exclude[] = {"X-Amz-Signature"};
  (void)aws::canonical_query(req.query(), exclude);
  for (auto name : {"X-Amz-Date", "Date"}) {
    if (auto v = req.header(name)) {
      (void)aws::parse_amz_date(*v);
      (void)aws::parse_http_date(*v);
    }
  }

  // Verification as the router does it, in both path modes.
  auto verified = aws::verify(req, lookup, kNow);
  (void)aws::verify(req, lookup, kNow, aws::VerifyOptions{aws::PathMode::as_is, aws::kMaxClockSkew});
  if (verified && !aws::verify(req, lookup, kNow)) contract_broken("verify is not deterministic");
  if (!verified) (void)aws::to_string(verified.error().failure);

  // Round trips: what we sign, we verify.
  if (!sendable(req) || !req.header("Host")) return 0;
  aws::Credentials creds{"test", "test", ""};
  aws::HttpRequest signed_req = req;
  aws::sign(signed_req, creds, "eu-west-1", "sqs", kNow);
  auto back = aws::verify(signed_req, lookup, kNow);
  if (!back)
    contract_broken("a request signed by sign() does not verify", back.error().message + "\n" +
                                                                   back.error().canonical_request);
  if (back->region != "eu-west-1" || back->service != "sqs" || back->access_key != "test")
    contract_broken("verify reports another scope than sign() used");

  if (aws::parse_query(req.query())) {  // presign() appends to a well-formed query
    aws::HttpRequest presigned = req;
    presigned.remove_header("Authorization");
    aws::presign(presigned, creds, "us-east-1", "sns", kNow, std::chrono::seconds(300));
    auto pback = aws::verify(presigned, lookup, kNow);
    if (!pback)
      contract_broken("a request presigned by presign() does not verify",
                      pback.error().message + "\n" + pback.error().canonical_request);
    if (!pback->presigned) contract_broken("a presigned request verified as not presigned");
  }
  return 0;
}
