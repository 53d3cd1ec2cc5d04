// The Store's SQLite VFS: a thin wrapper of another VFS (the default one, or a test's
// fault_vfs.h) that gathers the writes of a WAL transaction into one.
//
// SQLite appends a transaction to the WAL with two writes per page (the 24-byte frame header,
// then the page), so a group commit that changes 20 pages makes 40 pwrite calls; on this kind
// of machine each costs more than copying the page, and their sum was a third of the store
// writer's time. This VFS keeps the writes to a WAL file in a buffer while they are contiguous
// and writes the buffer with one call when the transaction's commit frame is complete (the
// frame header whose "database size after commit" field is non-zero, then its page), before
// SQLite makes the transaction visible to readers. So a committed transaction is in the
// kernel, as without this VFS, by the time the commit returns, and a write error surfaces as
// the commit frame's write error, so SQLite fails the commit as it would have.
//
// The buffer is also written before anything that must see the file as SQLite believes it is
// (a read, a size, a truncate, a sync, a close), when a write is not contiguous with it, and
// before it would pass kMaxPending bytes (a large transaction). A write below the end of the
// frames written since the WAL last started over (SQLite rewriting a frame of the current
// transaction, or the checksums after that, which it does after the commit frame) is never
// held: it goes through at once. Files other than WALs pass through untouched.
//
// Thread-safety: SQLite's own calls come from the connection's thread; the Store's syncer
// syncs the WAL from another thread, so each WAL file guards its buffer with a mutex.
// Lifetime: the WalVfs must outlive every connection opened with it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/result.h"

namespace orderflow::engine {

class WalVfs {
 public:
  // The most one write carries: under the 128 KiB that the unix VFS writes per call (it masks
  // a write's length to 17 bits).
  static constexpr std::size_t kMaxPending = 96 * 1024;

  // Registers a VFS under a name of its own (not the default) wrapping the VFS called `base`
  // (empty: the default VFS).
  static Result<std::unique_ptr<WalVfs>> install(const std::string& base);
  // Unregisters the VFS.
  ~WalVfs();
  WalVfs(const WalVfs&) = delete;
  WalVfs& operator=(const WalVfs&) = delete;

  const std::string& name() const;

  struct State;  // the implementation; public so the C callbacks can reach it

 private:
  explicit WalVfs(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace orderflow::engine
