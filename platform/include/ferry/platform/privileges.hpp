#pragma once
// Starting as root and then giving root up: whom to become, and becoming them for good. ferryd opens what needs
// root first (privileged ports, hugepages, devices), then drops to an unprivileged user before it takes input.

#include <string>
#include <string_view>
#include <vector>

#include "ferry/platform/result.hpp"

namespace ferry::platform {

// Whom to become.
struct identity {
  unsigned uid;
  unsigned gid;
  std::string user;  // the user's name in the user database, whose supplementary groups the process takes;
                     // empty for a uid the database does not know (the process then keeps no supplementary group)
};

// Looks up `user`, a user name or a numeric uid (all digits: "65534"), and the group to run as: `group`, a group
// name or a numeric gid, or when empty the user's primary group. A numeric uid the user database does not know
// needs a group; a numeric gid the group database does not know is taken as it is. Errors name what was not found
// and what is expected. Reads the user and group databases (NSS, perhaps over the network): a start-up call.
result<identity> find_identity(std::string_view user, std::string_view group);

// Gives root up for good: the supplementary groups become those the group database gives `who.user` (none when it
// is empty), then setresgid and setresuid set the real, effective and saved ids to who.gid and who.uid. It then
// proves it: the ids read back (getresuid, getresgid, getgroups) must be the target's everywhere, no capability may
// remain permitted, and setuid(0) must fail; otherwise an error naming the step that failed. After an error the
// process may be half-switched and must exit. A process whose effective uid is not 0 but whose real or saved uid is
// takes root back first, so that it can give it up.
//
// Threads: it may be called while other threads run. glibc (as musl) makes each of these changes in every thread
// of the process (it signals them with SIGSETXID and each makes the same call), and aborts the process rather than
// leave threads with different ids; only threads started without pthread_create (a raw clone) would be missed.
// What any thread opened as root stays open, so call it once what needs root is open and before input is taken.
//
// Not root: when the process already is `who` (real, effective and saved uid and gid), nothing is changed and a
// note says so; otherwise it cannot change user, and that is an error. who.uid 0 is an error: it drops nothing.
//
// It leaves PR_SET_NO_NEW_PRIVS alone. That flag only stops a later execve from gaining privileges (set-user-id
// programs, file capabilities); ferryd execs nothing, and with root gone from all three uids and no capability
// left, setuid(0) already fails. It cannot be cleared and every child inherits it, so it is the service manager's
// choice (systemd's NoNewPrivileges=yes), not a side effect of this call. Nor does it make the process dumpable
// again: the kernel marks a process that changed ids non-dumpable (no core dump, /proc/self owned by root), which
// keeps processes of the same user from reading its memory and keys.
result<void> drop_privileges(const identity& who);

// The same, adding to `notes` one line when there was nothing to drop.
result<void> drop_privileges(const identity& who, std::vector<std::string>& notes);

}  // namespace ferry::platform
