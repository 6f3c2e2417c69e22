#include "ferry/platform/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::platform {

static_assert(sizeof(uid_t) == sizeof(unsigned) && sizeof(gid_t) == sizeof(unsigned),
              "identity holds ids as unsigned");

namespace {

constexpr std::size_t max_lookup_buffer = 1u << 20;

bool all_digits(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A uid or gid written in digits; nothing when out of range. (uid_t)-1 is no id: it means "unchanged" to the set*id
// calls.
std::optional<unsigned> parse_id(std::string_view text) noexcept {
  if (text.size() > 10) return std::nullopt;
  unsigned long long value = 0;
  for (const char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value >= 0xffffffffull) return std::nullopt;
  return static_cast<unsigned>(value);
}

struct user_entry {
  unsigned uid;
  unsigned gid;
  std::string name;
};

// Runs a get*_r lookup with a buffer that grows while the entry does not fit. Returns its result code and leaves
// `found` null when there is no entry.
template <class Entry, class Lookup>
int lookup_entry(Entry& entry, Entry*& found, std::vector<char>& buffer, Lookup lookup) {
  buffer.resize(16384);
  int rc = 0;
  while ((rc = lookup(&entry, buffer.data(), buffer.size(), &found)) == ERANGE && buffer.size() < max_lookup_buffer) {
    buffer.resize(buffer.size() * 2);
  }
  return rc;
}

// Some NSS modules report "no such entry" as one of these errors rather than as no result.
bool means_not_found(int rc) noexcept { return rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM; }

// The user database's entry for a name or a uid: nothing when there is none, an error when the lookup failed.
result<std::optional<user_entry>> user_entry_for(const std::string* name, uid_t uid, const std::string& what) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer;
  const int rc = lookup_entry(entry, found, buffer, [&](passwd* e, char* b, std::size_t n, passwd** r) {
    return name != nullptr ? ::getpwnam_r(name->c_str(), e, b, n, r) : ::getpwuid_r(uid, e, b, n, r);
  });
  if (means_not_found(rc) || (rc == 0 && found == nullptr)) return std::optional<user_entry>();
  if (rc != 0) return error(what + ": cannot look it up in the user database: " + std::strerror(rc));
  return std::optional<user_entry>(user_entry{found->pw_uid, found->pw_gid, found->pw_name});
}

// The gid of a group name in the group database; the same conventions as user_entry_for.
result<std::optional<unsigned>> gid_for(const std::string& name) {
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer;
  const int rc = lookup_entry(entry, found, buffer, [&](group* e, char* b, std::size_t n, group** r) {
    return ::getgrnam_r(name.c_str(), e, b, n, r);
  });
  if (means_not_found(rc) || (rc == 0 && found == nullptr)) return std::optional<unsigned>();
  if (rc != 0) return error("group '" + name + "': cannot look it up in the group database: " + std::strerror(rc));
  return std::optional<unsigned>(found->gr_gid);
}

// "user 'ferry' (uid 999, gid 999)", or "uid 1234 (gid 100)" for a uid without a name.
std::string describe(const identity& who) {
  const std::string ids = "uid " + std::to_string(who.uid) + ", gid " + std::to_string(who.gid);
  if (who.user.empty()) return ids;
  return "user '" + who.user + "' (" + ids + ")";
}

std::string three(unsigned real, unsigned effective, unsigned saved) {
  return std::to_string(real) + ", " + std::to_string(effective) + " and " + std::to_string(saved);
}

// The supplementary groups the group database gives `user` with primary group `gid`, sorted.
result<std::vector<gid_t>> groups_of(const std::string& user, gid_t gid) {
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    int count = static_cast<int>(groups.size());
    if (::getgrouplist(user.c_str(), gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      std::sort(groups.begin(), groups.end());
      return groups;
    }
    // Too small: count now holds the number needed (it can grow between calls).
    groups.resize(std::max(static_cast<std::size_t>(count), groups.size() * 2));
  }
  return error("cannot list the groups of user '" + user + "'");
}

// The supplementary groups the calling thread holds, sorted.
result<std::vector<gid_t>> current_groups() {
  const int count = ::getgroups(0, nullptr);
  if (count < 0) return error(std::string("getgroups: ") + std::strerror(errno));
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  const int got = ::getgroups(count, groups.data());
  if (got < 0) return error(std::string("getgroups: ") + std::strerror(errno));
  groups.resize(static_cast<std::size_t>(got));
  std::sort(groups.begin(), groups.end());
  return groups;
}

std::string list(const std::vector<gid_t>& groups) {
  if (groups.empty()) return "none";
  std::string text;
  for (const gid_t g : groups) text += (text.empty() ? "" : ",") + std::to_string(g);
  return text;
}

// Whether the calling thread holds any capability in its permitted or effective set. Asked of the kernel directly:
// glibc has no wrapper, and ferry does not link libcap for one question.
result<bool> holds_capabilities() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return error(std::string("capget: ") + std::strerror(errno));
  for (const auto& word : data) {
    if (word.permitted != 0 || word.effective != 0) return true;
  }
  return false;
}

// Checks that the switch to `who` took everywhere, with `groups` as the supplementary groups.
result<void> prove(const identity& who, const std::vector<gid_t>& groups) {
  uid_t ru = 0, eu = 0, su = 0;
  if (::getresuid(&ru, &eu, &su) != 0) return error(std::string("getresuid: ") + std::strerror(errno));
  if (ru != who.uid || eu != who.uid || su != who.uid) {
    return error("after setresuid the real, effective and saved uids are " + three(ru, eu, su) + ", not " +
                 std::to_string(who.uid));
  }
  gid_t rg = 0, eg = 0, sg = 0;
  if (::getresgid(&rg, &eg, &sg) != 0) return error(std::string("getresgid: ") + std::strerror(errno));
  if (rg != who.gid || eg != who.gid || sg != who.gid) {
    return error("after setresgid the real, effective and saved gids are " + three(rg, eg, sg) + ", not " +
                 std::to_string(who.gid));
  }
  auto held = current_groups();
  if (!held) return std::move(held).err();
  if (*held != groups) {
    return error("after setgroups the supplementary groups are " + list(*held) + ", not " + list(groups));
  }
  auto capable = holds_capabilities();
  if (!capable) return std::move(capable).err();
  if (*capable) {
    return error("capabilities are still permitted after setresuid (securebits keep them): root is not given up");
  }
  if (::setuid(0) == 0) return error("setuid(0) still succeeds after setresuid: root could be taken back");
  return {};
}

}  // namespace

result<identity> find_identity(std::string_view user, std::string_view group) {
  const std::string user_text(user);
  const std::string group_text(group);
  if (user.empty()) return error("no user given; expected a user name or a numeric uid");
  std::optional<unsigned> numeric_uid;
  if (all_digits(user)) {
    numeric_uid = parse_id(user);
    if (!numeric_uid) return error("'" + user_text + "' is out of range; expected a user name or a numeric uid");
  }
  auto found = numeric_uid ? user_entry_for(nullptr, *numeric_uid, "uid " + user_text)
                           : user_entry_for(&user_text, 0, "user '" + user_text + "'");
  if (!found) return std::move(found).err();
  const std::optional<user_entry>& entry = *found;
  if (!entry && !numeric_uid) {
    return error("no user '" + user_text + "' on this system; expected a user name or a numeric uid");
  }

  identity who{entry ? entry->uid : *numeric_uid, 0, entry ? entry->name : std::string()};
  if (group.empty()) {
    if (!entry) {
      return error("uid " + user_text + " is not in the user database, so it has no primary group: name a group too");
    }
    who.gid = entry->gid;
  } else if (all_digits(group)) {
    const std::optional<unsigned> gid = parse_id(group);
    if (!gid) return error("'" + group_text + "' is out of range; expected a group name or a numeric gid");
    who.gid = *gid;
  } else {
    auto gid = gid_for(group_text);
    if (!gid) return std::move(gid).err();
    if (!*gid) return error("no group '" + group_text + "' on this system; expected a group name or a numeric gid");
    who.gid = **gid;
  }
  return who;
}

result<void> drop_privileges(const identity& who) {
  std::vector<std::string> notes;
  return drop_privileges(who, notes);
}

result<void> drop_privileges(const identity& who, std::vector<std::string>& notes) {
  const std::string becoming = "cannot become " + describe(who);
  if (who.uid == 0) return error(becoming + ": uid 0 is root, and keeping it drops nothing; name an unprivileged user");
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0) {
    return error(becoming + ": cannot read the current ids: " + std::strerror(errno));
  }
  if (eu != 0 && ru != 0 && su != 0) {
    if (ru == who.uid && eu == who.uid && su == who.uid && rg == who.gid && eg == who.gid && sg == who.gid) {
      notes.push_back("not started as root: already running as " + describe(who) + ", nothing to drop");
      return {};
    }
    return error(becoming + ": running as uid " + std::to_string(eu) + " (gid " + std::to_string(eg) +
                 "), not root, so it cannot change its user or group; start ferryd as root, or as that user");
  }
  // Root set aside (effective uid not 0, real or saved uid 0) is taken back, so that all of it can be given up.
  if (eu != 0 && ::seteuid(0) != 0) {
    return error(becoming + ": seteuid(0) to take back root before giving it up: " + std::strerror(errno));
  }

  std::vector<gid_t> groups;
  if (!who.user.empty()) {
    auto listed = groups_of(who.user, who.gid);
    if (!listed) return std::move(listed).context(becoming);
    groups = std::move(*listed);
  }
  // The groups first, while root may still set them; then the gid, which needs root too; the uid last.
  if (::setgroups(groups.size(), groups.data()) != 0) {
    return error(becoming + ": setgroups(" + list(groups) + "): " + std::strerror(errno));
  }
  if (::setresgid(who.gid, who.gid, who.gid) != 0) {
    return error(becoming + ": setresgid(" + std::to_string(who.gid) + "): " + std::strerror(errno));
  }
  if (::setresuid(who.uid, who.uid, who.uid) != 0) {
    return error(becoming + ": setresuid(" + std::to_string(who.uid) + "): " + std::strerror(errno));
  }
  auto proved = prove(who, groups);
  if (!proved) return std::move(proved).context(becoming);
  return {};
}

}  // namespace ferry::platform
