// Test-only: a fault-injecting SQLite VFS (STYLE.md item 8), for the Store's power-loss and
// I/O-error tests. It wraps the default (unix) VFS under its own name, which a test passes to
// the Store as StoreOptions::vfs; nothing else in the process is affected.
//
// What it models:
// - Power loss. Every file write (xWrite, xTruncate) is volatile until xSync of that file
//   succeeds; every directory entry (a file created or deleted through the VFS) is volatile
//   until the directory is synced. The unix VFS syncs the directory on the first xSync of a
//   journal or WAL it created, and on xDelete(dirSync=1); those are the points where this VFS
//   makes the entries of that directory durable (a main database file created in a fresh
//   directory thus becomes durable with its WAL's first sync). cut_power() turns the machine
//   off: that I/O call and every later write, sync, truncate or delete fail with SQLITE_IOERR
//   (so nothing after the cut can be acknowledged). Once every connection using the VFS is
//   closed, restore_power() puts each tracked file back to its last synced content (unsynced
//   writes undone, files whose creation was not durable removed, deleted files whose deletion
//   was not durable recreated) and powers the machine back on.
// - I/O errors. fail_nth(n) makes the n-th write-or-sync call from now (0-based) fail once
//   with SQLITE_IOERR_WRITE / SQLITE_IOERR_FSYNC / SQLITE_IOERR_TRUNCATE.
//   set_disk_full(true) makes every write that would grow a file fail with SQLITE_FULL (what
//   ENOSPC gives), until set_disk_full(false).
//
// Only files opened by name are tracked (temporary files pass through). The -shm index is
// mapped by the unix VFS itself and is not tracked; SQLite rebuilds it from the WAL.
//
// Thread-safety: every method, and the VFS itself, may be used from any thread.
// Lifetime: the FaultVfs must outlive every connection opened with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"

namespace orderflow::engine {

class FaultVfs {
 public:
  // Registers a VFS called `name` (not the default) wrapping the default VFS. Fails when a
  // VFS of that name is already registered.
  static Result<std::unique_ptr<FaultVfs>> install(const std::string& name);
  // Unregisters the VFS.
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  const std::string& name() const;

  // Power loss. cut_power_after(n): the n-th write-or-sync call from now (0-based) and every
  // I/O call after it fail; cut_power() == cut_power_after(0).
  void cut_power_after(std::uint64_t n);
  void cut_power() { cut_power_after(0); }
  bool power_is_cut() const;
  // Precondition: no connection uses the VFS. Drops everything not synced (see above).
  // Returns an error when a file cannot be put back.
  Status restore_power();

  // I/O errors.
  void fail_nth(std::uint64_t n);
  void set_disk_full(bool full);
  // Clears fail_nth and the full disk (not a power cut).
  void clear_faults();

  // Write and sync calls seen so far, and faults injected so far (both cumulative).
  std::uint64_t io_calls() const;
  std::uint64_t faults_injected() const;

  struct State;  // the implementation; public so the C callbacks can reach it

 private:
  explicit FaultVfs(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace orderflow::engine
