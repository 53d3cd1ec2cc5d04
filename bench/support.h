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
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
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

inline std::unique_ptr<client::AwsClient> make_client(const std::string& endpoint,
                                                     const std::string& dynamodb_endpoint = "") {
  client::ClientConfig c;
  if (!dynamodb_endpoint.empty()) c.service_endpoints["dynamodb"] = dynamodb_endpoint;
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

// An open loop at a fixed offered rate: item i (0 <= i < total) is due at t0 + i/rate, t0 being
// 50 ms from now; thread t of `threads` runs items t, t + threads, ... each when it is due, or at
// once when it is late (a slow server makes later items late, it does not make fewer of them).
// Items not started by t0 + 3 x total/rate are abandoned. `body(t, i, due)` runs item i on
// thread t (`due`: a steady_clock time). Returns the seconds from t0 to the end.
template <class Body>
double open_loop(long total, int threads, double rate, Body body) {
  using Clock = std::chrono::steady_clock;
  auto at = [&](double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  };
  auto t0 = Clock::now() + std::chrono::milliseconds(50);
  auto deadline = t0 + at(3.0 * static_cast<double>(total) / rate);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (long i = t; i < total && Clock::now() < deadline; i += threads) {
        auto due = t0 + at(static_cast<double>(i) / rate);
        std::this_thread::sleep_until(due);
        body(t, i, due);
      }
    });
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// ---- /proc: CPU time and RSS of a process and its descendants ---------------------------------

// The pids whose parent is `pid`, and theirs, and so on (from /proc/<n>/stat).
inline std::vector<pid_t> descendants(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> all;  // (pid, ppid)
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    FILE* f = std::fopen((e.path() / "stat").c_str(), "r");
    if (!f) continue;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char* close = std::strrchr(buf, ')');  // the command name may hold spaces
    if (!close) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(close + 1, " %c %d", &state, &ppid) != 2) continue;
    all.emplace_back(static_cast<pid_t>(std::atoi(name.c_str())), static_cast<pid_t>(ppid));
  }
  std::vector<pid_t> out{root};
  for (std::size_t i = 0; i < out.size(); ++i)
    for (auto [p, pp] : all)
      if (pp == out[i]) out.push_back(p);
  return out;
}

// Fields 14-17 of /proc/<pid>/stat in seconds: utime + stime (+ cutime + cstime: the children
// it has waited for) when `with_reaped`.
inline double cpu_seconds_of(pid_t pid, bool with_reaped) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[2048];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  // After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
  unsigned long long v[15] = {};
  char state = 0;
  if (std::sscanf(p + 1, " %c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &state, &v[0],
                  &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12],
                  &v[13]) < 15)
    return 0;
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  unsigned long long t = v[10] + v[11] + (with_reaped ? v[12] + v[13] : 0);
  return static_cast<double>(t) / ticks;
}

// CPU seconds used so far by `roots` and all their descendants, alive or reaped by them.
inline double tree_cpu_seconds(const std::vector<pid_t>& roots) {
  double s = 0;
  for (pid_t r : roots)
    for (pid_t p : descendants(r)) s += cpu_seconds_of(p, true);
  return s;
}

inline long rss_kib_of(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::atol(line + 6);
  std::fclose(f);
  return kib;
}

// RSS of `roots` and all their descendants, KiB.
inline long tree_rss_kib(const std::vector<pid_t>& roots) {
  long s = 0;
  for (pid_t r : roots)
    for (pid_t p : descendants(r)) s += rss_kib_of(p);
  return s;
}

inline std::vector<pid_t> parse_pids(const std::string& list) {
  std::vector<pid_t> out;
  for (std::size_t start = 0; start < list.size();) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(static_cast<pid_t>(std::atoi(list.substr(start, end - start).c_str())));
    start = end + 1;
  }
  return out;
}

}  // namespace orderflow::bench
