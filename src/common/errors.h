// The error catalogue (errors.def) as C++: one enumerator per wire error, and its data.
#pragma once

#include <cstdint>
#include <string_view>

namespace orderflow {

enum class Service : std::uint8_t { sqs, sns, dynamodb, logs, lambda, stack, common };

enum class ErrorCode : std::uint16_t {
#define ERR(id, service, code, json_type, http_status, sender_fault) id,
#include "common/errors.def"
#undef ERR
};

struct ErrorInfo {
  ErrorCode id;
  Service service;
  std::string_view code;       // query-protocol <Code>
  std::string_view json_type;  // JSON-protocol __type
  int http_status;
  bool sender_fault;
};

// The catalogue entry for `code`. Never fails: every enumerator has an entry.
const ErrorInfo& error_info(ErrorCode code);

}  // namespace orderflow
