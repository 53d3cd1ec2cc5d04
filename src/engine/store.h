// Durable storage for the engine: one SQLite database (WAL) in the data directory, used as an
// ordered key-value store with a few key spaces. Every engine service keeps its state in
// memory (rebuilt from the store on open) and persists each mutation as a WriteBatch.
//
// Group commit: a single writer thread takes every batch submitted since its last commit,
// applies them in ONE SQLite transaction in submission order and commits it; a syncer thread
// then fsyncs the WAL, and a reporter thread reports the outcome to each submitter (waking
// them does not delay the next fsync). The writer and the syncer overlap: while one
// group is being fsynced the writer commits the next (SQLite runs with synchronous=NORMAL, so
// its commit does not fsync; checkpoints still do). A submitter is acknowledged only after the
// fsync that covers its batch has succeeded.
//
// Ordering contract: batches become durable in the order submit() was called. Services call
// submit() while still holding the lock under which they changed their in-memory state, so the
// order on disk is the order in memory: whatever a later caller observed is on disk no later
// than the later caller's own batch.
//
// Errors: a failed fsync fails every group it covered and every group committed after it until
// durability is re-established: before its next commit the writer checkpoints the whole WAL
// into the database file (every page rewritten and fsynced) and empties the WAL, since the
// kernel may have dropped the dirty pages the failed fsync could not write. Those failed
// groups are committed, so they become durable with that checkpoint (as below: not
// acknowledged, but possibly durable later).
// A failed commit (an I/O error, a full disk) fails every batch of its group, and the
// store keeps what those batches write: the services already changed their memory, so it is
// written first by the next commit (barriers included). What is kept is coalesced by key (the
// last write of a key wins, as on disk), so it grows with the keys written while the disk
// fails, not with the number of failed requests. Until a commit succeeds,
// every commit fails (STYLE.md item 3: the store keeps reporting the error instead of
// carrying on past it); once the disk works again the next commit writes the kept batches and
// the new ones in one transaction, and memory and disk agree again without a reopen. A failed
// batch is thus not acknowledged but may still become durable later, whole (at-least-once, as
// a lost response on AWS). What is kept is dropped when the store is destroyed.
//
// Durability::committed (for writes that acknowledge nothing durable: SQS receives, an event
// source mapping's own receives and deletes, captured function output): the submitter is
// answered as soon as its batch is committed, without waiting for, or asking for, an fsync of
// its own. The WAL is synced in commit order, so the next synced batch's fsync covers it (a
// later acknowledged write never survives a power loss that an earlier committed one does
// not); when no synced batch comes, the syncer fsyncs it within kCommittedSyncDelay. A crash of
// the process loses nothing committed (the kernel keeps the written pages); only a power loss
// inside that window may, and then the batch is lost whole, with everything after it.
//
// I/O: SQLite runs on the VFS of wal_vfs.h, which hands each committed transaction's WAL
// frames to the kernel in one write (SQLite alone makes two per page).
//
// On-disk format: table `kv(space INTEGER, key BLOB, value BLOB, PRIMARY KEY(space, key))`
// WITHOUT ROWID, and `meta(name TEXT PRIMARY KEY, value TEXT)` holding `schema_version`.
// Keys and values are opaque bytes owned by the service that wrote them.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace orderflow::engine {

// Key spaces: one per kind of record. Values are never reused for another kind.
enum class Space : std::uint8_t {
  queue = 1,          // key: queue name; value: queue record
  message = 2,        // key: queue id + sequence; value: message (body, attributes, ...)
  message_state = 3,  // key: as message; value: receive state (count, visibility, ...)
  topic = 4,          // key: topic name
  subscription = 5,   // key: subscription id
  table = 6,          // key: table name
  item = 7,           // schema version 1 only: key table number + encoded primary key (see
                      // Store::open: converted to item_row)
  move_task = 8,      // key: task handle
  counter = 9,        // key: counter name; value: uint64 (id allocators)
  log_group = 10,     // key: log group name (logs.h)
  log_stream = 11,    // key: log group id + stream name
  log_event = 12,     // key: log stream id + sequence
  item_row = 13,      // key: table number + row number (u64 big-endian each); value: the item
};

class WriteBatch {
 public:
  void put(Space space, std::string key, std::string value);
  void erase(Space space, std::string key);
  // Appends every operation of `other` after this batch's own.
  void append(WriteBatch&& other);
  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }

  struct Op {
    Space space;
    bool erase;
    std::string key;
    std::string value;
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

// When a submitter is answered (see Durability::committed above).
enum class Durability : std::uint8_t {
  synced,     // after the fsync that covers the batch (the default: acknowledged writes)
  committed,  // after the commit; fsynced with the next synced batch or within kCommittedSyncDelay
};

struct StoreOptions {
  // fsync before acknowledging (see Group commit). Off only for throwaway data in tests and
  // benchmarks that say so.
  bool sync = true;
  // The SQLite VFS to open the database with (registered by the caller); empty: the default.
  // A test seam for fault injection (fault_vfs.h).
  std::string vfs;
};

class Store {
 public:
  // 2: a table's items are stored under Space::item_row, in the order they were first
  // written; 1 stored them under Space::item, in key order.
  inline static constexpr int kSchemaVersion = 2;

  // Opens (creating if needed) `dir`/orderflow.db. Fails when the directory cannot be created,
  // the file is not an orderflow database, or its schema_version is neither kSchemaVersion nor
  // 1. A version 1 database is converted in one transaction (its items get rows numbered in key
  // order, per table) before open returns.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& dir,
                                             StoreOptions options = {});

  // Drains every submitted batch (their callbacks run) before returning.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  using Done = std::function<void(const Status&)>;

  // Longest time a Durability::committed batch stays without an fsync.
  static constexpr std::chrono::milliseconds kCommittedSyncDelay{100};

  // Queues `batch` for the next group commit. `done` runs on the store's own thread (the
  // reporter, or the writer when sync is off or for Durability::committed) once the batch is
  // durable as `durability` asks (or failed); the callbacks of each kind run in submission
  // order (a committed batch may be answered before an earlier synced one); it must be quick
  // and must not wait on the store (commit()). Thread-safe. An empty batch still waits for
  // every earlier batch (committed: for their commit).
  void submit(WriteBatch batch, Done done, Durability durability = Durability::synced);

  // submit(), returning a future that holds the outcome once the batch is durable: for callers
  // that submit under their own lock and wait after releasing it.
  std::future<Status> submit(WriteBatch batch, Durability durability = Durability::synced);

  // submit() and wait for the outcome.
  Status commit(WriteBatch batch);

  // Calls `fn` for every record of `space` in key order. For use while loading, before any
  // submit(); reads only what is durable.
  Status scan(Space space,
              const std::function<void(std::string_view key, std::string_view value)>& fn);

  // Reads one record through a separate read-only connection: sees what is durable (committed),
  // never blocks on the writer's fsync. nullopt when there is no such record. Thread-safe.
  Result<std::optional<std::string>> get(Space space, std::string_view key) const;
  // Like get(), for every record of `space` with a key in [from, to], in key order, at most
  // `limit` of them: one walk of the table for neighbouring records. Thread-safe.
  Result<std::vector<std::pair<std::string, std::string>>> get_range(Space space, std::string_view from,
                                                                      std::string_view to, std::size_t limit) const;

  // Number of group commits and batches so far (for benchmarks and tests).
  std::uint64_t commits() const;
  std::uint64_t batches() const;
  // Keys written by failed commits and not yet on disk (see Errors above; for tests).
  std::size_t kept_keys() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Big-endian fixed-width encodings for keys that must sort numerically.
void put_u64_be(std::string& out, std::uint64_t v);
std::uint64_t get_u64_be(std::string_view in);

}  // namespace orderflow::engine
