#include "ferry/dataplane/frame.hpp"

#include <cstring>

#include "ferry/platform/endian.hpp"

namespace ferry::dp {

using platform::load_be16;
using platform::load_be64;

namespace {
// Whether `messages` holds exactly `count` messages, each with a non-empty body inside it.
frame_status check_messages(std::span<const std::byte> messages, std::uint32_t count) noexcept {
  const std::byte* p = messages.data();
  const std::size_t end = messages.size();
  std::size_t at = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (end - at < message_header_size) return frame_status::truncated_message;
    const std::size_t length = load_be16(p + at + 2);
    if (length == 0) return frame_status::empty_message;
    if (length > end - at - message_header_size) return frame_status::length_past_end;
    at += message_header_size + length;
  }
  return at == end ? frame_status::ok : frame_status::trailing_bytes;
}
}  // namespace

const char* to_string(frame_status status) noexcept {
  switch (status) {
    case frame_status::ok: return "ok";
    case frame_status::too_short: return "too short";
    case frame_status::bad_magic: return "bad magic";
    case frame_status::unsupported_version: return "unsupported version";
    case frame_status::reserved_flags: return "reserved flags set";
    case frame_status::stray_key_id: return "key id without authentication";
    case frame_status::untagged_encryption: return "encryption without authentication";
    case frame_status::no_messages: return "no messages";
    case frame_status::truncated_message: return "truncated message header";
    case frame_status::length_past_end: return "message length past end";
    case frame_status::empty_message: return "empty message";
    case frame_status::trailing_bytes: return "trailing bytes";
  }
  return "unknown";
}

frame_status parse_frame(std::span<const std::byte> datagram, frame_view& out) noexcept {
  if (datagram.size() < frame_header_size) return frame_status::too_short;
  const std::byte* p = datagram.data();
  if (p[0] != frame_magic[0] || p[1] != frame_magic[1]) return frame_status::bad_magic;
  frame_header header;
  header.version = std::to_integer<std::uint8_t>(p[2]);
  if (header.version != frame_version) return frame_status::unsupported_version;
  header.flags = std::to_integer<std::uint8_t>(p[3]);
  if ((header.flags & ~frame_flag::known) != 0) return frame_status::reserved_flags;
  header.message_count = load_be16(p + 4);
  header.key_id = load_be16(p + 6);
  header.sequence = load_be64(p + 8);
  const bool authenticated = (header.flags & frame_flag::authenticated) != 0;
  const bool encrypted = (header.flags & frame_flag::encrypted) != 0;
  if (!authenticated && header.key_id != 0) return frame_status::stray_key_id;
  if (!authenticated && encrypted) return frame_status::untagged_encryption;
  if (header.message_count == 0) return frame_status::no_messages;

  const std::size_t tag_size = authenticated ? link_tag_size : 0;
  const std::size_t start = frame_header_size + (encrypted ? link_nonce_size : 0);  // where the messages begin
  if (datagram.size() < start + tag_size) return frame_status::too_short;
  const std::size_t end = datagram.size() - tag_size;  // messages must end exactly here
  const std::span<const std::byte> messages = datagram.subspan(start, end - start);
  if (encrypted) {
    if (messages.size() < message_header_size) return frame_status::truncated_message;
  } else if (const frame_status s = check_messages(messages, header.message_count); s != frame_status::ok) {
    return s;
  }

  out._header = header;
  out._messages = encrypted ? messages.first(0) : messages;
  out._nonce = datagram.subspan(frame_header_size, start - frame_header_size);
  out._sealed = encrypted ? messages : messages.first(0);
  out._tag = datagram.subspan(end, tag_size);
  out._tagged = datagram.first(end);
  return frame_status::ok;
}

frame_status parse_opened(frame_view& frame) noexcept {
  if (!frame.encrypted()) return frame_status::ok;
  const frame_status s = check_messages(frame._sealed, frame._header.message_count);
  if (s == frame_status::ok) frame._messages = frame._sealed;
  return s;
}

message_ref frame_view::iterator::operator*() const noexcept {
  const std::size_t length = load_be16(_at + 2);
  return {std::to_integer<std::uint8_t>(_at[0]), std::to_integer<std::uint8_t>(_at[1]),
          {_at + message_header_size, length}, {_at, message_header_size + length}};
}

frame_view::iterator& frame_view::iterator::operator++() noexcept {
  _at += message_header_size + load_be16(_at + 2);
  return *this;
}

void encode_frame_header(const frame_header& header, std::span<std::byte, frame_header_size> out) noexcept {
  out[0] = frame_magic[0];
  out[1] = frame_magic[1];
  out[2] = std::byte{header.version};
  out[3] = std::byte{header.flags};
  platform::store_be16(out.data() + 4, header.message_count);
  platform::store_be16(out.data() + 6, header.key_id);
  platform::store_be64(out.data() + 8, header.sequence);
}

void encode_message_header(std::uint8_t kind, std::uint8_t flags, std::uint16_t length,
                           std::span<std::byte, message_header_size> out) noexcept {
  out[0] = std::byte{kind};
  out[1] = std::byte{flags};
  platform::store_be16(out.data() + 2, length);
}

frame_writer::frame_writer(std::span<std::byte> out, const frame_header& header) noexcept
    : _out(out), _header(header), _size(frame_header_size) {
  _header.message_count = 0;
}

std::size_t frame_writer::room() const noexcept {
  const std::size_t used = _size + message_header_size;
  return _out.size() > used ? _out.size() - used : 0;
}

bool frame_writer::add(std::uint8_t kind, std::span<const std::byte> body, std::uint8_t flags) noexcept {
  if (body.empty() || body.size() > max_message_body || body.size() > room() || _header.message_count == 0xffff) {
    return false;
  }
  encode_message_header(kind, flags, static_cast<std::uint16_t>(body.size()),
                        _out.subspan(_size).first<message_header_size>());
  std::memcpy(_out.data() + _size + message_header_size, body.data(), body.size());
  _size += message_header_size + body.size();
  ++_header.message_count;
  return true;
}

std::span<const std::byte> frame_writer::finish() noexcept {
  if (_out.size() < frame_header_size) return {};
  encode_frame_header(_header, _out.first<frame_header_size>());
  return _out.first(_size);
}

}  // namespace ferry::dp
