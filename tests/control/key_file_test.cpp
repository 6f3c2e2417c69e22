#include "ferry/control/key_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

// A secret no message may ever show, in part or whole.
const std::string secret_hex = "5ec2e7c0ffee5ec2e7c0ffee5ec2e7c0ffee5ec2e7c0ffee5ec2e7c0ffee5ec2";

class KeyFile : public ::testing::Test {
 protected:
  // Writes `text` to <dir>/<name> with `mode`, and returns the path.
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = _dir.path() + "/" + name;
    std::ofstream(path) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  testing::temp_dir _dir{"key-file"};
};

TEST_F(KeyFile, ASecretMayBeReadByItsOwnerAndGroupOnly) {
  const std::string owner = write("owner.key", secret_hex, 0600);
  const std::string group = write("group.key", secret_hex, 0640);
  const std::string others = write("others.key", secret_hex, 0644);
  EXPECT_TRUE(read_key_file(owner, key_secrecy::secret).ok());
  auto read = read_key_file(group, key_secrecy::secret);
  ASSERT_TRUE(read.ok()) << read.err().message();
  EXPECT_EQ(*read, secret_hex);
  auto refused = read_key_file(others, key_secrecy::secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(),
            others + ": readable by others (mode 0644) but it holds a secret: chmod 0640 " + others);
  // Public keys may be read by anyone.
  EXPECT_TRUE(read_key_file(others, key_secrecy::public_keys).ok());
}

TEST_F(KeyFile, NoKeyFileMayBeWritableByGroupOrOthers) {
  const std::string world = write("world.txt", "00", 0666);
  auto refused = read_key_file(world, key_secrecy::public_keys);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), world + ": writable by its group or others (mode 0666), so someone else could "
                                             "replace the keys: chmod 0644 " + world);
  const std::string group = write("group.key", secret_hex, 0660);
  refused = read_key_file(group, key_secrecy::secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), group + ": writable by its group or others (mode 0660), so someone else could "
                                             "replace the keys: chmod 0640 " + group);
}

TEST_F(KeyFile, SymbolicLinksAndOtherFilesAreRefused) {
  const std::string target = write("target.key", secret_hex, 0600);
  const std::string link = _dir.path() + "/link.key";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto refused = read_key_file(link, key_secrecy::secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(),
            link + ": is a symbolic link; name the file itself (whoever owns a link can point it at other keys)");
  refused = read_key_file(_dir.path(), key_secrecy::public_keys);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), _dir.path() + ": not a regular file");
  // A FIFO must be refused, not waited on.
  const std::string fifo = _dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  refused = read_key_file(fifo, key_secrecy::secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), fifo + ": not a regular file");
  refused = read_key_file(_dir.path() + "/missing.key", key_secrecy::secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), _dir.path() + "/missing.key: cannot open: No such file or directory");
}

TEST_F(KeyFile, AFileOwnedBySomeoneElseIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
  const std::string path = write("nobody.key", secret_hex, 0600);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto refused = read_key_file(path, key_secrecy::secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), path + ": owned by uid 65534; a key file must belong to root or to the user "
                                            "ferryd runs as (uid 0): chown 0 " + path);
  // Its group does not matter.
  ASSERT_EQ(::chown(path.c_str(), 0, 65534), 0);
  EXPECT_TRUE(read_key_file(path, key_secrecy::secret).ok());
}

TEST_F(KeyFile, ALargeFileIsNoKeyFile) {
  const std::string path = write("large.key", std::string(64 * 1024 + 1, '0'), 0600);
  auto refused = read_key_file(path, key_secrecy::secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.err().message(), path + ": larger than 64 KiB; not a key file");
}

TEST_F(KeyFile, ReadsALinkKey) {
  const std::string path = write("link.key",
                                 "# guardian-a, key 1\n0x" + secret_hex.substr(0, 32) + "  # first half\n" +
                                     secret_hex.substr(32) + "\n",
                                 0600);
  auto key = read_link_key(path);
  ASSERT_TRUE(key.ok()) << key.err().message();
  ASSERT_EQ(key->size(), 32u);
  EXPECT_EQ((*key)[0], std::byte{0x5e});
  EXPECT_EQ((*key)[31], std::byte{0xc2});
  EXPECT_EQ(read_link_key(write("16.key", std::string(32, 'a'), 0600))->size(), 16u);
  EXPECT_EQ(read_link_key(write("64.key", std::string(128, 'A'), 0600))->size(), 64u);
}

TEST_F(KeyFile, LinkKeyMistakesAreNamedWithoutTheSecret) {
  const auto refused = [&](const std::string& name, const std::string& text, mode_t mode = 0600) {
    auto key = read_link_key(write(name, text, mode));
    EXPECT_FALSE(key.ok()) << name;
    const std::string message = key.ok() ? std::string() : key.err().message();
    // Neither the secret nor any long piece of it.
    for (std::size_t at = 0; at + 8 <= secret_hex.size(); ++at) {
      EXPECT_EQ(message.find(secret_hex.substr(at, 8)), std::string::npos) << message;
    }
    return message;
  };
  EXPECT_EQ(refused("short.key", secret_hex.substr(0, 30)),
            _dir.path() + "/short.key: 15 bytes; a link key is 16 to 64 bytes (32 to 128 hex digits)");
  EXPECT_EQ(refused("long.key", secret_hex + secret_hex + "00"),
            _dir.path() + "/long.key: more than 64 bytes; a link key is 16 to 64 bytes");
  EXPECT_EQ(refused("odd.key", secret_hex + "0"),
            _dir.path() + "/odd.key: an odd number of hex digits; a key is whole bytes, two digits each");
  EXPECT_EQ(refused("typo.key", "# key\n" + secret_hex.substr(0, 20) + "g" + secret_hex.substr(21)),
            _dir.path() +
                "/typo.key: line 2: not a hex digit; a link key file holds hex digits, whitespace and '#' comments");
  EXPECT_EQ(refused("empty.key", "# nothing yet\n"),
            _dir.path() + "/empty.key: 0 bytes; a link key is 16 to 64 bytes (32 to 128 hex digits)");
  EXPECT_EQ(refused("open.key", secret_hex, 0604),
            _dir.path() + "/open.key: readable by others (mode 0604) but it holds a secret: chmod 0600 " + _dir.path() +
                "/open.key");
}

TEST_F(KeyFile, ReadsGuardianAddresses) {
  const std::string a(40, 'a');
  const std::string path = write("set.txt", "# guardian set 4\n0x" + a + "\n\n  " + std::string(40, 'B') +
                                                "  # second\n",
                                 0644);
  auto keys = read_guardian_keys(path);
  ASSERT_TRUE(keys.ok()) << keys.err().message();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0][0], std::byte{0xaa});
  EXPECT_EQ((*keys)[1][19], std::byte{0xbb});
  auto bad = read_guardian_keys(write("bad.txt", "0x" + a + "\n0x" + a.substr(2) + "\n", 0644));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.err().message(),
            _dir.path() +
                "/bad.txt: line 2: expected a 20-byte guardian address (40 hex digits, \"0x\" first allowed)");
  auto empty = read_guardian_keys(write("empty.txt", "# none\n", 0644));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.err().message(), _dir.path() + "/empty.txt: holds no guardian address (one a line expected)");
  auto writable = read_guardian_keys(write("writable.txt", a + "\n", 0664));
  ASSERT_FALSE(writable.ok());
  EXPECT_NE(writable.err().message().find("writable by its group or others (mode 0664)"), std::string::npos);
}

}  // namespace
}  // namespace ferry::ctl
