#include "ferry/platform/privileges.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::platform {
namespace {

// Names the root-only file that Privileges.ChildDropsToNobody must not be able to read; set only in the child that
// Privileges.DropsRootForGoodInAChild starts.
constexpr const char* child_variable = "FERRY_PRIVILEGES_CHILD";
constexpr const char* child_test = "Privileges.ChildDropsToNobody";

TEST(Privileges, FindsRootByNameAndByUid) {
  for (const std::string_view name : {"root", "0"}) {
    auto who = find_identity(name, "");
    ASSERT_TRUE(who.ok()) << name << ": " << who.err().message();
    EXPECT_EQ(who->uid, 0u) << name;
    EXPECT_EQ(who->gid, 0u) << name;
    EXPECT_EQ(who->user, "root") << name;
  }
}

TEST(Privileges, FindsNobodyAndItsPrimaryGroup) {
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody' on this system";
  auto who = find_identity("nobody", "");
  ASSERT_TRUE(who.ok()) << who.err().message();
  EXPECT_EQ(who->uid, nobody->pw_uid);
  EXPECT_EQ(who->gid, nobody->pw_gid);
  EXPECT_EQ(who->user, "nobody");
  // By number, the database still names the user.
  auto by_uid = find_identity(std::to_string(nobody->pw_uid), "");
  ASSERT_TRUE(by_uid.ok()) << by_uid.err().message();
  EXPECT_EQ(by_uid->uid, nobody->pw_uid);
  EXPECT_EQ(by_uid->gid, nobody->pw_gid);
  EXPECT_EQ(by_uid->user, "nobody");
}

TEST(Privileges, AGroupOverridesThePrimaryOne) {
  auto by_name = find_identity("root", "root");
  ASSERT_TRUE(by_name.ok()) << by_name.err().message();
  EXPECT_EQ(by_name->gid, 0u);
  auto by_gid = find_identity("root", "65534");
  ASSERT_TRUE(by_gid.ok()) << by_gid.err().message();
  EXPECT_EQ(by_gid->uid, 0u);
  EXPECT_EQ(by_gid->gid, 65534u);
  EXPECT_EQ(by_gid->user, "root");
  if (const group* nogroup = ::getgrgid(65534); nogroup != nullptr) {
    auto named = find_identity("0", nogroup->gr_name);
    ASSERT_TRUE(named.ok()) << named.err().message();
    EXPECT_EQ(named->gid, 65534u);
  }
}

TEST(Privileges, UnknownNamesAreRefusedClearly) {
  auto user = find_identity("ferry-no-such-user", "");
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.err().message(),
            "no user 'ferry-no-such-user' on this system; expected a user name or a numeric uid");
  auto group = find_identity("root", "ferry-no-such-group");
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.err().message(),
            "no group 'ferry-no-such-group' on this system; expected a group name or a numeric gid");
  auto empty = find_identity("", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.err().message(), "no user given; expected a user name or a numeric uid");
  auto large = find_identity("4294967295", "");  // (uid_t)-1 means "unchanged" to setresuid: no uid
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.err().message(), "'4294967295' is out of range; expected a user name or a numeric uid");
  large = find_identity("root", "99999999999");
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.err().message(), "'99999999999' is out of range; expected a group name or a numeric gid");
}

TEST(Privileges, AUidTheDatabaseDoesNotKnowNeedsAGroup) {
  constexpr unsigned unknown = 3999999999u;
  if (::getpwuid(unknown) != nullptr) GTEST_SKIP() << "uid " << unknown << " is in the user database here";
  auto alone = find_identity(std::to_string(unknown), "");
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.err().message(),
            "uid 3999999999 is not in the user database, so it has no primary group: name a group too");
  auto with_group = find_identity(std::to_string(unknown), "3999999999");
  ASSERT_TRUE(with_group.ok()) << with_group.err().message();
  EXPECT_EQ(with_group->uid, unknown);
  EXPECT_EQ(with_group->gid, unknown);
  EXPECT_EQ(with_group->user, "");
}

TEST(Privileges, BecomingRootIsNoDrop) {
  // Refused before anything changes, so it runs in this process.
  auto dropped = drop_privileges(identity{0, 0, "root"});
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.err().message(), "cannot become user 'root' (uid 0, gid 0): uid 0 is root, and keeping it drops "
                                     "nothing; name an unprivileged user");
}

// The parent's side: this process must stay root, so the drop happens in a child, a new run of this test binary
// that runs only ChildDropsToNobody (posix_spawn rather than fork: the aarch64 leg runs tests under qemu-user,
// where fork is not to be relied on, and a new program starts the same natively and emulated).
TEST(Privileges, DropsRootForGoodInAChild) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop it";
  const ferry::testing::temp_dir dir("privileges");
  const std::string& scratch = dir.path();
  ASSERT_EQ(::chmod(scratch.c_str(), 0755), 0);  // so that the file's own mode is what refuses the child
  const std::string secret = scratch + "/root-only";
  std::ofstream(secret) << "root's\n";
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);

  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  ASSERT_FALSE(ec) << "/proc/self/exe: " << ec.message();
  std::vector<std::string> argv = ferry::testing::emulator_prefix(FERRY_TEST_EMULATOR);
  argv.push_back(self);
  argv.push_back(std::string("--gtest_filter=") + child_test);
  argv.emplace_back("--gtest_output=");  // not over this run's report, should one be written
  // This environment without gtest's sharding (which could leave the one test out), and with the file to try.
  std::vector<std::string> environment;
  for (char** v = environ; *v != nullptr; ++v) {
    const std::string_view variable(*v);
    if (!variable.starts_with("GTEST_")) environment.emplace_back(variable);
  }
  environment.push_back(std::string(child_variable) + "=" + secret);

  ferry::testing::child_process child(argv, scratch + "/child", environment);
  ASSERT_TRUE(child.started()) << "cannot start " << self;
  const auto code = child.wait_for(std::chrono::seconds(60));
  ASSERT_TRUE(code.has_value()) << "the child did not finish within 60 s:\n" << child.out() << child.err();
  EXPECT_EQ(*code, 0) << child.out() << child.err();
  // It ran, rather than skipped for want of the variable.
  EXPECT_NE(child.out().find(std::string("[       OK ] ") + child_test), std::string::npos) << child.out();
}

// The child's side, run only by DropsRootForGoodInAChild.
TEST(Privileges, ChildDropsToNobody) {
  const char* secret = std::getenv(child_variable);
  if (secret == nullptr) GTEST_SKIP() << "runs only in the child that DropsRootForGoodInAChild starts";
  ASSERT_EQ(::geteuid(), 0u);
  auto who = find_identity("65534", "");
  ASSERT_TRUE(who.ok()) << who.err().message();
  ASSERT_FALSE(who->user.empty());
  // The groups the database gives the user, as the drop must leave them.
  std::vector<gid_t> expected(256);
  int count = static_cast<int>(expected.size());
  ASSERT_GE(::getgrouplist(who->user.c_str(), who->gid, expected.data(), &count), 0);
  expected.resize(static_cast<std::size_t>(count));
  std::sort(expected.begin(), expected.end());

  auto dropped = drop_privileges(*who);
  ASSERT_TRUE(dropped.ok()) << dropped.err().message();

  uid_t ru = 0, eu = 0, su = 0;
  ASSERT_EQ(::getresuid(&ru, &eu, &su), 0);
  EXPECT_EQ(ru, 65534u);
  EXPECT_EQ(eu, 65534u);
  EXPECT_EQ(su, 65534u);
  gid_t rg = 0, eg = 0, sg = 0;
  ASSERT_EQ(::getresgid(&rg, &eg, &sg), 0);
  EXPECT_EQ(rg, who->gid);
  EXPECT_EQ(eg, who->gid);
  EXPECT_EQ(sg, who->gid);
  std::vector<gid_t> groups(static_cast<std::size_t>(::getgroups(0, nullptr)));
  ASSERT_EQ(::getgroups(static_cast<int>(groups.size()), groups.data()), static_cast<int>(groups.size()));
  std::sort(groups.begin(), groups.end());
  EXPECT_EQ(groups, expected);
  EXPECT_EQ(std::count(groups.begin(), groups.end(), 0u), 0) << "root's group kept";

  errno = 0;
  EXPECT_NE(::setuid(0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::setgid(0), 0);
  const int fd = ::open(secret, O_RDONLY | O_CLOEXEC);
  EXPECT_LT(fd, 0) << secret << " is still readable";
  EXPECT_EQ(errno, EACCES);
  if (fd >= 0) ::close(fd);

  // No longer root: becoming the same user again changes nothing, and says so; anyone else is refused.
  std::vector<std::string> notes;
  auto again = drop_privileges(*who, notes);
  ASSERT_TRUE(again.ok()) << again.err().message();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "not started as root: already running as user '" + who->user + "' (uid 65534, gid " +
                          std::to_string(who->gid) + "), nothing to drop");
  auto other = drop_privileges(identity{1, 1, ""});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.err().message(), "cannot become uid 1, gid 1: running as uid 65534 (gid " + std::to_string(who->gid) +
                                       "), not root, so it cannot change its user or group; start ferryd as root, or "
                                       "as that user");
}

}  // namespace
}  // namespace ferry::platform
