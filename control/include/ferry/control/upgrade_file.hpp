#pragma once
// The guardian set upgrades ferryd has learned from traffic, kept in its state directory (file
// `guardian-set-upgrades`) so that a restart, or kill -9, does not forget them. The file holds the upgrade VAAs
// themselves, never bare keys: at start the router verifies each one again, in order, against the keys its
// configuration gives (router.cpp), so the file can only ever install a set the guardians signed for. A damaged
// or foreign file therefore costs the learned sets, never a wrong key.
//
// The format (text, version 1):
//
//   ferry guardian-set-upgrades 1
//   <learned_at> <vaa>
//   ...
//
// one line per upgrade in the order they were learned: learned_at is the unix second the upgrade was applied
// (decimal; the old set expires guardian_set_expiry after it), vaa the VAA's bytes in lowercase hex, at most
// 2 x max_guardian_set_upgrade_size digits. The file is replaced whole (`<file>.new`, mode 0600, fsync, rename,
// fsync of the directory), so a reader sees the old file or the new one, never a mix.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/platform/result.hpp"

namespace ferry::ctl {

inline constexpr std::string_view upgrade_file_name = "guardian-set-upgrades";
inline constexpr std::size_t max_upgrade_file_entries = 64;  // Wormhole has made 7 upgrades in its first 4 years

struct stored_upgrade {
  std::uint64_t learned_at = 0;  // unix seconds
  std::vector<std::byte> vaa;
};

// What a file's text says. Entries that cannot be read (bad hex, too long, no time) are left out and each is
// described in `problems` ("line 3: ..."), so that the caller can say so and go on with the rest (which the
// chain check then refuses when it depended on a missing one). A text that is not this format at all (bad first
// line, more than max_upgrade_file_entries lines) gives no entries and one problem.
struct upgrade_file_contents {
  std::vector<stored_upgrade> upgrades;
  std::vector<std::string> problems;
};
upgrade_file_contents parse_upgrade_file(std::string_view text);

// The text of a file holding `upgrades` (as parse_upgrade_file reads it back).
std::string format_upgrade_file(const std::vector<stored_upgrade>& upgrades);

// Reads the file at `path`, a file in the (checked) state directory; no file is no upgrades. Refuses, as the other
// state files are refused, a symbolic link, anything but a regular file, a file owned by anyone but root or
// `owner_uid` (the user ferryd runs as) and one its group or others may write: each message names the path, the
// problem and the fix. A file larger than the format allows is refused too.
platform::result<upgrade_file_contents> read_upgrade_file(const std::string& path, unsigned owner_uid);

// Replaces the file at `path` with one holding `upgrades`: writes `path + ".new"` (mode 0600, removing a leftover
// first), syncs it, renames it over `path` and syncs the directory. On failure the old file is left as it was.
platform::result<void> write_upgrade_file(const std::string& path, const std::vector<stored_upgrade>& upgrades);

}  // namespace ferry::ctl
