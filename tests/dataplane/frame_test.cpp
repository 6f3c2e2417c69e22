#include "ferry/dataplane/frame.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ferry/platform/endian.hpp"

namespace ferry::dp {
namespace {

std::vector<std::byte> bytes_of(std::size_t n, std::uint8_t start) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(start + i);
  return out;
}

// A frame of three messages (bodies of 5, 1 and 300 bytes), optionally with a tag.
std::vector<std::byte> sample_frame(std::uint8_t flags = 0, std::uint16_t key_id = 0) {
  std::vector<std::byte> out(2048);
  frame_writer writer(out, frame_header{frame_version, flags, 0, key_id, 0x0102030405060708ull});
  EXPECT_TRUE(writer.add(1, bytes_of(5, 10)));
  EXPECT_TRUE(writer.add(2, bytes_of(1, 20)));
  EXPECT_TRUE(writer.add(4, bytes_of(300, 30)));
  const std::size_t size = writer.finish().size();
  out.resize(size);
  if ((flags & frame_flag::authenticated) != 0) {
    const auto tag = bytes_of(link_tag_size, 0xa0);
    out.insert(out.end(), tag.begin(), tag.end());
  }
  return out;
}

frame_status parse(const std::vector<std::byte>& datagram, std::size_t size) {
  frame_view view;
  return parse_frame(std::span(datagram).first(size), view);
}

TEST(Frame, RoundTripsMessages) {
  const auto datagram = sample_frame();
  ASSERT_EQ(datagram.size(), frame_header_size + 3 * message_header_size + 5 + 1 + 300);
  frame_view view;
  ASSERT_EQ(parse_frame(datagram, view), frame_status::ok);
  EXPECT_EQ(view.header().version, frame_version);
  EXPECT_EQ(view.header().message_count, 3);
  EXPECT_EQ(view.header().sequence, 0x0102030405060708ull);
  EXPECT_TRUE(view.tag().empty());
  EXPECT_EQ(view.tagged_bytes().size(), datagram.size());
  std::vector<message_ref> messages(view.begin(), view.end());
  ASSERT_EQ(messages.size(), 3u);
  const std::uint8_t kinds[] = {1, 2, 4};
  const std::size_t sizes[] = {5, 1, 300};
  const std::uint8_t starts[] = {10, 20, 30};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(messages[i].kind, kinds[i]);
    EXPECT_EQ(messages[i].flags, 0);
    const auto expected = bytes_of(sizes[i], starts[i]);
    EXPECT_TRUE(std::equal(messages[i].body.begin(), messages[i].body.end(), expected.begin(), expected.end()));
    EXPECT_EQ(messages[i].encoded.size(), sizes[i] + message_header_size);
    EXPECT_EQ(messages[i].encoded.data() + message_header_size, messages[i].body.data());
  }
}

TEST(Frame, AuthenticatedFrameExposesItsTag) {
  const auto datagram = sample_frame(frame_flag::authenticated | frame_flag::verified_upstream, 7);
  frame_view view;
  ASSERT_EQ(parse_frame(datagram, view), frame_status::ok);
  EXPECT_EQ(view.header().key_id, 7);
  ASSERT_EQ(view.tag().size(), link_tag_size);
  EXPECT_EQ(view.tag().data(), datagram.data() + datagram.size() - link_tag_size);
  EXPECT_EQ(view.tagged_bytes().size(), datagram.size() - link_tag_size);
  EXPECT_EQ(std::distance(view.begin(), view.end()), 3);
}

// An encrypted frame's messages cannot be read before they are decrypted: its view holds none, and the nonce and
// the ciphertext are where the format puts them. Once decrypted in place, parse_opened() checks them as
// parse_frame() checks a clear frame's. (The sample's messages stand in for what decryption gives.)
TEST(Frame, EncryptedFrameHoldsNoMessageUntilOpened) {
  const auto clear = sample_frame();
  std::vector<std::byte> datagram(clear.begin(), clear.begin() + frame_header_size);
  datagram[3] = std::byte{frame_flag::authenticated | frame_flag::encrypted};
  platform::store_be16(datagram.data() + 6, 3);
  const auto nonce = bytes_of(link_nonce_size, 0x60);
  datagram.insert(datagram.end(), nonce.begin(), nonce.end());
  datagram.insert(datagram.end(), clear.begin() + frame_header_size, clear.end());
  const auto tag = bytes_of(link_tag_size, 0xa0);
  datagram.insert(datagram.end(), tag.begin(), tag.end());

  frame_view view;
  ASSERT_EQ(parse_frame(datagram, view), frame_status::ok);
  EXPECT_TRUE(view.encrypted());
  EXPECT_EQ(view.begin(), view.end());
  EXPECT_EQ(view.nonce().data(), datagram.data() + frame_header_size);
  EXPECT_EQ(view.nonce().size(), link_nonce_size);
  EXPECT_EQ(view.sealed().data(), datagram.data() + frame_header_size + link_nonce_size);
  EXPECT_EQ(view.sealed().size(), clear.size() - frame_header_size);
  EXPECT_EQ(view.tagged_bytes().size(), datagram.size() - link_tag_size);
  ASSERT_EQ(parse_opened(view), frame_status::ok);
  EXPECT_EQ(std::distance(view.begin(), view.end()), 3);
  EXPECT_EQ((*view.begin()).encoded.data(), view.sealed().data());

  // Too short for a nonce, a message header and the tag; and decrypted bytes that are not messages.
  for (std::size_t n = 0; n < frame_header_size + link_nonce_size + message_header_size + link_tag_size; ++n) {
    EXPECT_NE(parse(datagram, n), frame_status::ok) << n;
  }
  auto short_count = datagram;
  platform::store_be16(short_count.data() + 4, 2);
  frame_view wrong;
  ASSERT_EQ(parse_frame(short_count, wrong), frame_status::ok) << "the count cannot be checked before opening";
  EXPECT_EQ(parse_opened(wrong), frame_status::trailing_bytes);
  EXPECT_EQ(wrong.begin(), wrong.end()) << "a frame that does not open into messages still holds none";
}

// The status a truncation to `n` bytes must give, worked out from the sample's layout.
frame_status expected_for_truncation(std::size_t n, std::size_t tag) {
  if (n < frame_header_size + tag) return frame_status::too_short;
  const std::size_t end = n - tag;
  const std::size_t bodies[] = {5, 1, 300};
  std::size_t at = frame_header_size;
  for (const std::size_t body : bodies) {
    if (end - at < message_header_size) return frame_status::truncated_message;
    if (body > end - at - message_header_size) return frame_status::length_past_end;
    at += message_header_size + body;
  }
  return at == end ? frame_status::ok : frame_status::trailing_bytes;
}

TEST(Frame, EveryTruncationIsRejectedWithItsReason) {
  for (const std::uint8_t flags : {std::uint8_t{0}, frame_flag::authenticated}) {
    const std::size_t tag = flags != 0 ? link_tag_size : 0;
    const auto datagram = sample_frame(flags, flags != 0 ? 1 : 0);
    for (std::size_t n = 0; n < datagram.size(); ++n) {
      const frame_status expected = expected_for_truncation(n, tag);
      ASSERT_NE(expected, frame_status::ok) << n;
      // Cutting into the tag shifts where the messages must end; the reason still names the first broken length.
      EXPECT_EQ(parse(datagram, n), expected) << "flags " << int{flags} << ", cut to " << n << " bytes";
    }
    EXPECT_EQ(parse(datagram, datagram.size()), frame_status::ok);
  }
}

TEST(Frame, EveryOversizedLengthOfTheLastMessageIsRejected) {
  auto datagram = sample_frame();
  const std::size_t length_at = datagram.size() - 300 - 2;
  for (std::uint32_t length = 301; length <= 0xffff; ++length) {
    platform::store_be16(datagram.data() + length_at, static_cast<std::uint16_t>(length));
    ASSERT_EQ(parse(datagram, datagram.size()), frame_status::length_past_end) << length;
  }
}

TEST(Frame, FirstMessageLengthPastTheDatagramIsRejected) {
  auto datagram = sample_frame();
  const std::size_t remaining = datagram.size() - frame_header_size - message_header_size;
  for (std::uint32_t length = static_cast<std::uint32_t>(remaining) + 1; length <= 0xffff; ++length) {
    platform::store_be16(datagram.data() + frame_header_size + 2, static_cast<std::uint16_t>(length));
    ASSERT_EQ(parse(datagram, datagram.size()), frame_status::length_past_end) << length;
  }
}

TEST(Frame, HeaderFieldsAreChecked) {
  const auto good = sample_frame();
  const auto with = [&](std::size_t at, std::byte value) {
    auto copy = good;
    copy[at] = value;
    return parse(copy, copy.size());
  };
  EXPECT_EQ(with(0, std::byte{'G'}), frame_status::bad_magic);
  EXPECT_EQ(with(1, std::byte{0}), frame_status::bad_magic);
  EXPECT_EQ(with(2, std::byte{0}), frame_status::unsupported_version);
  EXPECT_EQ(with(2, std::byte{2}), frame_status::unsupported_version);
  EXPECT_EQ(with(3, std::byte{0x08}), frame_status::reserved_flags);
  EXPECT_EQ(with(3, std::byte{frame_flag::encrypted}), frame_status::untagged_encryption);
  EXPECT_EQ(with(3, std::byte{0x80}), frame_status::reserved_flags);
  EXPECT_EQ(with(7, std::byte{1}), frame_status::stray_key_id);  // key id without the authenticated flag
  EXPECT_EQ(with(3, std::byte{frame_flag::verified_upstream}), frame_status::ok);

  auto no_messages = good;
  platform::store_be16(no_messages.data() + 4, 0);
  EXPECT_EQ(parse(no_messages, no_messages.size()), frame_status::no_messages);
  auto too_many = good;
  platform::store_be16(too_many.data() + 4, 4);
  EXPECT_EQ(parse(too_many, too_many.size()), frame_status::truncated_message);
  auto too_few = good;
  platform::store_be16(too_few.data() + 4, 2);
  EXPECT_EQ(parse(too_few, too_few.size()), frame_status::trailing_bytes);
  auto empty = good;
  platform::store_be16(empty.data() + frame_header_size + 2, 0);
  EXPECT_EQ(parse(empty, empty.size()), frame_status::empty_message);
  auto trailing = good;
  trailing.push_back(std::byte{0});
  EXPECT_EQ(parse(trailing, trailing.size()), frame_status::trailing_bytes);
}

TEST(Frame, WriterRefusesWhatDoesNotFit) {
  std::vector<std::byte> out(frame_header_size + message_header_size + 10);
  frame_writer writer(out, frame_header{});
  EXPECT_FALSE(writer.add(1, {}));                 // empty body
  EXPECT_FALSE(writer.add(1, bytes_of(11, 0)));    // one byte too many
  EXPECT_EQ(writer.room(), 10u);
  EXPECT_TRUE(writer.add(1, bytes_of(10, 0)));
  EXPECT_EQ(writer.room(), 0u);
  EXPECT_FALSE(writer.add(1, bytes_of(1, 0)));
  EXPECT_EQ(writer.message_count(), 1);
  std::vector<std::byte> big(70000);
  frame_writer roomy(big, frame_header{});
  EXPECT_FALSE(roomy.add(1, bytes_of(max_message_body + 1, 0)));
  EXPECT_TRUE(roomy.add(1, bytes_of(max_message_body, 0)));
  frame_view view;
  EXPECT_EQ(parse_frame(roomy.finish(), view), frame_status::ok);
}

TEST(Frame, EveryStatusHasAName) {
  for (int s = 0; s <= static_cast<int>(frame_status::trailing_bytes); ++s) {
    EXPECT_STRNE(to_string(static_cast<frame_status>(s)), "unknown") << s;
  }
}

}  // namespace
}  // namespace ferry::dp
