#include "engine/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/util.h"
#include "engine/wal_vfs.h"

namespace orderflow::engine {

void WriteBatch::put(Space space, std::string key, std::string value) {
  ops_.push_back(Op{space, false, std::move(key), std::move(value)});
}

void WriteBatch::erase(Space space, std::string key) {
  ops_.push_back(Op{space, true, std::move(key), {}});
}

void WriteBatch::append(WriteBatch&& other) {
  if (ops_.empty()) {
    ops_ = std::move(other.ops_);
  } else {
    for (auto& op : other.ops_) ops_.push_back(std::move(op));
  }
  other.ops_.clear();
}

void put_u64_be(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

std::uint64_t get_u64_be(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

namespace {

Error storage_error(sqlite3* db, std::string_view what) {
  return Error{ErrorCode::internal_error,
               std::string("storage failure (") + std::string(what) + "): " +
                   (db != nullptr ? sqlite3_errmsg(db) : "cannot open database")};
}

// Column `i` of the current row as bytes (a NULL or empty blob is empty).
std::string_view column_bytes(sqlite3_stmt* st, int i) {
  auto p = static_cast<const char*>(sqlite3_column_blob(st, i));
  return {p != nullptr ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st, i))};
}

// RAII for prepared statements.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

struct Store::Impl {
  // The VFS both connections use (wal_vfs.h); closed after them (the members outlive ~Impl's
  // body, which closes the connections).
  std::unique_ptr<WalVfs> vfs;
  sqlite3* db = nullptr;
  sqlite3* reader = nullptr;  // read-only connection for get(); guarded by reader_mu
  Stmt range_stmt;            // get() and get_range(); guarded by reader_mu
  std::mutex reader_mu;
  Stmt put_stmt, del_stmt, begin_stmt, commit_stmt, rollback_stmt;

  std::mutex mu;
  std::condition_variable work_cv;
  struct Pending {
    WriteBatch batch;
    Done done;
    Durability durability = Durability::synced;
  };
  std::deque<Pending> queue;  // guarded by mu
  bool stopping = false;      // guarded by mu
  // What failed commits would have written, coalesced by key (the last operation on a key
  // wins, as it would on disk): written first by the next commit. One entry per key touched
  // while the disk fails, however many batches touched it. nullopt: erase. Writer thread only.
  std::map<std::pair<Space, std::string>, std::optional<std::string>> kept;
  std::atomic<std::size_t> kept_keys{0};  // kept.size(), for kept_keys()
  std::uint64_t commits = 0;  // guarded by mu
  std::uint64_t batches = 0;  // guarded by mu
  std::thread writer;

  // The durable pipeline (sync on): SQLite commits without fsync (synchronous=NORMAL) on the
  // writer thread, the syncer thread fsyncs the WAL and decides each group's outcome, and the
  // reporter thread acknowledges, so that the writer commits the next group while the
  // previous one is being synced. The writer commits
  // a group only once the syncer has taken every earlier one (at most one group being synced
  // and one being committed), so groups grow while the disk is slow.
  bool pipelined = false;  // set before the threads start
  struct Committed {
    std::deque<Pending> group;
    Status status;                // the commit's own outcome
    bool wrote = false;           // it committed writes that a sync must make durable
    std::uint64_t epoch = 0;      // `epoch` when it was committed
    sqlite3_file* wal = nullptr;  // the WAL file, when wrote
  };
  std::deque<Committed> unsynced;  // committed, not yet taken by the syncer; guarded by mu
  // Durability::committed writes not yet covered by an fsync: the WAL to sync, and when it must
  // be synced at the latest (the first such commit + kCommittedSyncDelay). Guarded by mu.
  sqlite3_file* lazy_wal = nullptr;
  std::chrono::steady_clock::time_point lazy_deadline{};
  bool writer_done = false;        // guarded by mu
  // A failed fsync may have lost any write since the last good one (the kernel may drop the
  // dirty pages it could not write). Every group committed before durability is re-established
  // then fails: `min_good_epoch` is set past the current epoch, and the writer, seeing
  // `sync_broken`, checkpoints the whole WAL into the database file (rewriting every page,
  // fsynced) and only then starts the next epoch.
  bool sync_broken = false;         // guarded by mu
  std::uint64_t epoch = 0;          // guarded by mu
  std::uint64_t min_good_epoch = 0; // guarded by mu
  std::condition_variable sync_cv;  // the syncer waits for unsynced groups
  std::thread syncer;
  // The reporter thread runs the submitters' callbacks (waking a waiting thread each) after the
  // syncer has decided their outcome, so that the syncer can start the next fsync at once.
  struct Outcome {
    std::deque<Pending> group;
    Status status;
  };
  std::deque<Outcome> to_report;     // in commit order; guarded by mu
  bool syncer_done = false;          // guarded by mu
  std::condition_variable report_cv;  // the reporter waits for outcomes
  std::thread reporter;

  ~Impl() {
    {
      std::lock_guard g(mu);
      stopping = true;
    }
    work_cv.notify_all();
    if (writer.joinable()) writer.join();
    if (syncer.joinable()) syncer.join();
    if (reporter.joinable()) reporter.join();
    for (Stmt* st : {&put_stmt, &del_stmt, &begin_stmt, &commit_stmt, &rollback_stmt, &range_stmt}) {
      sqlite3_finalize(st->s);
      st->s = nullptr;
    }
    sqlite3_close(reader);
    sqlite3_close(db);
  }

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "unknown";
      sqlite3_free(err);
      return fail(ErrorCode::internal_error, std::string("storage failure: ") + msg);
    }
    return {};
  }

  Status prepare(Stmt& st, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &st.s, nullptr) != SQLITE_OK)
      return std::unexpected(storage_error(db, "prepare"));
    return {};
  }

  // Writes (value) or deletes (nullptr) one record inside the open transaction; on failure
  // rolls the transaction back.
  Status write_row(Space space, std::string_view key, const std::string_view* value) {
    Stmt& st = value == nullptr ? del_stmt : put_stmt;
    sqlite3_bind_int(st.s, 1, static_cast<int>(space));
    sqlite3_bind_blob(st.s, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    if (value != nullptr) sqlite3_bind_blob(st.s, 3, value->data(), static_cast<int>(value->size()), SQLITE_STATIC);
    bool ok = step_done(st);
    sqlite3_clear_bindings(st.s);
    if (ok) return {};
    auto e = storage_error(db, value == nullptr ? "delete" : "write");
    step_done(rollback_stmt);
    return std::unexpected(e);
  }

  // Schema 1 -> 2, in one transaction: each Space::item record (table number + encoded key)
  // becomes a Space::item_row record (table number + row number; a table's rows numbered from
  // 1 in key order), and the version becomes 2. A crash before the commit leaves version 1.
  Status upgrade_from_1() {
    if (!step_done(begin_stmt)) return std::unexpected(storage_error(db, "begin"));
    Stmt sel;
    std::string select = "SELECT key, value FROM kv WHERE space=" +
                         std::to_string(static_cast<int>(Space::item)) + " ORDER BY key";
    if (auto s = prepare(sel, select.c_str()); !s) {
      step_done(rollback_stmt);
      return s;
    }
    std::string table;
    std::uint64_t row = 0;
    int rc;
    // The records written land outside the range being read (another space).
    while ((rc = sqlite3_step(sel.s)) == SQLITE_ROW) {
      std::string_view key = column_bytes(sel.s, 0), value = column_bytes(sel.s, 1);
      if (key.size() < 8) continue;  // not an item record: dropped below
      if (key.substr(0, 8) != table) table = key.substr(0, 8), row = 0;
      std::string new_key = table;
      put_u64_be(new_key, ++row);
      if (auto s = write_row(Space::item_row, new_key, &value); !s) return s;
    }
    sqlite3_reset(sel.s);
    std::string drop = "DELETE FROM kv WHERE space=" + std::to_string(static_cast<int>(Space::item)) +
                       "; UPDATE meta SET value='2' WHERE name='schema_version'";
    Status done = rc != SQLITE_DONE ? std::unexpected(storage_error(db, "read items")) : exec(drop.c_str());
    if (done && step_done(commit_stmt)) return {};
    if (done) done = std::unexpected(storage_error(db, "commit"));
    step_done(rollback_stmt);
    return done;
  }

  bool step_done(Stmt& st) {
    int rc = sqlite3_step(st.s);
    sqlite3_reset(st.s);
    return rc == SQLITE_DONE;
  }

  // Writes `kept`, then `group`, in one transaction. On failure nothing of it is written
  // (SQLite rolls the transaction back) and the connection can start the next one.
  Status apply(const std::deque<Pending>& group) {
    if (!step_done(begin_stmt)) {
      auto e = storage_error(db, "begin");
      step_done(rollback_stmt);
      return std::unexpected(e);
    }
    auto write = [&](Space space, std::string_view key, const std::string* value) {
      std::string_view v = value != nullptr ? std::string_view(*value) : std::string_view();
      return write_row(space, key, value != nullptr ? &v : nullptr);
    };
    for (const auto& [k, value] : kept)
      if (auto s = write(k.first, k.second, value ? &*value : nullptr); !s) return s;
    for (const auto& p : group)
      for (const auto& op : p.batch.ops())
        if (auto s = write(op.space, op.key, op.erase ? nullptr : &op.value); !s) return s;
    if (!step_done(commit_stmt)) {
      auto e = storage_error(db, "commit");
      step_done(rollback_stmt);
      return std::unexpected(e);
    }
    return {};
  }

  sqlite3_file* wal_file() {
    sqlite3_file* f = nullptr;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK) return nullptr;
    return f != nullptr && f->pMethods != nullptr ? f : nullptr;
  }

  // After a failed fsync: copies the whole WAL into the database file and fsyncs it
  // (checkpoint), empties the WAL and fsyncs that too, so that no page depends on a WAL write
  // the failed fsync may have lost. Writer thread only.
  bool reestablish_durability() {
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) != SQLITE_OK)
      return false;
    sqlite3_file* f = wal_file();
    return f == nullptr || f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) == SQLITE_OK;
  }

  void run() {
    std::unique_lock lk(mu);
    for (;;) {
      work_cv.wait(lk, [&] {
        return (stopping || !queue.empty()) && (!pipelined || unsynced.empty());
      });
      if (queue.empty()) break;  // stopping and drained
      std::deque<Pending> group;
      group.swap(queue);
      bool recover = sync_broken;
      lk.unlock();
      if (recover && reestablish_durability()) {
        lk.lock();
        sync_broken = false;
        ++epoch;
        lk.unlock();
      }
      Status st;
      bool any_writes = !kept.empty() ||
                        std::any_of(group.begin(), group.end(),
                                    [](const Pending& p) { return !p.batch.empty(); });
      // A group of empty batches (barriers) is durable as soon as everything before it is.
      if (any_writes) {
        st = apply(group);
        if (st) {
          kept.clear();
          kept_keys = 0;
        } else {
          for (const auto& p : group)
            for (const auto& op : p.batch.ops()) {
              auto& slot = kept[{op.space, op.key}];
              if (op.erase) slot.reset();
              else slot = op.value;
            }
          kept_keys = kept.size();
        }
      }
      sqlite3_file* wal = pipelined && any_writes && st ? wal_file() : nullptr;
      if (pipelined && any_writes && st && wal == nullptr)
        st = fail(ErrorCode::internal_error, "storage failure (sync): no WAL file to sync");
      // Durability::committed batches are answered now; the synced ones wait for the syncer.
      std::vector<Pending> answer_now;
      if (pipelined) {
        auto committed = std::stable_partition(group.begin(), group.end(), [](const Pending& p) {
          return p.durability == Durability::synced;
        });
        std::move(committed, group.end(), std::back_inserter(answer_now));
        group.erase(committed, group.end());
      }
      lk.lock();
      if (any_writes) ++commits;
      batches += group.size() + answer_now.size();
      if (pipelined) {
        if (!group.empty()) {  // the syncer's next fsync covers this whole commit
          unsynced.push_back(Committed{std::move(group), st, wal != nullptr, epoch, wal});
          sync_cv.notify_one();
        } else if (wal != nullptr) {
          if (lazy_wal == nullptr) {
            lazy_deadline = std::chrono::steady_clock::now() + kCommittedSyncDelay;
            sync_cv.notify_one();  // the syncer waits until lazy_deadline
          }
          lazy_wal = wal;
        }
        if (!answer_now.empty()) {
          lk.unlock();
          for (auto& p : answer_now)
            if (p.done) p.done(st);
          lk.lock();
        }
        continue;
      }
      lk.unlock();
      for (auto& p : group) {
        if (p.done) p.done(st);
      }
      lk.lock();
    }
    writer_done = true;
    sync_cv.notify_one();
  }

  // The syncer (pipelined only): takes every committed group, fsyncs the WAL once for all of
  // them, then hands each group's outcome to the reporter, in commit order.
  void sync_loop() {
    std::unique_lock lk(mu);
    for (;;) {
      auto ready = [&] {
        return !unsynced.empty() || writer_done ||
               (lazy_wal != nullptr && std::chrono::steady_clock::now() >= lazy_deadline);
      };
      while (!ready()) {
        if (lazy_wal != nullptr) sync_cv.wait_until(lk, lazy_deadline);
        else sync_cv.wait(lk);
      }
      if (unsynced.empty() && lazy_wal == nullptr) break;  // the writer is done, all synced
      std::deque<Committed> taken;
      taken.swap(unsynced);
      // This fsync covers every commit so far, the Durability::committed ones included.
      sqlite3_file* wal = std::exchange(lazy_wal, nullptr);
      lk.unlock();
      work_cv.notify_one();  // the writer may commit the next group now
      for (const auto& c : taken)
        if (c.wrote) wal = c.wal;
      int rc = wal != nullptr ? wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) : SQLITE_OK;
      lk.lock();
      if (rc != SQLITE_OK) {
        sync_broken = true;
        min_good_epoch = epoch + 1;
      }
      for (auto& c : taken) {
        Status st = c.status;
        if (st && c.epoch < min_good_epoch)
          st = fail(ErrorCode::internal_error,
                    std::string("storage failure (sync): ") +
                        (rc != SQLITE_OK ? sqlite3_errstr(rc)
                                         : "an earlier sync failed; the write may not be durable"));
        to_report.push_back(Outcome{std::move(c.group), std::move(st)});
      }
      if (!taken.empty()) report_cv.notify_one();
    }
    syncer_done = true;
    report_cv.notify_one();
  }

  // The reporter (pipelined only): runs the callbacks of every decided group, in order.
  void report_loop() {
    std::unique_lock lk(mu);
    for (;;) {
      report_cv.wait(lk, [&] { return !to_report.empty() || syncer_done; });
      if (to_report.empty()) return;  // the syncer is done and everything is reported
      std::deque<Outcome> batch;
      batch.swap(to_report);
      lk.unlock();
      for (auto& o : batch)
        for (auto& p : o.group)
          if (p.done) p.done(o.status);
      lk.lock();
    }
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& dir, StoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return fail(ErrorCode::internal_error,
                "cannot create data directory " + dir.string() + ": " + ec.message());
  auto impl = std::make_unique<Impl>();
  auto path = (dir / "orderflow.db").string();
  auto wal_vfs = WalVfs::install(options.vfs);
  if (!wal_vfs) return std::unexpected(wal_vfs.error());
  impl->vfs = std::move(*wal_vfs);
  const char* vfs = impl->vfs->name().c_str();
  if (sqlite3_open_v2(path.c_str(), &impl->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      vfs) != SQLITE_OK) {
    return std::unexpected(storage_error(impl->db, "open " + path));
  }
  sqlite3_busy_timeout(impl->db, 5000);
  auto setup = [&]() -> Status {
    if (auto s = impl->exec("PRAGMA journal_mode=WAL"); !s) return s;
    // With sync, SQLite commits without fsync and the syncer fsyncs the WAL before any
    // acknowledgement (see Impl); checkpoints still fsync (NORMAL syncs at each checkpoint).
    if (auto s = impl->exec(options.sync ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=OFF");
        !s)
      return s;
    if (auto s = impl->exec("PRAGMA wal_autocheckpoint=4000"); !s) return s;
    if (auto s = impl->exec(
            "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS kv(space INTEGER NOT NULL, key BLOB NOT NULL, "
            "value BLOB NOT NULL, PRIMARY KEY(space, key)) WITHOUT ROWID;");
        !s)
      return s;
    if (auto s = impl->prepare(impl->put_stmt,
                               "INSERT OR REPLACE INTO kv(space, key, value) VALUES(?1, ?2, ?3)");
        !s)
      return s;
    if (auto s = impl->prepare(impl->del_stmt, "DELETE FROM kv WHERE space=?1 AND key=?2"); !s)
      return s;
    if (auto s = impl->prepare(impl->begin_stmt, "BEGIN IMMEDIATE"); !s) return s;
    if (auto s = impl->prepare(impl->commit_stmt, "COMMIT"); !s) return s;
    if (auto s = impl->prepare(impl->rollback_stmt, "ROLLBACK"); !s) return s;
    // Schema version: written on first open, checked on every later one.
    Stmt q;
    if (auto s = impl->prepare(q, "SELECT value FROM meta WHERE name='schema_version'"); !s)
      return s;
    int rc = sqlite3_step(q.s);
    if (rc == SQLITE_ROW) {
      std::string v = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0));
      sqlite3_reset(q.s);
      if (v == "1") {
        if (auto s = impl->upgrade_from_1(); !s) return s;
      } else if (v != std::to_string(kSchemaVersion)) {
        return fail(ErrorCode::internal_error,
                    "data directory " + dir.string() + " has schema version " + v +
                        ", this orderflow needs " + std::to_string(kSchemaVersion));
      }
    } else if (rc == SQLITE_DONE) {
      std::string sql = "INSERT INTO meta(name, value) VALUES('schema_version', '" +
                        std::to_string(kSchemaVersion) + "')";
      if (auto s = impl->exec(sql.c_str()); !s) return s;
    } else {
      return std::unexpected(storage_error(impl->db, "read schema version"));
    }
    if (sqlite3_open_v2(path.c_str(), &impl->reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        vfs) != SQLITE_OK)
      return std::unexpected(storage_error(impl->reader, "open reader"));
    sqlite3_busy_timeout(impl->reader, 5000);
    if (sqlite3_prepare_v2(impl->reader,
                           "SELECT key, value FROM kv WHERE space=?1 AND key>=?2 AND key<=?3 ORDER BY key LIMIT ?4",
                           -1, &impl->range_stmt.s, nullptr) != SQLITE_OK)
      return std::unexpected(storage_error(impl->reader, "prepare range"));
    return {};
  };
  if (auto s = setup(); !s) return std::unexpected(s.error());
  Impl* raw = impl.get();
  raw->pipelined = options.sync;
  raw->writer = named_thread("of-store-write", [raw] { raw->run(); });
  if (raw->pipelined) {
    raw->syncer = named_thread("of-store-sync", [raw] { raw->sync_loop(); });
    raw->reporter = named_thread("of-store-answer", [raw] { raw->report_loop(); });
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

void Store::submit(WriteBatch batch, Done done, Durability durability) {
  {
    std::lock_guard g(impl_->mu);
    impl_->queue.push_back(Impl::Pending{std::move(batch), std::move(done), durability});
  }
  impl_->work_cv.notify_one();
}

std::future<Status> Store::submit(WriteBatch batch, Durability durability) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  submit(std::move(batch), [p](const Status& st) { p->set_value(st); }, durability);
  return f;
}

Status Store::commit(WriteBatch batch) { return submit(std::move(batch)).get(); }

Status Store::scan(Space space,
                   const std::function<void(std::string_view, std::string_view)>& fn) {
  Stmt q;
  if (sqlite3_prepare_v2(impl_->db, "SELECT key, value FROM kv WHERE space=?1 ORDER BY key", -1,
                         &q.s, nullptr) != SQLITE_OK)
    return std::unexpected(storage_error(impl_->db, "scan"));
  sqlite3_bind_int(q.s, 1, static_cast<int>(space));
  int rc;
  while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) fn(column_bytes(q.s, 0), column_bytes(q.s, 1));
  if (rc != SQLITE_DONE) return std::unexpected(storage_error(impl_->db, "scan"));
  return {};
}

Result<std::optional<std::string>> Store::get(Space space, std::string_view key) const {
  auto found = get_range(space, key, key, 1);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return std::nullopt;
  return std::move(found->front().second);
}

Result<std::vector<std::pair<std::string, std::string>>> Store::get_range(Space space, std::string_view from,
                                                                           std::string_view to,
                                                                           std::size_t limit) const {
  std::lock_guard g(impl_->reader_mu);
  sqlite3_stmt* st = impl_->range_stmt.s;
  sqlite3_bind_int(st, 1, static_cast<int>(space));
  sqlite3_bind_blob(st, 2, from.data(), static_cast<int>(from.size()), SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, to.data(), static_cast<int>(to.size()), SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, static_cast<sqlite3_int64>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.emplace_back(column_bytes(st, 0), column_bytes(st, 1));
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) return std::unexpected(storage_error(impl_->reader, "read"));
  return out;
}

std::size_t Store::kept_keys() const { return impl_->kept_keys.load(); }
std::uint64_t Store::commits() const {
  std::lock_guard g(impl_->mu);
  return impl_->commits;
}

std::uint64_t Store::batches() const {
  std::lock_guard g(impl_->mu);
  return impl_->batches;
}

}  // namespace orderflow::engine
