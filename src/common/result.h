// Result type used across orderflow: every fallible call at a layer boundary returns
// Result<T> = std::expected<T, Error>. Errors are values; no exception crosses a layer.
#pragma once

#include <expected>
#include <string>
#include <utility>

#include "common/errors.h"

namespace orderflow {

// An error: an entry of the AWS error catalogue (errors.def) plus a human message.
struct Error {
  ErrorCode code = ErrorCode::internal_error;
  std::string message;

  const ErrorInfo& info() const { return error_info(code); }
};

template <class T>
using Result = std::expected<T, Error>;

// Result<void> for calls without a value.
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace orderflow
