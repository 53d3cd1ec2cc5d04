#include "engine/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>

#include "engine/vfs_wrap.h"

namespace orderflow::engine {

struct WalVfs::State : WrappedVfs {};

namespace {

constexpr int kFrameHeader = 24;  // a WAL frame: this header, then one page
constexpr int kWalHeader = 32;    // at the start of the WAL file

struct File {
  WrappedFile w;  // first: SQLite's file and the real VFS's
  bool wal;  // only a WAL's writes are gathered
  std::mutex mu;
  std::string pending;  // guarded by mu: bytes for [pending_at, pending_at + size)
  sqlite3_int64 pending_at = 0;
  sqlite3_int64 end = 0;     // guarded by mu: where the frames written since the WAL's last
                             // restart (or this open) end; a write below is a rewrite
  bool page_next = false;    // guarded by mu: the last write was a frame header
  bool commit_next = false;  // ... of the transaction's commit frame
};

constexpr std::size_t kRealOffset = real_file_offset(sizeof(File));

File* file_of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }

// Writes the buffer; it is empty afterwards, whatever the outcome. Caller holds mu.
int flush(File& p) {
  if (p.pending.empty()) return SQLITE_OK;
  int rc = p.w.real->pMethods->xWrite(p.w.real, p.pending.data(), static_cast<int>(p.pending.size()), p.pending_at);
  p.pending.clear();
  return rc;
}

// The buffer written first, for the calls that must see the file as SQLite thinks it is.
int flushed(sqlite3_file* f) {
  File& p = *file_of(f);
  if (!p.wal) return SQLITE_OK;
  std::lock_guard g(p.mu);
  return flush(p);
}

// A frame header's bytes 4-7: the database size in pages after a commit, 0 on other frames.
bool is_commit_header(const void* buf) {
  const auto* b = static_cast<const unsigned char*>(buf);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  File& p = *file_of(f);
  if (!p.wal) return p.w.real->pMethods->xWrite(p.w.real, buf, n, off);
  std::lock_guard g(p.mu);
  bool restart = n == kWalHeader && off == 0;  // the WAL starts over: its header comes first
  if (restart) p.end = 0;
  bool appends = off >= p.end;  // else SQLite rewrites a frame written before (a spilled page
                                // changed again, or the checksums after such a change)
  auto size = static_cast<std::size_t>(n);
  if (!p.pending.empty() && (!appends || off != p.pending_at + static_cast<sqlite3_int64>(p.pending.size()) ||
                            p.pending.size() + size > WalVfs::kMaxPending)) {
    if (int rc = flush(p); rc != SQLITE_OK) {
      p.page_next = p.commit_next = false;
      return rc;
    }
  }
  if (!appends || size > WalVfs::kMaxPending) return p.w.real->pMethods->xWrite(p.w.real, buf, n, off);
  if (p.pending.empty()) p.pending_at = off;
  p.pending.append(static_cast<const char*>(buf), size);
  p.end = std::max(p.end, off + n);
  bool write_now;
  if (n == kFrameHeader) {  // a frame header: its page comes next
    p.page_next = true;
    p.commit_next = is_commit_header(buf);
    write_now = false;
  } else if (p.page_next) {  // a frame's page: a commit frame ends the transaction
    write_now = p.commit_next;
    p.page_next = p.commit_next = false;
  } else {  // the WAL header at a restart; anything else is written at once
    write_now = !restart;
  }
  return write_now ? flush(p) : SQLITE_OK;
}

int x_close(sqlite3_file* f) {
  File* p = file_of(f);
  int written = flushed(f);
  int rc = p->w.real->pMethods != nullptr ? p->w.real->pMethods->xClose(p->w.real) : SQLITE_OK;
  p->~File();
  return written != SQLITE_OK ? written : rc;
}

int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  if (int rc = flushed(f); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = flushed(f); rc != SQLITE_OK) return rc;
  if (file_of(f)->wal) {
    std::lock_guard g(file_of(f)->mu);
    file_of(f)->end = std::min(file_of(f)->end, size);
  }
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

int x_sync(sqlite3_file* f, int flags) {
  if (int rc = flushed(f); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xSync(real_of(f), flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* out) {
  if (int rc = flushed(f); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xFileSize(real_of(f), out);
}

const sqlite3_io_methods kMethods = wrapped_io_methods(x_close, x_read, x_write, x_truncate, x_sync, x_file_size);

int v_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* real = wrapped_of(vfs).real;
  auto* p = new (file) File{};
  attach_real_file(p->w, file, kRealOffset, *real);
  p->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = real->xOpen(real, name, p->w.real, flags, out_flags);
  if (rc != SQLITE_OK) {
    p->~File();
    file->pMethods = nullptr;
    return rc;
  }
  p->w.base.pMethods = &kMethods;
  return rc;
}

int v_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  sqlite3_vfs* real = wrapped_of(vfs).real;
  return real->xDelete(real, name, sync_dir);
}

std::atomic<unsigned> installed{0};

}  // namespace

WalVfs::WalVfs(std::unique_ptr<State> state) : state_(std::move(state)) {}

WalVfs::~WalVfs() { sqlite3_vfs_unregister(&state_->vfs); }

Result<std::unique_ptr<WalVfs>> WalVfs::install(const std::string& base) {
  auto st = std::make_unique<State>();
  std::string name = "orderflow-wal-" + std::to_string(installed.fetch_add(1));
  if (auto s = register_wrapped_vfs(*st, base, std::move(name), sizeof(File), v_open, v_delete); !s)
    return std::unexpected(s.error());
  return std::unique_ptr<WalVfs>(new WalVfs(std::move(st)));
}

const std::string& WalVfs::name() const { return state_->name; }

}  // namespace orderflow::engine
