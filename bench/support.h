// Shared pieces of the HTTP-level benchmarks: starting `orderflow up` (and peers) as child
// processes, a client for them, percentiles. Header-only; benchmarks are single-file programs.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "client/aws_client.h"

namespace orderflow::bench {

namespace json = boost::json;

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

// ---- child processes -----------------------------------------------------------------------

struct Child {
  pid_t pid = -1;
  int out = -1;  // read end of its stdout, kept open until it has exited
  void stop() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
      pid = -1;
    }
    if (out >= 0) ::close(out), out = -1;
  }
  ~Child() { stop(); }
};

// Starts argv with stdin from /dev/null and stderr to /dev/null; stdout to `out_fd` (a pipe's
// write end) or /dev/null when -1.
inline pid_t spawn(const std::vector<std::string>& args, int out_fd) {
  pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(out_fd >= 0 ? out_fd : null, 1);
    ::dup2(null, 2);
    std::vector<char*> argv;
    for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  return pid;
}

// Starts `orderflow up` on an ephemeral port; returns its base URL from the line it prints.
inline std::string start_orderflow(const std::string& binary, const std::string& data_dir, Child& child,
                            std::vector<std::string> extra = {"--no-template"}) {
  int fds[2];
  if (::pipe(fds) != 0) die("pipe failed");
  std::vector<std::string> args = {binary, "up", "--port", "0", "--data-dir", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  child.pid = spawn(args, fds[1]);
  ::close(fds[1]);
  child.out = fds[0];
  // Reads until the line "orderflow: listening on http://HOST:PORT (...)" is complete.
  const std::string marker = "listening on ";
  std::string out;
  char buf[512];
  std::size_t at;
  while ((at = out.find(marker)) == std::string::npos || out.find('\n', at) == std::string::npos) {
    ssize_t n = ::read(child.out, buf, sizeof buf);
    if (n <= 0) die("`" + binary + " up` exited before listening; output: " + out);
    out.append(buf, static_cast<std::size_t>(n));
  }
  at += marker.size();
  return out.substr(at, out.find_first_of(" \n", at) - at);
}

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    die("cannot bind a free port");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

inline bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string p = path;
  for (std::size_t start = 0; start <= p.size();) {
    auto end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    auto candidate = std::filesystem::path(p.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// ---- the client side -----------------------------------------------------------------------

inline std::unique_ptr<client::AwsClient> make_client(const std::string& endpoint) {
  client::ClientConfig c;
  c.credentials = aws::Credentials{"test", "test", ""};
  c.region = "us-east-1";
  c.endpoint_url = endpoint;
  c.retry.max_attempts = 1;  // a failure is counted, not hidden
  c.request_timeout = Millis{30000};
  auto made = client::AwsClient::create(c);
  if (!made) die("cannot create a client: " + made.error().describe());
  return std::move(*made);
}

inline json::value call(client::AwsClient& c, std::string_view service, std::string_view target,
                 const json::value& body) {
  auto r = c.call_json(service, target, json::serialize(body));
  if (!r) die(std::string(target) + " failed: " + r.error().describe());
  return r->body.empty() ? json::value{} : json::parse(r->body);
}

inline std::string create_queue(client::AwsClient& c, const std::string& name) {
  auto v = call(c, "sqs", "AmazonSQS.CreateQueue", json::object{{"QueueName", name}});
  return std::string(v.at("QueueUrl").as_string());
}

inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}


}  // namespace orderflow::bench
