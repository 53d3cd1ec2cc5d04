// Tests for the durable store (engine/store.h): atomic batches, ordering, group commit,
// persistence and the schema version check.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "engine/store.h"
#include "engine/testing/temp_dir.h"

namespace orderflow::engine {
namespace {

std::map<std::string, std::string> dump(Store& s, Space space) {
  std::map<std::string, std::string> out;
  auto st = s.scan(space, [&](std::string_view k, std::string_view v) { out.emplace(k, v); });
  EXPECT_TRUE(st);
  return out;
}

TEST(Store, CommittedBatchesSurviveReopen) {
  testing::TempDir dir;
  {
    auto s = Store::open(dir.path());
    ASSERT_TRUE(s) << s.error().message;
    WriteBatch b;
    b.put(Space::queue, "a", "1");
    b.put(Space::queue, "b", "2");
    b.put(Space::item, "x", std::string("\0bin\xff", 5));
    ASSERT_TRUE((*s)->commit(std::move(b)));
    WriteBatch c;
    c.erase(Space::queue, "a");
    c.put(Space::queue, "b", "3");
    ASSERT_TRUE((*s)->commit(std::move(c)));
  }
  auto s = Store::open(dir.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(dump(**s, Space::queue), (std::map<std::string, std::string>{{"b", "3"}}));
  EXPECT_EQ(dump(**s, Space::item).at("x"), std::string("\0bin\xff", 5));
}

TEST(Store, LaterOperationsInABatchWinOverEarlierOnes) {
  testing::TempDir dir;
  auto s = Store::open(dir.path());
  ASSERT_TRUE(s);
  WriteBatch b;
  b.put(Space::topic, "t", "old");
  b.erase(Space::topic, "t");
  b.put(Space::topic, "t", "new");
  ASSERT_TRUE((*s)->commit(std::move(b)));
  EXPECT_EQ(dump(**s, Space::topic).at("t"), "new");
}

TEST(Store, ConcurrentCommitsAreGroupedAndAllDurable) {
  testing::TempDir dir;
  {
    auto s = Store::open(dir.path());
    ASSERT_TRUE(s);
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          WriteBatch b;
          b.put(Space::item, std::to_string(t) + "/" + std::to_string(i), "v");
          ASSERT_TRUE((*s)->commit(std::move(b)));
        }
      });
    for (auto& t : ts) t.join();
    EXPECT_EQ((*s)->batches(), 400u);
    EXPECT_LE((*s)->commits(), 400u);
  }
  auto s = Store::open(dir.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(dump(**s, Space::item).size(), 400u);
}

TEST(Store, SubmitCallbacksRunInSubmissionOrder) {
  testing::TempDir dir;
  auto s = Store::open(dir.path());
  ASSERT_TRUE(s);
  std::vector<int> order;
  std::mutex mu;
  for (int i = 0; i < 100; ++i) {
    WriteBatch b;
    b.put(Space::counter, "k", std::to_string(i));
    (*s)->submit(std::move(b), [&, i](const Status& st) {
      EXPECT_TRUE(st);
      std::lock_guard g(mu);
      order.push_back(i);
    });
  }
  ASSERT_TRUE((*s)->commit({}));  // a barrier: returns after every earlier batch
  std::lock_guard g(mu);
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(dump(**s, Space::counter).at("k"), "99") << "the last submitted write wins";
}

TEST(Store, RefusesADatabaseWithAnotherSchemaVersion) {
  testing::TempDir dir;
  { ASSERT_TRUE(Store::open(dir.path())); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "orderflow.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='999' WHERE name='schema_version'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = Store::open(dir.path());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("schema version 999"), std::string::npos) << s.error().message;
}

TEST(Store, RefusesAFileThatIsNotADatabase) {
  testing::TempDir dir;
  {
    std::FILE* f = std::fopen((dir.path() / "orderflow.db").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not an sqlite database, just some text that is long enough to matter......", f);
    std::fclose(f);
  }
  auto s = Store::open(dir.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::internal_error);
}

TEST(Store, FailsClearlyWhenTheDataDirectoryCannotBeCreated) {
  testing::TempDir dir;
  {
    std::FILE* f = std::fopen((dir.path() / "file").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  auto s = Store::open(dir.path() / "file" / "sub");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("cannot create data directory"), std::string::npos);
}

}  // namespace
}  // namespace orderflow::engine
