// The guardian set upgrade file: what it holds comes back as written, what is damaged is said and left out, and
// it is replaced whole with mode 0600. (That its VAAs are verified again at start is RouterTest's.)

#include "ferry/control/upgrade_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (const unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

class UpgradeFileTest : public ::testing::Test {
 protected:
  testing::temp_dir _dir{"upgrades"};
  std::string _path = _dir.path() + "/guardian-set-upgrades";
};

TEST_F(UpgradeFileTest, WhatIsWrittenIsReadBack) {
  const std::vector<stored_upgrade> upgrades = {{1700000000, bytes_of({0x01, 0xab, 0x00})}, {42, bytes_of({0xff})}};
  ASSERT_TRUE(write_upgrade_file(_path, upgrades).ok());
  struct stat st {};
  ASSERT_EQ(::stat(_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(::access((_path + ".new").c_str(), F_OK), 0);
  auto read = read_upgrade_file(_path, ::geteuid());
  ASSERT_TRUE(read.ok()) << read.err().message();
  ASSERT_EQ(read->upgrades.size(), 2u);
  EXPECT_TRUE(read->problems.empty());
  EXPECT_EQ(read->upgrades[0].learned_at, 1700000000u);
  EXPECT_EQ(read->upgrades[0].vaa, upgrades[0].vaa);
  EXPECT_EQ(read->upgrades[1].vaa, upgrades[1].vaa);
  EXPECT_EQ(format_upgrade_file(upgrades), "ferry guardian-set-upgrades 1\n1700000000 01ab00\n42 ff\n");
  // Written again: replaced whole, a leftover .new notwithstanding.
  std::ofstream(_path + ".new") << "left by a crash";
  ASSERT_TRUE(write_upgrade_file(_path, {upgrades[1]}).ok());
  read = read_upgrade_file(_path, ::geteuid());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->upgrades.size(), 1u);
}

TEST_F(UpgradeFileTest, NoFileIsNoUpgrades) {
  auto read = read_upgrade_file(_path, ::geteuid());
  ASSERT_TRUE(read.ok()) << read.err().message();
  EXPECT_TRUE(read->upgrades.empty());
  EXPECT_TRUE(read->problems.empty());
}

TEST_F(UpgradeFileTest, DamagedLinesAreSaidAndLeftOut) {
  const upgrade_file_contents c = parse_upgrade_file(
      "ferry guardian-set-upgrades 1\n12 0a0b\nnospace\nx1 00\n13 0g\n14 abc\n\n15 " +
      std::string(2 * 22027 + 2, 'a') + "\n16 0c");
  ASSERT_EQ(c.upgrades.size(), 2u);
  EXPECT_EQ(c.upgrades[0].vaa, bytes_of({0x0a, 0x0b}));
  EXPECT_EQ(c.upgrades[1].learned_at, 16u) << "a last line without its newline";
  ASSERT_EQ(c.problems.size(), 5u);
  EXPECT_NE(c.problems[0].find("line 3:"), std::string::npos) << c.problems[0];
  EXPECT_NE(c.problems[4].find("more than the largest upgrade VAA"), std::string::npos) << c.problems[4];
}

TEST_F(UpgradeFileTest, AnotherFormatOrTooManyEntriesGivesNothing) {
  EXPECT_TRUE(parse_upgrade_file("").upgrades.empty());
  EXPECT_EQ(parse_upgrade_file("ferry guardian-set-upgrades 2\n1 00\n").problems.size(), 1u);
  std::string many = "ferry guardian-set-upgrades 1\n";
  for (std::size_t i = 0; i <= max_upgrade_file_entries; ++i) many += "1 00\n";
  const upgrade_file_contents c = parse_upgrade_file(many);
  EXPECT_TRUE(c.upgrades.empty());
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_NE(c.problems[0].find("more than 64 entries"), std::string::npos);
}

TEST_F(UpgradeFileTest, AFileOthersCouldWriteOrALinkIsRefused) {
  ASSERT_TRUE(write_upgrade_file(_path, {}).ok());
  ASSERT_EQ(::chmod(_path.c_str(), 0660), 0);
  auto read = read_upgrade_file(_path, ::geteuid());
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.err().message().find("chmod 0600 " + _path), std::string::npos) << read.err().message();
  ASSERT_EQ(::chmod(_path.c_str(), 0600), 0);
  const std::string link = _dir.path() + "/link";
  ASSERT_EQ(::symlink(_path.c_str(), link.c_str()), 0);
  read = read_upgrade_file(link, ::geteuid());
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.err().message().find("symbolic link"), std::string::npos) << read.err().message();
  ASSERT_EQ(::mkdir((_dir.path() + "/dir").c_str(), 0700), 0);
  EXPECT_FALSE(read_upgrade_file(_dir.path() + "/dir", ::geteuid()).ok());
}

}  // namespace
}  // namespace ferry::ctl
