// Child processes through one seam (STYLE.md item 2). The local Lambda runtime starts its
// worker processes (a function's `bootstrap`) through a ProcessLauncher, so tests can replace
// processes with in-process fakes that crash or hang on demand.
//
// Contract of every implementation:
//  - spawn() starts `executable` with exactly `environment` (nothing inherited) and returns a
//    handle, or an error when the process could not be started (no callback runs then).
//  - Each line the process writes to stdout or stderr (without its '\n'; a line longer than
//    max_line_bytes is cut into pieces; a last line without '\n' is delivered at EOF) is passed
//    to `on_output`, in order, from a launcher thread.
//  - `on_exit` runs exactly once per successfully spawned process, after its last output
//    line, from a launcher thread, never from inside spawn() or kill().
//  - kill() ends the process (and everything it started) forcibly; it is a no-op for a
//    process that has already exited. It does not wait for the exit: on_exit reports it.
//  - Callbacks may call spawn() and kill(); they must return quickly and must not wait for
//    another callback.
//
// Thread-safety: every method is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace orderflow::engine {

using ProcessHandle = std::uint64_t;
using Environment = std::map<std::string, std::string>;

struct ExitStatus {
  int exit_code = -1;  // when the process exited normally, else -1
  int signal = 0;      // the terminating signal, 0 when it exited normally
  // "exit status 1" / "signal: killed" (the wording AWS uses in Runtime.ExitError messages).
  std::string describe() const;
};

struct SpawnSpec {
  std::string executable;
  std::vector<std::string> arguments;  // argv[1..]; argv[0] is the executable
  Environment environment;
  std::string working_directory;  // empty: the launcher's own
  std::function<void(std::string_view line)> on_output;
  std::function<void(ExitStatus)> on_exit;
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  virtual Result<ProcessHandle> spawn(SpawnSpec spec) = 0;
  virtual void kill(ProcessHandle handle) = 0;
  // Peak resident memory of a running process in MiB, when the OS tells (Linux: VmHWM).
  virtual std::optional<int> peak_memory_mb(ProcessHandle handle) = 0;
};

struct PosixLauncherOptions {
  std::size_t max_line_bytes = 256 * 1024;  // CloudWatch's largest log event
};

// The real launcher: posix_spawn in a new process group, stdin from /dev/null, stdout and
// stderr into one pipe (so their lines keep their relative order), no other descriptor
// inherited. One thread per running process reads its output and reaps it. Destruction kills
// every process still running and waits for their on_exit callbacks.
std::unique_ptr<ProcessLauncher> make_posix_process_launcher(PosixLauncherOptions options = {});

}  // namespace orderflow::engine
