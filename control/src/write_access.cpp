#include "write_access.hpp"

#include <cstdio>
#include <string>

namespace ferry::ctl {

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

platform::result<void> check_write_access(const std::string& path, const struct stat& info, uid_t user,
                                          const write_rule& rule) {
  if (info.st_uid != 0 && info.st_uid != user) {
    return platform::error(path + ": owned by uid " + std::to_string(info.st_uid) + "; " + std::string(rule.noun) +
                           " must belong to root or to the user ferryd runs as (uid " + std::to_string(user) +
                           "): chown " + std::to_string(user) + " " + path);
  }
  const mode_t mode = info.st_mode & 07777;
  if ((mode & (S_IWGRP | S_IWOTH)) != 0) {
    return platform::error(path + ": writable by its group or others (mode " + octal(mode) +
                           "), so someone else could " + std::string(rule.harm) + ": chmod " + octal(rule.fix) + " " +
                           path);
  }
  return {};
}

}  // namespace ferry::ctl
