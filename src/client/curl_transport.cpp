// libcurl behind HttpTransport. One easy handle per transport: curl_easy_reset between requests
// clears the options but keeps the connection cache, so keep-alive connections are reused.
//
// libcurl is loaded (dlopen) when the first transport is made, not when the program starts:
// `orderflow up` never makes one, and the two dozen libraries libcurl brings with it (TLS,
// Kerberos, LDAP, SSH, ...) would cost every server process about 3.5 MB of resident memory
// and their load time at startup (for a function worker, most of its cold start: 8-10 ms with
// libcurl linked, 3.4-3.7 ms without). Plain http:// never needs it (http_transport.cpp); the
// function's package carries it for https (cli/package.h).
#include <curl/curl.h>
#include <dlfcn.h>

#include <expected>
#include <string>

#include "aws/http_types.h"
#include "client/transport.h"

namespace orderflow::client {

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (aws::iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view to_string(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::connect: return "connect";
    case TransportError::Kind::timeout: return "timeout";
    case TransportError::Kind::io: return "io";
    case TransportError::Kind::tls: return "tls";
    case TransportError::Kind::too_large: return "too_large";
    case TransportError::Kind::invalid: return "invalid";
  }
  return "unknown";
}

namespace {

// The libcurl functions used here, resolved once from the loaded library.
struct CurlApi {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_reset) easy_reset = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
};

template <class F>
bool resolve(void* lib, const char* name, F& out, std::string& missing) {
  out = reinterpret_cast<F>(::dlsym(lib, name));
  if (out == nullptr) missing = name;
  return out != nullptr;
}

// The loaded and initialised libcurl, or why it could not be loaded. Never unloaded.
const std::expected<CurlApi, std::string>& curl_api() {
  static const std::expected<CurlApi, std::string> api = []() -> std::expected<CurlApi, std::string> {
    void* lib = ::dlopen(kLibcurlSoname, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      return std::unexpected(std::string("cannot load ") + kLibcurlSoname + ": " +
                             (why != nullptr ? why : "unknown"));
    }
    CurlApi a;
    std::string missing;
    if (!(resolve(lib, "curl_global_init", a.global_init, missing) &&
          resolve(lib, "curl_easy_init", a.easy_init, missing) &&
          resolve(lib, "curl_easy_cleanup", a.easy_cleanup, missing) &&
          resolve(lib, "curl_easy_reset", a.easy_reset, missing) &&
          resolve(lib, "curl_easy_setopt", a.easy_setopt, missing) &&
          resolve(lib, "curl_easy_perform", a.easy_perform, missing) &&
          resolve(lib, "curl_easy_getinfo", a.easy_getinfo, missing) &&
          resolve(lib, "curl_easy_strerror", a.easy_strerror, missing) &&
          resolve(lib, "curl_slist_append", a.slist_append, missing) &&
          resolve(lib, "curl_slist_free_all", a.slist_free_all, missing)))
      return std::unexpected("libcurl.so.4 has no " + missing);
    if (CURLcode rc = a.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
      return std::unexpected("curl_global_init failed: " + std::string(a.easy_strerror(rc)));
    return a;
  }();
  return api;
}

struct Receiver {
  HttpResponse response;
  std::size_t limit = 0;
  bool overflow = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Receiver*>(user);
  std::size_t bytes = size * n;
  if (r->response.body.size() + bytes > r->limit) {
    r->overflow = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  r->response.body.append(data, bytes);
  return bytes;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Receiver*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    r->response.headers.clear();  // a new (possibly final) response begins
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    r->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                     std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

TransportError::Kind classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return TransportError::Kind::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::Kind::timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
      return TransportError::Kind::tls;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return TransportError::Kind::invalid;
    default:
      return TransportError::Kind::io;
  }
}

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport(const CurlApi& api, CURL* handle, TransportOptions options)
      : api_(api), curl_(handle), options_(std::move(options)) {}
  ~CurlTransport() override { api_.easy_cleanup(curl_); }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  TransportResult send(const OutboundRequest& request) override {
    api_.easy_reset(curl_);
    Receiver receiver;
    receiver.limit = options_.max_response_bytes;

    api_.easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
    api_.easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    api_.easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    api_.easy_setopt(curl_, CURLOPT_TCP_KEEPALIVE, 1L);
    api_.easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    api_.easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    api_.easy_setopt(curl_, CURLOPT_TIMEOUT_MS,
                     request.timeout ? static_cast<long>(request.timeout->count()) : 0L);
    if (!options_.ca_file.empty()) api_.easy_setopt(curl_, CURLOPT_CAINFO, options_.ca_file.c_str());

    if (request.method == "GET") {
      api_.easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    } else {
      if (request.method != "POST") {
        api_.easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
      api_.easy_setopt(curl_, CURLOPT_POST, 1L);
      api_.easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.data());
      api_.easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }

    curl_slist* headers = nullptr;
    bool has_content_type = false;
    for (const auto& [k, v] : request.headers) {
      if (aws::iequals(k, "content-type")) has_content_type = true;
      std::string line = v.empty() ? k + ";" : k + ": " + v;  // "Name;" sends an empty value
      headers = api_.slist_append(headers, line.c_str());
    }
    headers = api_.slist_append(headers, "Expect:");  // no 100-continue round trip
    headers = api_.slist_append(headers, "Accept:");
    if (!has_content_type && request.method != "GET") {
      headers = api_.slist_append(headers, "Content-Type:");  // curl would add a form type
    }
    api_.easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    api_.easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
    api_.easy_setopt(curl_, CURLOPT_WRITEDATA, &receiver);
    api_.easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
    api_.easy_setopt(curl_, CURLOPT_HEADERDATA, &receiver);

    CURLcode code = api_.easy_perform(curl_);
    api_.easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    api_.slist_free_all(headers);

    if (code != CURLE_OK) {
      if (receiver.overflow) {
        return std::unexpected(TransportError{
            TransportError::Kind::too_large,
            "response body exceeds " + std::to_string(options_.max_response_bytes) + " bytes"});
      }
      return std::unexpected(TransportError{classify(code), api_.easy_strerror(code)});
    }
    long status = 0;
    api_.easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    receiver.response.status = static_cast<int>(status);
    return std::move(receiver.response);
  }

 private:
  const CurlApi& api_;
  CURL* const curl_;
  const TransportOptions options_;
};

}  // namespace

std::expected<std::unique_ptr<HttpTransport>, std::string> make_curl_transport(
    const TransportOptions& options) {
  const auto& api = curl_api();
  if (!api) return std::unexpected(api.error());
  CURL* handle = api->easy_init();
  if (handle == nullptr) return std::unexpected(std::string("curl_easy_init failed"));
  return std::make_unique<CurlTransport>(*api, handle, options);
}

}  // namespace orderflow::client
