#include "cli/package.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <fstream>
#include <iterator>

namespace orderflow::cli::package {
namespace {

// What Debian 12's ldd prints for the function (shortened).
constexpr std::string_view kDebianLdd =
    "\tlinux-vdso.so.1 (0x00007ffc9a1e5000)\n"
    "\tlibcurl.so.4 => /lib/x86_64-linux-gnu/libcurl.so.4 (0x00007f2c3a561000)\n"
    "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f2c39c00000)\n"
    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2c39a1e000)\n"
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f2c3a6e0000)\n"
    "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f2c39891000)\n";

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("orderflow-package-test-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names(const std::vector<ZipEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.name);
  return out;
}

TEST(LoaderList, ReadsLibrariesAndTheLoaderAndSkipsTheVdso) {
  auto list = parse_loader_list(kDebianLdd);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_FALSE(list->is_static);
  ASSERT_EQ(list->libraries.size(), 5u);
  EXPECT_EQ(list->libraries[0].soname, "libcurl.so.4");
  EXPECT_EQ(list->libraries[0].path, "/lib/x86_64-linux-gnu/libcurl.so.4");
  EXPECT_FALSE(list->libraries[0].loader);
  EXPECT_EQ(list->libraries[3].soname, "ld-linux-x86-64.so.2");
  EXPECT_EQ(list->libraries[3].path, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_TRUE(list->libraries[3].loader);
}

TEST(LoaderList, AnOpenedLibraryAndWhatItNeedsAreAddedOnce) {
  auto list = parse_loader_list(
      "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x1)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x3)\n");
  auto curl = parse_loader_list(
      "\tlinux-vdso.so.1 (0x9)\n"
      "\tlibnghttp2.so.14 => /lib/x86_64-linux-gnu/libnghttp2.so.14 (0x4)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n"
      "\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x5)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x3)\n");
  ASSERT_TRUE(list && curl);
  SharedLibrary libcurl{"libcurl.so.4", "/lib/x86_64-linux-gnu/libcurl.so.4.8.0", false};
  ASSERT_TRUE(add_opened_library(*list, libcurl, *curl));
  std::vector<std::string> sonames;
  for (const auto& l : list->libraries) sonames.push_back(l.soname);
  EXPECT_EQ(sonames, (std::vector<std::string>{"libstdc++.so.6", "libc.so.6", "ld-linux-x86-64.so.2",
                                               "libcurl.so.4", "libnghttp2.so.14", "libssl.so.3"}));
  EXPECT_EQ(list->libraries[3].path, "/lib/x86_64-linux-gnu/libcurl.so.4.8.0");
  ASSERT_TRUE(add_opened_library(*list, libcurl, *curl));  // already there: nothing changes
  EXPECT_EQ(list->libraries.size(), 6u);

  auto other_loader = parse_loader_list("\tlibc.so.6 => /x/libc.so.6 (0x2)\n\t/other/ld-musl.so.1 (0x3)\n");
  ASSERT_TRUE(other_loader);
  auto refused = add_opened_library(*list, {"libz.so.1", "/x/libz.so.1", false}, *other_loader);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("ld-musl.so.1"), std::string::npos) << refused.error().message;
}

TEST(LoaderList, KeepsOneLoaderWhenItIsAlsoListedByName) {
  auto list = parse_loader_list(
      std::string(kDebianLdd) +
      "\tld-linux-x86-64.so.2 => /lib64/ld-linux-x86-64.so.2 (0x00007f2c3a6e0000)\n");
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->libraries.size(), 5u);
  int loaders = 0;
  for (const auto& l : list->libraries) loaders += l.soname == "ld-linux-x86-64.so.2";
  EXPECT_EQ(loaders, 1);
}

TEST(LoaderList, ReadsStaticBinaries) {
  for (const char* text : {"\tstatically linked\n", "\tnot a dynamic executable\n"}) {
    auto list = parse_loader_list(text);
    ASSERT_TRUE(list) << text;
    EXPECT_TRUE(list->is_static);
    EXPECT_TRUE(list->libraries.empty());
  }
}

TEST(LoaderList, RefusesMissingLibrariesAndWhatItCannotRead) {
  auto missing = parse_loader_list(std::string(kDebianLdd) + "\tlibfoo.so.1 => not found\n");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("libfoo.so.1 is not found"), std::string::npos);
  EXPECT_FALSE(parse_loader_list(""));
  EXPECT_FALSE(parse_loader_list("ldd: ./x: No such file or directory\n"));
  EXPECT_FALSE(parse_loader_list(
      "\tlibc.so.6 => relative/libc.so.6 (0x1)\n\t/lib64/ld-linux-x86-64.so.2 (0x2)\n"));
  // A dynamic binary always has a loader.
  EXPECT_FALSE(parse_loader_list("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n"));
}

TEST(Elf, AcceptsX8664ExecutablesOnly) {
  std::string header(64, '\0');
  header.replace(0, 4, "\177ELF");
  header[4] = 2;    // 64-bit
  header[5] = 1;    // little-endian
  header[16] = 3;   // ET_DYN (a PIE)
  header[18] = 62;  // EM_X86_64
  EXPECT_TRUE(check_x86_64_elf(header));
  std::string arm = header;
  arm[18] = static_cast<char>(183);  // EM_AARCH64
  EXPECT_FALSE(check_x86_64_elf(arm));
  std::string object = header;
  object[16] = 1;  // ET_REL
  EXPECT_FALSE(check_x86_64_elf(object));
  EXPECT_FALSE(check_x86_64_elf("#!/bin/sh\necho hi\n"));
  EXPECT_FALSE(check_x86_64_elf(""));
}

TEST(Plan, PutsTheScriptAtTheRootTheBinaryInBinAndLibrariesUnderTheirSonames) {
  auto list = parse_loader_list(kDebianLdd);
  ASSERT_TRUE(list);
  auto entries = plan_package("/build/bootstrap", *list);
  ASSERT_TRUE(entries) << entries.error().message;
  EXPECT_EQ(names(*entries),
            (std::vector<std::string>{"bin/", "bin/bootstrap", "bootstrap", "lib/",
                                      "lib/ld-linux-x86-64.so.2", "lib/libc.so.6",
                                      "lib/libcurl.so.4", "lib/libstdc++.so.6", "lib/libz.so.1"}));
  for (const auto& e : *entries) {
    if (e.name == "bootstrap") {
      EXPECT_EQ(e.mode, 0100755u);
      const auto& script = std::get<std::string>(e.content);
      EXPECT_TRUE(script.starts_with("#!/bin/sh\n"));
      EXPECT_NE(script.find("exec \"$LAMBDA_TASK_ROOT/lib/ld-linux-x86-64.so.2\" --library-path "
                            "\"$LAMBDA_TASK_ROOT/lib\" \"$LAMBDA_TASK_ROOT/bin/bootstrap\""),
                std::string::npos)
          << script;
    } else if (e.name == "bin/bootstrap") {
      EXPECT_EQ(e.mode, 0100755u);
      EXPECT_EQ(std::get<std::filesystem::path>(e.content), "/build/bootstrap");
    } else if (e.name == "lib/ld-linux-x86-64.so.2") {
      EXPECT_EQ(e.mode, 0100755u);  // the script executes it
    } else if (e.name.ends_with("/")) {
      EXPECT_EQ(e.mode, 040755u);
    } else {
      EXPECT_EQ(e.mode, 0100644u) << e.name;
    }
  }
}

TEST(Plan, PackagesAStaticBinaryAloneAsBootstrap) {
  auto entries = plan_package("/build/bootstrap", LoaderList{.is_static = true});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, "bootstrap");
  EXPECT_EQ((*entries)[0].mode, 0100755u);
  EXPECT_EQ(std::get<std::filesystem::path>((*entries)[0].content), "/build/bootstrap");
}

TEST(Plan, RefusesTwoFilesUnderOneSoname) {
  LoaderList list;
  list.libraries = {{"libz.so.1", "/a/libz.so.1", false},
                    {"libz.so.1", "/b/libz.so.1", false},
                    {"ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", true}};
  EXPECT_FALSE(plan_package("/build/bootstrap", list));
  list.libraries[1].path = "/a/libz.so.1";  // the same file twice is one entry
  auto entries = plan_package("/build/bootstrap", list);
  ASSERT_TRUE(entries);
  EXPECT_EQ(std::count_if(entries->begin(), entries->end(),
                          [](const ZipEntry& e) { return e.name == "lib/libz.so.1"; }),
            1);
}

TEST(Zip, IsDeterministicAndCarriesUnixModes) {
  auto dir = temp_dir();
  std::ofstream(dir / "lib.so") << "not really a library";
  std::vector<ZipEntry> entries = {{"bin/", 040755, std::string()},
                                   {"bootstrap", 0100755, std::string("#!/bin/sh\nexit 0\n")},
                                   {"lib/libx.so.1", 0100644, dir / "lib.so"}};
  ASSERT_TRUE(write_zip(entries, dir / "a.zip"));
  // Another file time, another time zone: the same bytes.
  std::filesystem::last_write_time(
      dir / "lib.so", std::filesystem::file_time_type::clock::now() - std::chrono::hours(50));
  ::setenv("TZ", "Asia/Kathmandu", 1);
  ::tzset();
  auto again = write_zip(entries, dir / "b.zip");
  ::unsetenv("TZ");
  ::tzset();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(read_file(dir / "a.zip"), read_file(dir / "b.zip"));

  int error = 0;
  zip_t* zip = zip_open((dir / "a.zip").c_str(), ZIP_RDONLY, &error);
  ASSERT_NE(zip, nullptr);
  ASSERT_EQ(zip_get_num_entries(zip, 0), 3);
  const std::uint32_t modes[] = {040755, 0100755, 0100644};
  for (zip_uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(zip_get_name(zip, i, 0), entries[i].name);
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    ASSERT_EQ(zip_file_get_external_attributes(zip, i, 0, &opsys, &attributes), 0);
    EXPECT_EQ(opsys, ZIP_OPSYS_UNIX);
    EXPECT_EQ(attributes >> 16, modes[i]) << entries[i].name;
  }
  zip_close(zip);
  std::filesystem::remove_all(dir);
}

TEST(Zip, NamesAMissingFileAndLeavesNoZip) {
  auto dir = temp_dir();
  auto written = write_zip({{"lib/libgone.so.1", 0100644, dir / "gone.so"}}, dir / "out.zip");
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("gone.so"), std::string::npos) << written.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.zip"));
  std::filesystem::remove_all(dir);
}

TEST(Ldd, ListsTheLoaderOfARealBinary) {
  auto printed = run_ldd("/bin/sh");
  ASSERT_TRUE(printed) << printed.error().message;
  auto list = parse_loader_list(*printed);
  ASSERT_TRUE(list) << *printed;
  EXPECT_FALSE(list->is_static);
  bool libc = false, loader = false;
  for (const auto& l : list->libraries) {
    libc = libc || l.soname == "libc.so.6";
    loader = loader || l.loader;
  }
  EXPECT_TRUE(libc) << *printed;
  EXPECT_TRUE(loader) << *printed;
}

}  // namespace
}  // namespace orderflow::cli::package
