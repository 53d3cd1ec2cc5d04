#include "engine/process_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/util.h"

namespace orderflow::engine {

std::string ExitStatus::describe() const {
  if (signal == 0) return "exit status " + std::to_string(exit_code);
  switch (signal) {
    case SIGKILL: return "signal: killed";
    case SIGSEGV: return "signal: segmentation fault";
    case SIGABRT: return "signal: aborted";
    case SIGTERM: return "signal: terminated";
    case SIGBUS: return "signal: bus error";
    case SIGFPE: return "signal: floating point exception";
    case SIGILL: return "signal: illegal instruction";
    case SIGPIPE: return "signal: broken pipe";
    default: return "signal: " + std::to_string(signal);
  }
}

namespace {

class PosixProcessLauncher final : public ProcessLauncher {
 public:
  explicit PosixProcessLauncher(PosixLauncherOptions options) : options_(options) {}

  ~PosixProcessLauncher() override {
    std::unordered_map<ProcessHandle, Proc> procs;
    {
      std::lock_guard g(mu_);
      stopping_ = true;
      for (auto& [h, p] : procs_) {
        if (!p.exited) ::kill(-p.pid, SIGKILL);
      }
    }
    // Threads remove nothing from procs_; join them all without holding the lock (their last
    // step takes it).
    std::vector<std::thread> threads;
    {
      std::lock_guard g(mu_);
      for (auto& [h, p] : procs_) threads.push_back(std::move(p.reader));
    }
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }

  Result<ProcessHandle> spawn(SpawnSpec spec) override {
    join_finished();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorCode::internal_error, errno_text("pipe2"));
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      return fail(ErrorCode::internal_error, errno_text("open /dev/null"));
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, devnull, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (!spec.working_directory.empty())
      posix_spawn_file_actions_addchdir_np(&actions, spec.working_directory.c_str());

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGCHLD);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> args;
    args.push_back(spec.executable);
    for (auto& a : spec.arguments) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (const auto& [k, v] : spec.environment) env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, spec.executable.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    ::close(devnull);
    if (rc != 0) {
      ::close(fds[0]);
      return fail(ErrorCode::internal_error,
                  "cannot start " + spec.executable + ": " + std::strerror(rc));
    }

    std::lock_guard g(mu_);
    ProcessHandle h = next_handle_++;
    Proc& p = procs_[h];
    p.pid = pid;
    p.reader = named_thread("of-fn-output", [this, h, pid, fd = fds[0], on_output = std::move(spec.on_output),
                                             on_exit = std::move(spec.on_exit)]() mutable {
      run(h, pid, fd, on_output, on_exit);
    });
    return h;
  }

  void kill(ProcessHandle handle) override {
    std::lock_guard g(mu_);
    auto it = procs_.find(handle);
    if (it == procs_.end() || it->second.exited) return;
    ::kill(-it->second.pid, SIGKILL);
  }

  std::optional<int> peak_memory_mb(ProcessHandle handle) override {
    pid_t pid = 0;
    {
      std::lock_guard g(mu_);
      auto it = procs_.find(handle);
      if (it == procs_.end() || it->second.exited) return std::nullopt;
      pid = it->second.pid;
    }
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmHWM:", 0) == 0) {
        long kb = std::strtol(line.c_str() + 6, nullptr, 10);
        return static_cast<int>((kb + 1023) / 1024);
      }
    }
    return std::nullopt;
  }

 private:
  struct Proc {
    pid_t pid = 0;
    bool exited = false;   // waited for (zombie or reaped): the pid must not be signalled
    bool finished = false; // the reader thread is done (joinable without waiting long)
    std::thread reader;
  };

  static std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

  void emit(std::string& partial, std::string_view chunk,
            const std::function<void(std::string_view)>& on_output) {
    for (char c : chunk) {
      if (c == '\n') {
        if (on_output) on_output(partial);
        partial.clear();
        continue;
      }
      partial.push_back(c);
      if (partial.size() >= options_.max_line_bytes) {
        if (on_output) on_output(partial);
        partial.clear();
      }
    }
  }

  // The reader/reaper thread of one process.
  void run(ProcessHandle h, pid_t pid, int fd, const std::function<void(std::string_view)>& on_output,
           const std::function<void(ExitStatus)>& on_exit) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    std::string partial;
    char buf[65536];
    bool eof = false;
    bool leader_gone = false;
    while (!eof) {
      pollfd pfds[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
      int n = ::poll(pfds, pidfd >= 0 && !leader_gone ? 2 : 1, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (pfds[0].revents != 0) {
        ssize_t got = ::read(fd, buf, sizeof buf);
        if (got > 0) {
          emit(partial, std::string_view(buf, static_cast<std::size_t>(got)), on_output);
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          eof = true;
        }
        continue;
      }
      if (pidfd >= 0 && !leader_gone && pfds[1].revents != 0) {
        // The process is gone; anything it started dies with it (as a sandbox would), so
        // the pipe reaches EOF once what is buffered has been read.
        leader_gone = true;
        ::kill(-pid, SIGKILL);
      }
    }
    if (!partial.empty() && on_output) on_output(partial);
    ::close(fd);
    if (pidfd >= 0) ::close(pidfd);

    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    {
      std::lock_guard g(mu_);
      procs_[h].exited = true;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ExitStatus st;
    if (WIFEXITED(status)) st.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) st.signal = WTERMSIG(status);
    if (on_exit) on_exit(st);
    std::lock_guard g(mu_);
    procs_[h].finished = true;
    finished_.push_back(h);
  }

  void join_finished() {
    std::vector<std::thread> done;
    {
      std::lock_guard g(mu_);
      if (stopping_) return;
      for (ProcessHandle h : finished_) {
        auto it = procs_.find(h);
        if (it == procs_.end()) continue;
        done.push_back(std::move(it->second.reader));
        procs_.erase(it);
      }
      finished_.clear();
    }
    for (auto& t : done) {
      if (t.joinable()) t.join();
    }
  }

  const PosixLauncherOptions options_;
  std::mutex mu_;
  ProcessHandle next_handle_ = 1;                   // guarded by mu_
  std::unordered_map<ProcessHandle, Proc> procs_;   // guarded by mu_
  std::vector<ProcessHandle> finished_;             // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
};

}  // namespace

std::unique_ptr<ProcessLauncher> make_posix_process_launcher(PosixLauncherOptions options) {
  return std::make_unique<PosixProcessLauncher>(options);
}

}  // namespace orderflow::engine
