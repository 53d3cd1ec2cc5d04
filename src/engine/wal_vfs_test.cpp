// Tests for the Store's VFS (engine/wal_vfs.h): a WAL transaction reaches the file in one
// write, complete when the commit returns (another connection reads it, a copy of the files
// taken then recovers it), large and rewritten transactions stay intact, and a failed write
// fails the commit.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>

#include "engine/fault_vfs.h"
#include "engine/testing/temp_dir.h"
#include "engine/wal_vfs.h"

namespace orderflow::engine {
namespace {

// The fault VFS counts the write and sync calls that reach it.
FaultVfs& counting_vfs() {
  static std::unique_ptr<FaultVfs> v = [] {
    auto r = FaultVfs::install("orderflow-wal-vfs-test-counter");
    if (!r) std::abort();
    return std::move(*r);
  }();
  return *v;
}

class Db {
 public:
  Db(const std::filesystem::path& file, const char* vfs) {
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA wal_autocheckpoint=0");  // the frames stay in the WAL
    exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB)");
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }
  std::string error() const { return sqlite3_errmsg(db_); }

  // Rows k in [from, to) with a `size`-byte value made of `fill`, in one transaction.
  int put(int from, int to, std::size_t size, char fill) {
    std::string sql = "BEGIN;";
    for (int k = from; k < to; ++k)
      sql += "INSERT OR REPLACE INTO t VALUES(" + std::to_string(k) + ", x'" +
             hex(std::string(size, fill)) + "');";
    int rc = exec(sql + "COMMIT;");
    if (rc != SQLITE_OK) exec("ROLLBACK");  // whatever SQLite left of it
    return rc;
  }

  std::string value(int k) {
    sqlite3_stmt* st = nullptr;
    std::string out = "<none>";
    sqlite3_prepare_v2(db_, "SELECT v FROM t WHERE k=?1", -1, &st, nullptr);
    sqlite3_bind_int(st, 1, k);
    if (sqlite3_step(st) == SQLITE_ROW)
      out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)), static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    sqlite3_finalize(st);
    return out;
  }

  long long count() {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "SELECT count(*) FROM t", -1, &st, nullptr);
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }

 private:
  static std::string hex(const std::string& s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) out += {d[c >> 4], d[c & 15]};
    return out;
  }
  sqlite3* db_ = nullptr;
};

// The database and its WAL as a crash would leave them (what the kernel has), copied to `to`.
void copy_as_after_a_crash(const std::filesystem::path& db, const std::filesystem::path& to) {
  std::filesystem::copy_file(db, to);
  std::filesystem::copy_file(db.string() + "-wal", to.string() + "-wal");
}

// The VFS over the default one, a data directory, and the recovery of a crash copy.
class WalVfsOverDefault : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = WalVfs::install("");
    ASSERT_TRUE(v) << v.error().message;
    vfs_ = std::move(*v);
  }
  const char* vfs() const { return vfs_->name().c_str(); }
  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }
  // A connection to a copy of `db` as a crash would leave it: opening it recovers from the WAL,
  // which keeps only frames whose checksums hold.
  std::unique_ptr<Db> recovered(const std::filesystem::path& db) const {
    auto copy = dir_.path() / ("copy-of-" + db.filename().string());
    copy_as_after_a_crash(db, copy);
    return std::make_unique<Db>(copy, nullptr);
  }

 private:
  testing::TempDir dir_;
  std::unique_ptr<WalVfs> vfs_;
};

std::unique_ptr<WalVfs> wal_vfs_over_counter() {
  auto v = WalVfs::install(counting_vfs().name());
  EXPECT_TRUE(v) << v.error().message;
  return v ? std::move(*v) : nullptr;
}

TEST(WalVfs, ATransactionOfManyFramesIsOneWrite) {
  testing::TempDir dir;
  auto vfs = wal_vfs_over_counter();
  ASSERT_TRUE(vfs);
  std::uint64_t gathered = 0, plain = 0;
  {
    Db db(dir.path() / "gathered.db", vfs->name().c_str());
    ASSERT_EQ(db.put(0, 1, 10, 'a'), SQLITE_OK);
    auto before = counting_vfs().io_calls();
    ASSERT_EQ(db.put(1000, 1012, 3000, 'b'), SQLITE_OK) << db.error();  // 12 rows of 3 KB: >= 12 pages
    gathered = counting_vfs().io_calls() - before;
  }
  {
    Db db(dir.path() / "plain.db", counting_vfs().name().c_str());
    ASSERT_EQ(db.put(0, 1, 10, 'a'), SQLITE_OK);
    auto before = counting_vfs().io_calls();
    ASSERT_EQ(db.put(1000, 1012, 3000, 'b'), SQLITE_OK);
    plain = counting_vfs().io_calls() - before;
  }
  EXPECT_EQ(gathered, 1u);
  EXPECT_GE(plain, 24u);  // two writes per frame without it
}

TEST_F(WalVfsOverDefault, ACommittedTransactionIsInTheFileWhenTheCommitReturns) {
  auto db = file("a.db");
  Db writer(db, vfs());
  Db reader(db, nullptr);  // another connection, reading the files through the plain VFS
  for (int round = 0; round < 20; ++round) {
    ASSERT_EQ(writer.put(round * 10, round * 10 + 10, 500 + round * 100, static_cast<char>('a' + round)), SQLITE_OK);
    EXPECT_EQ(reader.count(), (round + 1) * 10);
    EXPECT_EQ(reader.value(round * 10 + 9), std::string(500 + round * 100, static_cast<char>('a' + round)));
  }
  auto copy = recovered(db);
  EXPECT_EQ(copy->count(), 200);
  EXPECT_EQ(copy->value(199), std::string(2400, 't'));
}

TEST_F(WalVfsOverDefault, TransactionsLargerThanOneWriteStayWhole) {
  Db db(file("big.db"), vfs());
  // 4 rows of 300 KB: 1.2 MB of frames, more than the unix VFS writes in one call (128 KiB).
  ASSERT_EQ(db.put(0, 4, 300 * 1024, 'x'), SQLITE_OK) << db.error();
  ASSERT_EQ(db.put(10, 11, 100, 'y'), SQLITE_OK) << db.error();
  auto copy = recovered(file("big.db"));
  EXPECT_EQ(copy->count(), 5);
  EXPECT_EQ(copy->value(3), std::string(300 * 1024, 'x'));
  EXPECT_EQ(copy->value(10), std::string(100, 'y'));
}

TEST_F(WalVfsOverDefault, ASpilledTransactionThatRewritesItsFramesRecovers) {
  Db db(file("spill.db"), vfs());
  ASSERT_EQ(db.exec("PRAGMA cache_size=10"), SQLITE_OK);  // the pages spill into the WAL mid-transaction
  std::string sql = "BEGIN;";
  for (int pass = 0; pass < 3; ++pass)  // each pass rewrites pages already spilled
    for (int k = 0; k < 200; ++k)
      sql += "INSERT OR REPLACE INTO t VALUES(" + std::to_string(k) + ", randomblob(" +
             std::to_string(400 + pass) + "));";
  ASSERT_EQ(db.exec(sql + "COMMIT;"), SQLITE_OK) << db.error();
  auto copy = recovered(file("spill.db"));
  EXPECT_EQ(copy->count(), 200);
  EXPECT_EQ(copy->value(150).size(), 402u);
  EXPECT_EQ(copy->exec("PRAGMA integrity_check"), SQLITE_OK);
}

TEST(WalVfs, AFailedWriteFailsTheCommitAndTheNextOneWorks) {
  testing::TempDir dir;
  auto vfs = wal_vfs_over_counter();
  ASSERT_TRUE(vfs);
  Db db(dir.path() / "fail.db", vfs->name().c_str());
  ASSERT_EQ(db.put(0, 1, 10, 'a'), SQLITE_OK);
  counting_vfs().fail_nth(0);  // the transaction's one write
  EXPECT_NE(db.put(1, 6, 2000, 'b'), SQLITE_OK);
  counting_vfs().clear_faults();
  EXPECT_EQ(db.count(), 1);
  ASSERT_EQ(db.put(1, 6, 2000, 'c'), SQLITE_OK) << db.error();
  EXPECT_EQ(db.count(), 6);
  EXPECT_EQ(db.value(5), std::string(2000, 'c'));
}

}  // namespace
}  // namespace orderflow::engine
