// libFuzzer target over dp::parse_frame(): any datagram it accepts must be exactly what its header and messages
// say it is, iterate without leaving the input, be rebuilt byte for byte by frame_writer, and authenticate only as
// sealed with a link key (a made-up tag never passes; a sealed frame passes until any byte changes). An encrypted
// frame holds no message until opened, and a made-up one never opens and is left as it came; a clear one sealed
// with the encrypting key opens back into its own messages.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <span>
#include <vector>

#include "ferry/dataplane/frame.hpp"
#include "ferry/dataplane/link_auth.hpp"
#include "ferry/platform/endian.hpp"

#include "support/bytes.hpp"
#include "support/fuzz.hpp"

namespace {

using namespace ferry;
using ferry::testing::inside;
using ferry::testing::require;
using ferry::testing::same;

// The link keys a sealed frame may have been made with, under id 7, one secret: the input's last byte picks.
const std::array<dp::link_key, 3>& link_keys_to_try() {
  static const std::array<dp::link_key, 3> keys = [] {
    std::array<std::byte, 32> secret;
    secret.fill(std::byte{0xa5});
    return std::array<dp::link_key, 3>{dp::link_key(7, secret, 0, dp::link_mac::hmac_sha256),
                                       dp::link_key(7, secret, 0, dp::link_mac::blake2b),
                                       dp::link_key(7, secret, 0, dp::link_mac::chacha20_poly1305)};
  }();
  return keys;
}

// An encrypted frame as parsed: its nonce and ciphertext where the format puts them, no message before it is
// opened, and a made-up one never opens (under any key) and is left as it came.
void check_encrypted(std::span<const std::byte> input, dp::frame_view& frame) {
  require(frame.begin() == frame.end(), "an encrypted frame holds messages before it is opened");
  require(frame.nonce().data() == input.data() + dp::frame_header_size &&
              frame.nonce().size() == dp::link_nonce_size,
          "nonce is not after the header");
  require(frame.sealed().data() == frame.nonce().data() + dp::link_nonce_size &&
              frame.sealed().size() + dp::frame_header_size + dp::link_nonce_size + dp::link_tag_size == input.size(),
          "ciphertext is not between the nonce and the tag");
  std::vector<std::byte> copy(input.begin(), input.end());
  dp::frame_view view;
  require(dp::parse_frame(copy, view) == dp::frame_status::ok, "a copy parses otherwise");
  for (const dp::link_key& key : link_keys_to_try()) {
    require(!dp::open(dp::link_keys{{key}}, copy, view, 0), "a made-up encrypted frame opened");
  }
  require(same(copy, input), "a frame that did not open was changed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  dp::frame_view frame;
  if (dp::parse_frame(input, frame) != dp::frame_status::ok) return 0;

  const dp::frame_header& header = frame.header();
  require(size >= dp::frame_header_size, "accepted a datagram shorter than the header");
  require(header.version == dp::frame_version, "accepted an unknown version");
  require((header.flags & ~dp::frame_flag::known) == 0, "accepted reserved flags");
  require(header.message_count > 0, "accepted an empty frame");
  require(header.message_count == platform::load_be16(input.data() + 4), "message count differs from the bytes");
  require(header.key_id == platform::load_be16(input.data() + 6), "key id differs from the bytes");
  require(header.sequence == platform::load_be64(input.data() + 8), "sequence differs from the bytes");

  const bool authenticated = (header.flags & dp::frame_flag::authenticated) != 0;
  require(authenticated || header.key_id == 0, "accepted a key id without authentication");
  const std::size_t tag_size = authenticated ? dp::link_tag_size : 0;
  require(frame.tag().size() == tag_size, "tag size");
  require(tag_size == 0 || frame.tag().data() == input.data() + size - tag_size, "tag is not the last bytes");
  require(same(frame.tagged_bytes(), input.first(size - tag_size)), "tagged bytes are not all but the tag");
  if (frame.encrypted()) {
    check_encrypted(input, frame);
    return 0;
  }

  // Every message lies inside the input, one after another from the end of the header.
  std::size_t count = 0;
  std::size_t encoded_total = 0;
  const std::byte* expected_at = input.data() + dp::frame_header_size;
  for (auto it = frame.begin(); it != frame.end(); ++it) {
    require(count < header.message_count, "more messages than counted");
    const dp::message_ref m = *it;
    require(inside(m.encoded, input) && inside(m.body, input), "a message lies outside the input");
    require(m.encoded.data() == expected_at, "messages are not contiguous");
    require(m.encoded.size() == dp::message_header_size + m.body.size(), "encoded size is not header + body");
    require(m.body.data() == m.encoded.data() + dp::message_header_size, "body does not follow its header");
    require(!m.body.empty(), "accepted an empty message");
    require(m.kind == std::to_integer<std::uint8_t>(m.encoded[0]) &&
                m.flags == std::to_integer<std::uint8_t>(m.encoded[1]),
            "kind or flags differ from the bytes");
    expected_at += m.encoded.size();
    encoded_total += m.encoded.size();
    ++count;
  }
  require(count == header.message_count, "fewer messages than counted");
  require(dp::frame_header_size + encoded_total + tag_size == size, "header + messages + tag != datagram");

  // Rebuilt by the writer, in a buffer of exactly the frame's size, the frame is the same bytes (the tag is added
  // by link authentication, so the writer's output is what the tag covers).
  std::vector<std::byte> out(size - tag_size);
  dp::frame_writer writer(out, dp::frame_header{header.version, header.flags, 0, header.key_id, header.sequence});
  for (const dp::message_ref m : frame) {
    require(writer.add(m.kind, m.body, m.flags), "frame_writer refused a message of a valid frame");
  }
  require(writer.message_count() == header.message_count, "writer count");
  require(writer.room() == 0, "writer has room left in an exactly sized buffer");
  require(same(writer.finish(), frame.tagged_bytes()), "re-encoded frame differs from the input");

  // Link authentication, under each kind of key (the last byte picks): a tag the fuzzer made up never passes under
  // a key it cannot know, and the frame sealed with that key (as a router sends it) passes, under its id only, and
  // fails once any byte of it changes. Sealed with the encrypting key it opens back into its own messages.
  const dp::link_key& key = link_keys_to_try()[static_cast<std::size_t>(data[size - 1]) % 3];
  const dp::link_keys keys{{key}};
  require(!authenticated || !dp::authentic(keys, frame, 0) || header.key_id == 7, "a tag passed under another key id");
  std::vector<std::byte> sealed(size - tag_size + key.overhead());
  std::copy(frame.tagged_bytes().begin(), frame.tagged_bytes().end(), sealed.begin());
  require(dp::seal(sealed, size - tag_size, key) == sealed.size(), "seal refused a valid frame");
  const std::vector<std::byte> as_sealed = sealed;
  dp::frame_view resealed;
  require(dp::parse_frame(sealed, resealed) == dp::frame_status::ok, "a sealed frame does not parse");
  require(resealed.encrypted() == key.encrypts(), "sealed with an encrypting key but not encrypted, or the reverse");
  if (key.encrypts()) {
    require(dp::open(keys, sealed, resealed, 0), "a frame sealed with the key does not open");
    require(dp::parse_opened(resealed) == dp::frame_status::ok, "an opened frame's messages do not parse");
    require(same(resealed.sealed(), input.subspan(dp::frame_header_size, size - tag_size - dp::frame_header_size)),
            "an opened frame's messages are not those sealed");
  } else {
    require(dp::authentic(keys, resealed, 0), "a frame sealed with the key fails its check");
  }
  std::vector<std::byte> changed_bytes = as_sealed;
  changed_bytes[data[0] % changed_bytes.size()] ^= std::byte{1};
  dp::frame_view changed;
  const bool parses = dp::parse_frame(changed_bytes, changed) == dp::frame_status::ok;
  const bool passes =
      parses && (changed.encrypted() ? dp::open(keys, changed_bytes, changed, 0) : dp::authentic(keys, changed, 0));
  require(!passes, "a frame changed after sealing passes its check");
  return 0;
}
