#include "ferry/control/state_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

class StateDir : public ::testing::Test {
 protected:
  // Makes the directory <dir>/<name> with exactly `mode`, and returns its path.
  std::string make(const std::string& name, mode_t mode) {
    const std::string path = _dir.path() + "/" + name;
    EXPECT_EQ(::mkdir(path.c_str(), 0700), 0) << path;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0) << path;
    return path;
  }

  static struct stat stat_of(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info;
  }

  // The ids ferryd would run as without dropping root.
  const unsigned _uid = ::geteuid();
  const unsigned _gid = ::getegid();
  testing::temp_dir _dir{"state-dir"};
};

TEST_F(StateDir, AMissingDirectoryIsCreatedWithMode0700) {
  const std::string path = _dir.path() + "/state";
  const mode_t old_umask = ::umask(0);  // a permissive umask must not leak into the mode
  auto opened = open_state_dir(path, _uid, _gid);
  ::umask(old_umask);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  EXPECT_EQ(*opened, path);
  const struct stat info = stat_of(path);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  EXPECT_EQ(info.st_uid, _uid);
  // Opened again, it is the good directory it was.
  opened = open_state_dir(path + "/", _uid, _gid);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  EXPECT_EQ(*opened, path);
}

TEST_F(StateDir, AnExistingGoodDirectoryIsAccepted) {
  const std::string tight = make("tight", 0700);
  auto opened = open_state_dir(tight, _uid, _gid);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  EXPECT_EQ(*opened, tight);
  // Others may read it: it holds nothing secret, only what nobody else may change.
  const std::string readable = make("readable", 0755);
  opened = open_state_dir(readable, _uid, _gid);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  EXPECT_EQ(stat_of(readable).st_mode & 07777, 0755u);  // found, not changed
}

TEST_F(StateDir, ARelativePathStartsAtTheWorkingDirectory) {
  const std::string path = make("state", 0700);
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(_dir.path());
  auto opened = open_state_dir("./sub/../state", _uid, _gid);
  std::filesystem::current_path(before);
  ASSERT_FALSE(opened.ok());  // "sub" does not exist, even though ".." would skip it by name
  EXPECT_EQ(opened.err().message(), "./sub/../state: the directory " + _dir.path() +
                                        "/sub above it does not exist; create it first (ferryd creates only the state "
                                        "directory itself)");
  std::filesystem::current_path(_dir.path());
  opened = open_state_dir("state", _uid, _gid);
  std::filesystem::current_path(before);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  EXPECT_EQ(*opened, path);
}

TEST_F(StateDir, ADirectoryOthersMayWriteIsRefusedWithTheFix) {
  for (const mode_t mode : {mode_t{0770}, mode_t{0707}, mode_t{0720}, mode_t{0777}}) {
    const std::string path = make("state-" + std::to_string(mode), mode);
    auto refused = open_state_dir(path, _uid, _gid);
    ASSERT_FALSE(refused.ok()) << path;
    char shown[8];
    std::snprintf(shown, sizeof shown, "%04o", static_cast<unsigned>(mode));
    EXPECT_EQ(refused.err().message(), path + ": writable by its group or others (mode " + shown +
                                           "), so someone else could change ferry's state: chmod 0700 " + path);
    EXPECT_EQ(stat_of(path).st_mode & 07777, mode);  // refused, not changed
  }
}

TEST_F(StateDir, ASymbolicLinkIsRefused) {
  const std::string target = make("real", 0700);
  const std::string link = _dir.path() + "/state";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto refused = open_state_dir(link, _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(),
            link + ": is a symbolic link; name the directory itself (whoever owns a link can point it elsewhere)");
  // A dangling one too: it is not created through.
  const std::string dangling = _dir.path() + "/dangling";
  ASSERT_EQ(::symlink((_dir.path() + "/nowhere").c_str(), dangling.c_str()), 0);
  refused = open_state_dir(dangling, _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(),
            dangling + ": is a symbolic link; name the directory itself (whoever owns a link can point it elsewhere)");
  EXPECT_FALSE(std::filesystem::exists(_dir.path() + "/nowhere"));
}

TEST_F(StateDir, AFileIsRefused) {
  const std::string path = _dir.path() + "/state";
  std::ofstream(path) << "not a directory\n";
  auto refused = open_state_dir(path, _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), path + ": not a directory");
}

TEST_F(StateDir, ADirectoryOwnedBySomeoneElseIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  const std::string path = make("state", 0700);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto refused = open_state_dir(path, 0, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), path + ": owned by uid 65534; the state directory must belong to root or to the "
                                            "user ferryd runs as (uid 0): chown 0 " + path);
  // It is the directory of a ferryd that runs as 65534.
  auto opened = open_state_dir(path, 65534, 65534);
  EXPECT_TRUE(opened.ok()) << opened.err().message();
}

TEST_F(StateDir, ACreatedDirectoryIsGivenToTheUserFerrydWillRunAs) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  const std::string path = _dir.path() + "/state";
  auto opened = open_state_dir(path, 65534, 65533);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  const struct stat info = stat_of(path);
  EXPECT_EQ(info.st_uid, 65534u);
  EXPECT_EQ(info.st_gid, 65533u);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  // Created for root, it stays root's.
  const std::string own = _dir.path() + "/own";
  opened = open_state_dir(own, 0, 0);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  EXPECT_EQ(stat_of(own).st_uid, 0u);
}

TEST_F(StateDir, ADirectoryTheDroppedUserCouldNotWriteIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  const std::string roots = make("roots", 0700);
  auto refused = open_state_dir(roots, 65534, 65534);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), roots + ": owned by root, but ferryd runs as uid 65534, which could not write "
                                             "its state there: chown 65534 " + roots);
  const std::string read_only = make("read-only", 0500);
  ASSERT_EQ(::chown(read_only.c_str(), 65534, 65534), 0);
  refused = open_state_dir(read_only, 65534, 65534);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(),
            read_only + ": its owner may not read, write and enter it (mode 0500): chmod 0700 " + read_only);
}

TEST_F(StateDir, ParentsMustExistAndBeDirectories) {
  const std::string deep = _dir.path() + "/missing/state";
  auto refused = open_state_dir(deep, _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), deep + ": the directory " + _dir.path() +
                                         "/missing above it does not exist; create it first (ferryd creates only the "
                                         "state directory itself)");
  EXPECT_FALSE(std::filesystem::exists(_dir.path() + "/missing"));
  std::ofstream(_dir.path() + "/file") << "x\n";
  const std::string under_file = _dir.path() + "/file/state";
  refused = open_state_dir(under_file, _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), under_file + ": " + _dir.path() + "/file above it is not a directory");
  refused = open_state_dir("/", _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), "/: name the state directory itself (a path ending in its name, not / . or ..)");
  refused = open_state_dir("", _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), "no state directory given; expected a path such as /var/lib/ferry");
}

TEST_F(StateDir, AParentOthersMayWriteNeedsTheStickyBit) {
  const std::string open_parent = make("open", 0777);
  const std::string path = open_parent + "/state";
  auto refused = open_state_dir(path, _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), path + ": the directory " + open_parent + " above it is writable by others "
                                            "without the sticky bit (mode 0777), so anyone could put another "
                                            "directory in its place: chmod 0775 " + open_parent);
  EXPECT_FALSE(std::filesystem::exists(path));
  // With the sticky bit (as /tmp), only the owner of an entry may rename or remove it.
  ASSERT_EQ(::chmod(open_parent.c_str(), 01777), 0);
  auto opened = open_state_dir(path, _uid, _gid);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  // Its group writing it is allowed (as /var/mail's or /usr/local's often may).
  const std::string group_parent = make("group", 0770);
  opened = open_state_dir(group_parent + "/state", _uid, _gid);
  EXPECT_TRUE(opened.ok()) << opened.err().message();
}

TEST_F(StateDir, AParentOwnedBySomeoneElseIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  const std::string theirs = make("theirs", 0755);
  ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
  const std::string path = theirs + "/state";
  auto refused = open_state_dir(path, 0, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), path + ": the directory " + theirs + " above it belongs to uid 65534, who could "
                                            "put another directory in its place: keep the state directory under "
                                            "directories that belong to root or to the user ferryd runs as (uid 0)");
  // For a ferryd that runs as that user, it is its own directory.
  auto opened = open_state_dir(path, 65534, 65534);
  EXPECT_TRUE(opened.ok()) << opened.err().message();
}

TEST_F(StateDir, LinksAboveItAreFollowedAndChecked) {
  const std::string real = make("real", 0755);
  ASSERT_EQ(::symlink("real", (_dir.path() + "/relative").c_str()), 0);
  ASSERT_EQ(::symlink(real.c_str(), (_dir.path() + "/absolute").c_str()), 0);
  for (const char* link : {"/relative/state", "/absolute/state", "/absolute/../relative/./state"}) {
    auto opened = open_state_dir(_dir.path() + link, _uid, _gid);
    ASSERT_TRUE(opened.ok()) << link << ": " << opened.err().message();
    EXPECT_EQ(*opened, real + "/state") << link;  // where it is, links resolved
  }
  // Where a link leads is checked like any other way there.
  const std::string open_dir = make("open", 0777);
  ASSERT_EQ(::symlink(open_dir.c_str(), (_dir.path() + "/to-open").c_str()), 0);
  auto refused = open_state_dir(_dir.path() + "/to-open/state", _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().message().find("the directory " + open_dir + " above it is writable by others"),
            std::string::npos)
      << refused.err().message();
  // A loop ends.
  ASSERT_EQ(::symlink("loop-b", (_dir.path() + "/loop-a").c_str()), 0);
  ASSERT_EQ(::symlink("loop-a", (_dir.path() + "/loop-b").c_str()), 0);
  refused = open_state_dir(_dir.path() + "/loop-a/state", _uid, _gid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), _dir.path() + "/loop-a/state: too many symbolic links on the way to it");
}

}  // namespace
}  // namespace ferry::ctl
