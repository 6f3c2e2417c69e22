// libFuzzer target over dp::parse_frame(): any datagram it accepts must be exactly what its header and messages
// say it is, iterate without leaving the input, be rebuilt byte for byte by frame_writer, and authenticate only as
// sealed with a link key (a made-up tag never passes; a sealed frame passes until any byte changes).

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

  // Link authentication, under either MAC (the last byte picks): a tag the fuzzer made up never passes under a key
  // it cannot know, and the frame sealed with that key (as a router sends it) passes, under its id only, and fails
  // once any byte of it changes.
  static const std::array<dp::link_key, 2> both = [] {
    std::array<std::byte, 32> secret;
    secret.fill(std::byte{0xa5});
    return std::array<dp::link_key, 2>{dp::link_key(7, secret, 0, dp::link_mac::hmac_sha256),
                                       dp::link_key(7, secret, 0, dp::link_mac::blake2b)};
  }();
  const dp::link_key& key = both[static_cast<std::size_t>(data[size - 1]) % 2];
  const dp::link_keys keys{{key}};
  require(!authenticated || !dp::authentic(keys, frame, 0) || header.key_id == 7, "a tag passed under another key id");
  std::vector<std::byte> sealed(size - tag_size + dp::link_tag_size);
  std::copy(frame.tagged_bytes().begin(), frame.tagged_bytes().end(), sealed.begin());
  require(dp::seal(sealed, size - tag_size, key) == sealed.size(), "seal refused a valid frame");
  dp::frame_view resealed;
  require(dp::parse_frame(sealed, resealed) == dp::frame_status::ok, "a sealed frame does not parse");
  require(dp::authentic(keys, resealed, 0), "a frame sealed with the key fails its check");
  sealed[data[0] % sealed.size()] ^= std::byte{1};
  dp::frame_view changed;
  require(dp::parse_frame(sealed, changed) != dp::frame_status::ok || !dp::authentic(keys, changed, 0),
          "a frame changed after sealing passes its check");
  return 0;
}
