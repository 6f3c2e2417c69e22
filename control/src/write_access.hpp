#pragma once
// Who could change a file or directory ferryd trusts: the one rule key files and the state directory share. Only
// its owner may write it, and that owner must be root or the user ferryd runs as, since anyone else who could write
// it could replace what ferryd reads from it.

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// `mode`'s permission bits as four octal digits ("0640"), as chmod takes them.
std::string octal(mode_t mode);

// What is being checked, for the messages: "owned by uid 1001; a key file must belong to root or to the user ferryd
// runs as (uid 0): chown 0 PATH" and "writable by its group or others (mode 0664), so someone else could replace the
// keys: chmod 0644 PATH".
struct write_rule {
  std::string_view noun;  // "a key file", "the state directory"
  std::string_view harm;  // what someone else could do: "replace the keys"
  mode_t fix;             // the mode the chmod in the message suggests
};

// Refuses what `info` describes (found at `path`) when it is owned by neither root nor `user` (the uid ferryd runs
// as), or when its group or others may write it. Each message names `path`, the problem and the command that fixes
// it.
platform::result<void> check_write_access(const std::string& path, const struct stat& info, uid_t user,
                                          const write_rule& rule);

}  // namespace ferry::ctl
