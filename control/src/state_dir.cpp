#include "ferry/control/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/platform/files.hpp"
#include "write_access.hpp"

namespace ferry::ctl {

namespace {

constexpr int max_links = 40;  // as the kernel's own path walk (ELOOP)

// The components of a path, without empty ones (from "//" or a trailing "/").
std::deque<std::string> split(std::string_view path) {
  std::deque<std::string> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// The directories walked so far from "/", each open (O_PATH) and checked: the walk looks names up only in these.
class walk {
 public:
  explicit walk(std::string path) : _path(std::move(path)) {}

  platform::result<void> start(unsigned owner_uid) {
    const int fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return platform::error(_path + ": cannot open /: " + std::strerror(errno));
    return enter(platform::descriptor(fd), "", owner_uid);
  }

  int top() const noexcept { return _dirs.back().get(); }

  // The absolute path of the innermost directory, or of `name` in it.
  std::string where(std::string_view name = {}) const {
    std::string text;
    for (const std::string& n : _names) text += "/" + n;
    if (!name.empty()) text += "/" + std::string(name);
    return text.empty() ? "/" : text;
  }

  void up() {
    if (_dirs.size() == 1) return;  // "/.." is "/"
    _dirs.pop_back();
    _names.pop_back();
  }

  void to_root() {
    while (_dirs.size() > 1) up();
  }

  // Descends into `name`, a directory in top().
  platform::result<void> down(const std::string& name, unsigned owner_uid) {
    const int fd = ::openat(top(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return platform::error(_path + ": cannot open " + where(name) + ": " + std::strerror(errno));
    return enter(platform::descriptor(fd), name, owner_uid);
  }

 private:
  // Checks a directory above the state directory, through its descriptor, and walks into it.
  platform::result<void> enter(platform::descriptor dir, const std::string& name, unsigned owner_uid) {
    struct stat info {};
    const std::string shown = where(name);
    if (::fstat(dir.get(), &info) != 0) {
      return platform::error(_path + ": cannot stat " + shown + ": " + std::strerror(errno));
    }
    const mode_t mode = info.st_mode & 07777;
    if ((mode & S_IWOTH) != 0 && (mode & S_ISVTX) == 0) {
      return platform::error(_path + ": the directory " + shown + " above it is writable by others without the "
                             "sticky bit (mode " + octal(mode) + "), so anyone could put another directory in its "
                             "place: chmod " + octal(mode & ~mode_t{S_IWOTH}) + " " + shown);
    }
    if (info.st_uid != 0 && info.st_uid != owner_uid) {
      return platform::error(_path + ": the directory " + shown + " above it belongs to uid " +
                             std::to_string(info.st_uid) + ", who could put another directory in its place: keep "
                             "the state directory under directories that belong to root or to the user ferryd runs "
                             "as (uid " + std::to_string(owner_uid) + ")");
    }
    _dirs.push_back(std::move(dir));
    if (!name.empty()) _names.push_back(name);
    return {};
  }

  std::string _path;  // as the caller named it, for messages
  std::vector<platform::descriptor> _dirs;
  std::vector<std::string> _names;  // of _dirs after "/"
};

// The checks of the state directory itself, through what fstat said of it.
platform::result<void> check_state_dir(const std::string& path, const struct stat& info, unsigned owner_uid) {
  if (S_ISLNK(info.st_mode)) {
    return platform::error(path + ": is a symbolic link; name the directory itself (whoever owns a link can point "
                                  "it elsewhere)");
  }
  if (!S_ISDIR(info.st_mode)) return platform::error(path + ": not a directory");
  auto writers = check_write_access(path, info, owner_uid, {"the state directory", "change ferry's state", 0700});
  if (!writers) return std::move(writers).err();
  if (owner_uid != 0) {
    const std::string owner = std::to_string(owner_uid);
    if (info.st_uid == 0) {
      return platform::error(path + ": owned by root, but ferryd runs as uid " + owner +
                             ", which could not write its state there: chown " + owner + " " + path);
    }
    const mode_t mode = info.st_mode & 07777;
    if ((mode & S_IRWXU) != S_IRWXU) {
      return platform::error(path + ": its owner may not read, write and enter it (mode " + octal(mode) +
                             "): chmod 0700 " + path);
    }
  }
  return {};
}

// Creates the state directory `name` in `parent`: false when it appeared meanwhile (to be checked as found).
platform::result<bool> create(const std::string& path, int parent, const std::string& name, unsigned owner_uid,
                              unsigned owner_gid) {
  if (::mkdirat(parent, name.c_str(), 0700) != 0) {
    if (errno == EEXIST) return false;
    return platform::error(path + ": cannot create: " + std::strerror(errno));
  }
  const platform::descriptor dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) return platform::error(path + ": cannot open what was created: " + std::strerror(errno));
  if (::fchmod(dir.get(), 0700) != 0) {  // the umask may have taken bits away
    return platform::error(path + ": cannot chmod 0700: " + std::strerror(errno));
  }
  if (::geteuid() == 0 && owner_uid != 0 && ::fchown(dir.get(), owner_uid, owner_gid) != 0) {
    return platform::error(path + ": cannot give it to uid " + std::to_string(owner_uid) + ": " +
                           std::strerror(errno));
  }
  return true;
}

}  // namespace

platform::result<std::string> open_state_dir(const std::string& path, unsigned owner_uid, unsigned owner_gid) {
  if (path.empty()) return platform::error("no state directory given; expected a path such as /var/lib/ferry");
  std::string absolute = path;
  if (path.front() != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) {
      return platform::error(path + ": cannot find the working directory it is relative to: " + std::strerror(errno));
    }
    absolute = std::string(cwd) + "/" + path;
  }
  std::deque<std::string> todo = split(absolute);
  if (todo.empty() || todo.back() == "." || todo.back() == "..") {
    return platform::error(path + ": name the state directory itself (a path ending in its name, not / . or ..)");
  }

  walk dirs(path);
  if (auto started = dirs.start(owner_uid); !started) return std::move(started).err();
  int links = 0;
  // Every name but the last is a directory above the state directory, or a link to follow.
  while (todo.size() > 1) {
    const std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      dirs.up();
      continue;
    }
    struct stat info {};
    if (::fstatat(dirs.top(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        return platform::error(path + ": the directory " + dirs.where(name) + " above it does not exist; create "
                                      "it first (ferryd creates only the state directory itself)");
      }
      return platform::error(path + ": cannot look at " + dirs.where(name) + ": " + std::strerror(errno));
    }
    if (S_ISLNK(info.st_mode)) {
      // A link in a directory that passed its checks: only root or owner_uid could have put it there.
      if (++links > max_links) return platform::error(path + ": too many symbolic links on the way to it");
      std::string target(PATH_MAX, '\0');
      const ssize_t size = ::readlinkat(dirs.top(), name.c_str(), target.data(), target.size());
      if (size < 0) {
        return platform::error(path + ": cannot read the link " + dirs.where(name) + ": " + std::strerror(errno));
      }
      target.resize(static_cast<std::size_t>(size));
      std::deque<std::string> parts = split(target);
      todo.insert(todo.begin(), parts.begin(), parts.end());
      if (!target.empty() && target.front() == '/') dirs.to_root();
      continue;
    }
    if (!S_ISDIR(info.st_mode)) {
      return platform::error(path + ": " + dirs.where(name) + " above it is not a directory");
    }
    if (auto entered = dirs.down(name, owner_uid); !entered) return std::move(entered).err();
  }

  const std::string& name = todo.back();
  struct stat info {};
  for (int attempt = 0;; ++attempt) {
    if (::fstatat(dirs.top(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) break;
    if (errno != ENOENT || attempt > 0) return platform::error(path + ": cannot stat: " + std::strerror(errno));
    auto created = create(path, dirs.top(), name, owner_uid, owner_gid);
    if (!created) return std::move(created).err();
  }
  if (auto checked = check_state_dir(path, info, owner_uid); !checked) return std::move(checked).err();
  return dirs.where(name);
}

}  // namespace ferry::ctl
