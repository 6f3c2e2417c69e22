#pragma once
// The ferry frame: ferry's envelope in a UDP datagram, specified in docs/wire-format.md.
//
//   header (16 bytes): magic "FY" | version u8 (=1) | flags u8 | message_count u16 | key_id u16 | sequence u64
//   [nonce[12] when flags has `encrypted`]
//   message_count x ( kind u8 | message_flags u8 | length u16 | body[length] )   (encrypted when flagged)
//   tag[16] when flags has `authenticated`
//
// parse_frame() checks every length against the datagram before anything reads a message, so that iterating a
// frame_view afterwards cannot go past the end. An encrypted frame's messages cannot be checked before the link key
// opens it (link_auth.hpp): until then its view holds no message, and parse_opened() checks them once decrypted.

#include <cstddef>
#include <cstdint>
#include <span>

namespace ferry::dp {

inline constexpr std::byte frame_magic[2] = {std::byte{'F'}, std::byte{'Y'}};
inline constexpr std::uint8_t frame_version = 1;
inline constexpr std::size_t frame_header_size = 16;
inline constexpr std::size_t message_header_size = 4;
inline constexpr std::size_t link_tag_size = 16;
inline constexpr std::size_t link_nonce_size = 12;
inline constexpr std::size_t max_message_body = 0xffff;

namespace frame_flag {
inline constexpr std::uint8_t authenticated = 1u << 0;      // a link tag follows the last message
inline constexpr std::uint8_t verified_upstream = 1u << 1;  // an upstream router verified every message
inline constexpr std::uint8_t encrypted = 1u << 2;          // the messages are encrypted (with `authenticated`)
inline constexpr std::uint8_t known = authenticated | verified_upstream | encrypted;
}  // namespace frame_flag

struct frame_header {
  std::uint8_t version = frame_version;
  std::uint8_t flags = 0;
  std::uint16_t message_count = 0;
  std::uint16_t key_id = 0;    // which link key made the tag (and encrypted); 0 when there is no tag
  std::uint64_t sequence = 0;  // the sender's frame counter on this link
};

// Why a datagram is not a frame. Every value but ok rejects the whole datagram.
enum class frame_status : std::uint8_t {
  ok,
  too_short,            // shorter than the header (and tag, when flagged)
  bad_magic,            // not a ferry frame
  unsupported_version,  // a version this build does not read
  reserved_flags,       // flag bits this version does not define are set
  stray_key_id,         // a key id without the authenticated flag
  untagged_encryption,  // the encrypted flag without the authenticated flag
  no_messages,          // message_count is 0
  truncated_message,    // a message header does not fit in what is left
  length_past_end,      // a message's length runs past the end of the datagram (before the tag)
  empty_message,        // a message with length 0
  trailing_bytes,       // bytes after the last counted message (other than the tag)
};

const char* to_string(frame_status status) noexcept;

// One message inside a validated frame.
struct message_ref {
  std::uint8_t kind;
  std::uint8_t flags;                  // reserved: 0 in this version
  std::span<const std::byte> body;     // length bytes after the message header
  std::span<const std::byte> encoded;  // header and body, as they appear in the frame (for forwarding as is)
};

class frame_view {
 public:
  class iterator {
   public:
    using value_type = message_ref;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    message_ref operator*() const noexcept;
    iterator& operator++() noexcept;
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a._at == b._at; }

   private:
    friend class frame_view;
    explicit iterator(const std::byte* at) noexcept : _at(at) {}
    const std::byte* _at = nullptr;
  };

  frame_view() = default;

  const frame_header& header() const noexcept { return _header; }
  iterator begin() const noexcept { return iterator(_messages.data()); }
  iterator end() const noexcept { return iterator(_messages.data() + _messages.size()); }
  std::span<const std::byte> tag() const noexcept { return _tag; }            // empty unless authenticated
  std::span<const std::byte> tagged_bytes() const noexcept { return _tagged; }  // what the tag covers
  bool encrypted() const noexcept { return (_header.flags & frame_flag::encrypted) != 0; }
  // Of an encrypted frame: the nonce, and the messages as they are (ciphertext until opened, then plaintext).
  std::span<const std::byte> nonce() const noexcept { return _nonce; }
  std::span<const std::byte> sealed() const noexcept { return _sealed; }

 private:
  friend frame_status parse_frame(std::span<const std::byte>, frame_view&) noexcept;
  friend frame_status parse_opened(frame_view&) noexcept;
  frame_header _header;
  std::span<const std::byte> _messages;
  std::span<const std::byte> _nonce;
  std::span<const std::byte> _sealed;
  std::span<const std::byte> _tag;
  std::span<const std::byte> _tagged;
};

// Validates `datagram` as a frame and fills `out` only when ok. Reads nothing outside `datagram`. Of an encrypted
// frame it checks the header and that a nonce, one message header and the tag fit: its view holds no message.
frame_status parse_frame(std::span<const std::byte> datagram, frame_view& out) noexcept;

// For an encrypted frame whose messages have been decrypted where they lie (link_auth.hpp's open()): checks them
// as parse_frame checks a clear frame's, and on ok makes `frame` iterate them. Anything else is left as it was.
frame_status parse_opened(frame_view& frame) noexcept;

// Writes a 16-byte frame header.
void encode_frame_header(const frame_header& header, std::span<std::byte, frame_header_size> out) noexcept;

// Writes a 4-byte message header.
void encode_message_header(std::uint8_t kind, std::uint8_t flags, std::uint16_t length,
                           std::span<std::byte, message_header_size> out) noexcept;

// Builds a frame into a caller's buffer, one message at a time (the load generator, tests, tools).
class frame_writer {
 public:
  // out: where the frame goes; must outlive the writer. header.message_count is filled in by finish().
  frame_writer(std::span<std::byte> out, const frame_header& header) noexcept;

  // Appends a message; false (and nothing written) when it does not fit, or the body is empty or over 65535 bytes.
  bool add(std::uint8_t kind, std::span<const std::byte> body, std::uint8_t flags = 0) noexcept;
  // Room left for a body, after its message header.
  std::size_t room() const noexcept;
  std::uint16_t message_count() const noexcept { return _header.message_count; }

  // Writes the header with the final count; returns the frame's bytes (without a tag: link authentication adds it).
  std::span<const std::byte> finish() noexcept;

 private:
  std::span<std::byte> _out;
  frame_header _header;
  std::size_t _size;
};

}  // namespace ferry::dp
