// The socket-free protocol edge (STYLE.md item 7): every AWS API is a function from a parsed,
// authenticated request to a response, with no sockets involved, so unit tests call it
// directly. The HTTP server (server.h) only frames bytes and calls handle().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aws/http_types.h"
#include "common/result.h"
#include "server/event_stream.h"

namespace orderflow::server {

// What every adapter knows about the request besides its body.
struct RequestContext {
  std::string request_id;   // UUID; echoed in x-amzn-RequestId and error bodies
  std::string region;       // from the SigV4 credential scope
  std::string access_key;   // the verified caller
  std::string base_url;     // e.g. "http://127.0.0.1:4566", from the Host header: queue URLs
  std::string account_id = "000000000000";
};

struct ApiResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type included
  std::string body;
  // Set: the body is this stream, written as it is produced (event_stream.h); `body` is unused.
  std::shared_ptr<EventStream> stream;
};

// Adapters that may complete later (long-polling ReceiveMessage) answer through this; it may
// be called on another thread, exactly once.
using Respond = std::function<void(ApiResponse)>;

}  // namespace orderflow::server
