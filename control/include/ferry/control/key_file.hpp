#pragma once
// Key files: the link keys of peers and guardian sets kept outside the configuration, checked before they are
// read. A key file is refused unless it is a regular file (not a symbolic link: whoever owns a link can point it
// elsewhere), owned by root or by the user ferryd runs as, and not writable by its group or others (anyone who can
// write it can replace the keys). A secret must in addition not be readable by others (its group may read it).
// Messages name the file, what is wrong and the fix; they never quote the file's contents.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/dataplane/link_auth.hpp"
#include "ferry/platform/result.hpp"
#include "ferry/verify/secp256k1.hpp"

namespace ferry::ctl {

enum class key_secrecy : std::uint8_t {
  public_keys,  // may be world-readable (guardian addresses)
  secret,       // must not be readable by others (link keys)
};

// The contents of the key file at `path` after the checks above, at most 64 KiB. The file is opened once without
// following links and checked through that descriptor, so it cannot be swapped between the check and the read.
platform::result<std::string> read_key_file(const std::string& path, key_secrecy secrecy);

// A link key's secret from its file's text: hex digits ("0x" first allowed), whitespace and '#' comments (to the
// end of a line) ignored, 16 to 64 bytes. `source` names the text in messages (the file's path); no message quotes
// `text`. Wiping `text` is the caller's; the returned secret is the only copy this makes.
platform::result<std::vector<std::byte>> parse_link_key(std::string_view text, std::string_view source);

// A link key file's secret for a key that seals with `mac`: parse_link_key() of the file read as
// key_secrecy::secret, the text read wiped before returning, refused when `mac` needs another size (a
// chacha20-poly1305 key is exactly 32 bytes).
platform::result<std::vector<std::byte>> read_link_key(const std::string& path,
                                                       dp::link_mac mac = dp::link_mac::hmac_sha256);

// Guardian addresses from a file's text: one 20-byte address a line (40 hex digits, "0x" first allowed), blank
// lines and '#' comments ignored, at least one. Their order is the guardian indices'. `source` names the text in
// messages (the file's path).
platform::result<std::vector<verify::eth_address>> parse_guardian_keys(std::string_view text, std::string_view source);

// A guardian key file's addresses: parse_guardian_keys() of the file read as key_secrecy::public_keys.
platform::result<std::vector<verify::eth_address>> read_guardian_keys(const std::string& path);

}  // namespace ferry::ctl
