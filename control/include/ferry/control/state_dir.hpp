#pragma once
// ferry's state directory (default /var/lib/ferry): what ferryd keeps between runs, such as replay windows and
// learned keys. ferryd trusts what it reads back from there, so the directory is checked as key files are: only
// root or the user ferryd runs as may change it, or anything on the way to it.

#include <string>

#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// Opens the state directory at `path` (absolute, or relative to the working directory), creating it with mode 0700
// when it is missing; the directories above it must exist. Refuses, with a message naming `path`, the problem and
// the fix (as key files' messages do):
//   - a symbolic link ("is a symbolic link; name the directory itself"), or anything but a directory;
//   - a directory owned by anyone but root or `owner_uid` ("chown OWNER_UID PATH"), or owned by root when
//     `owner_uid` is not 0 (the user ferryd runs as could not write it);
//   - a directory its group or others may write ("chmod 0700 PATH"), or one its owner may not read, write and enter;
//   - a directory above it that others may write without the sticky bit, or that belongs to anyone but root or
//     `owner_uid`: whoever can write there can put another directory in its place.
// Symbolic links above the state directory are followed, each checked as it is met. When the process is root and
// `owner_uid` is not 0, a directory it creates is given to owner_uid:owner_gid, so that it can still write it after
// dropping root.
// owner_uid, owner_gid: the user and group ferryd runs as after dropping root; its effective ids when it does not.
// Returns the directory's absolute path with the links above it resolved: nobody but root and `owner_uid` can
// change what that path names, so it may be used by name afterwards.
platform::result<std::string> open_state_dir(const std::string& path, unsigned owner_uid, unsigned owner_gid);

}  // namespace ferry::ctl
