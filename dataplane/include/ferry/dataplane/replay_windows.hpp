#pragma once
// Per-channel replay windows: for each channel in which a protocol numbers its messages (verify/channel.hpp), the
// sequences recorded lately, so that a message whose (channel, sequence) was passed on once is refused when it comes
// again. One fixed-size table shared by every stage thread without a lock, living in a memory-mapped file in ferry's
// state directory: a record is a store into the page cache, so a process crash (kill -9) loses nothing recorded,
// and sync() makes what is recorded survive a power loss too.
//
// The window rule, per channel: entries[s % window] holds s + 1 for the newest sequence s recorded with that
// residue (0: none). record(s) loads that entry e; e >= s + 1 means s itself or a newer sequence of the same residue
// (so one at least `window` past s) was recorded: s is refused as a replay. Otherwise one CAS e -> s + 1 records
// it (retried while other threads move e, each time against the same test). So a sequence once recorded is never
// accepted again while its channel is in the table, sequences may arrive in any order within `window` of the newest
// of their residue, and a never-seen sequence is refused only when it arrives at least `window` sequences late.
// Sequences 0 .. UINT64_MAX-1 work; UINT64_MAX is always refused (s + 1 would wrap), which no protocol reaches.
//
// The file (native byte order and alignment: it belongs to the machine whose state directory holds it):
//
//   header (file_header, 64 bytes, padded to slots_offset = max(64, cache line)):
//     magic "FERRYRPW" | version u32 (=1) | window u32 (=64) | capacity u32 | SipHash key[16] | slot_size u32
//     | slots_offset u32 | reserved u32 | channels_in_use u64 (atomic) | evictions u64 (atomic)
//   capacity x slot (slot_size bytes each, cache-line aligned):
//     tag u64 | last_used_s u64 | entries[window] u64, all atomic
//
// A slot's tag is 0 while empty, else crypto_shorthash (SipHash-2-4) under the file's random key over
// `kind byte | identity`, with its low bit forced to 1. The key is drawn from libsodium's randombytes_buf() when the
// file is made, so a sender cannot grind emitter addresses into tags (or probe sequences) that collide with
// another channel's. Two channels whose 63 hash bits agree share a window (a chance of 2^-63 per pair).
//
// A channel lives in the first slot holding its tag among the 16 from (tag >> 1) & (capacity - 1) on (the low bit
// is always 1, so it is left out of the index). A new channel claims an empty slot there with a CAS of the tag
// 0 -> tag. When all 16 hold other channels it evicts the one used longest ago (last_used_s, unix seconds; a CAS of
// the tag from the old channel's to its own, counted in `evictions`), then clears the slot's entries. Consequences:
//   - An evicted channel forgets its window: a replay of one of its messages is then caught only by the
//     verified-digest cache (verify/verified_cache.hpp), which holds byte-identical copies for a while.
//   - A thread still recording into the evicted slot for the old channel at that instant can leave one stray entry
//     in the new channel's window: the new channel then refuses the sequences of that residue below the old
//     channel's (1 in 64 of its messages) until its own sequences pass it. Never an acceptance.
//   - A record for the new channel made by another thread while the eviction is clearing the slot (the entries are
//     cleared after the tag moves) can see an old channel's entry and be refused. Clearing is a CAS e -> 0 per
//     entry, and a record only ever raises an entry, so a clear never erases a record of the new channel.
//   - Two threads that make the same new channel at the same instant by evicting different slots give it two slots;
//     each merges the later one into the first (per entry, the larger value, which may carry over an entry of a
//     channel evicted there: a refusal, never an acceptance), and every later lookup finds the first. A record made
//     into the later slot by a thread that looked it up before the merge but wrote after it is lost, and could then
//     be accepted once more: a race of two evictions and a record within nanoseconds of each other.
// Size the table for the channels in use (read().evictions should stay at 0) and evictions remain a defence only
// against a flood of channels, where forgetting the coldest windows is the bounded failure that was chosen.
//
// Costs: record() is one SipHash over at most 73 bytes, one to 16 tag loads (one cache line each), one store to
// last_used_s when the second changed, and one CAS; it never allocates, takes a lock or makes a syscall. Its stores
// go to a file's pages, though: the first store to a page since it was last written back takes a page fault that
// the kernel serves (microseconds; longer when the filesystem must allocate or the device holds the page stable
// while writing it), so keep the state directory on a local disk (tmpfs would keep the windows across a crash of
// ferry but not of the machine). The file is slots_offset + capacity x slot_size bytes (64 + capacity x 576 on a
// 64-byte cache line: 37 KB for 64 channels, 9.7 GB for 1 << 24), mapped whole; pages never touched stay holes.
//
// One process at a time: two processes mapping the same file would share the windows, but re-filing (open() with
// another capacity) replaces the file under the other. Truncating the file while it is mapped ends the process
// with SIGBUS; the file is the owner's, mode 0600, and nothing else should write it.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "ferry/platform/cpu.hpp"
#include "ferry/platform/result.hpp"
#include "ferry/verify/channel.hpp"

namespace ferry::dp {

class replay_windows {
 public:
  static constexpr std::uint32_t window = 64;       // sequence slots per channel
  static constexpr std::uint32_t probe_limit = 16;  // slots a channel may live in
  static constexpr std::uint32_t min_channels = 64;
  static constexpr std::uint32_t max_channels = 1u << 24;
  static constexpr std::uint32_t file_version = 1;
  static constexpr std::array<char, 8> file_magic = {'F', 'E', 'R', 'R', 'Y', 'R', 'P', 'W'};

  struct file_header {
    std::array<char, 8> magic;
    std::uint32_t version;
    std::uint32_t window;
    std::uint32_t capacity;  // channels: a power of two, min_channels .. max_channels
    std::array<unsigned char, 16> key;
    std::uint32_t slot_size;     // bytes per slot, sizeof(slot) of the build that made the file
    std::uint32_t slots_offset;  // where slot 0 begins
    std::uint32_t reserved;
    // Slots holding a channel; never decreases. A crash between a claim and its count leaves it one short, which
    // re-filing recounts; a count past capacity (a damaged header, and what counting on from it gave) is
    // recounted when the file is opened.
    std::atomic<std::uint64_t> channels_in_use;
    std::atomic<std::uint64_t> evictions;        // since the file was made
  };

  struct alignas(platform::cache_line) slot {
    std::atomic<std::uint64_t> tag;          // 0: empty; else the channel's keyed hash with the low bit set
    std::atomic<std::uint64_t> last_used_s;  // unix seconds of the last record, for eviction
    std::array<std::atomic<std::uint64_t>, window> entries;
  };

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "records are single lock-free CASes");
  static_assert(sizeof(std::atomic<std::uint64_t>) == 8 && alignof(std::atomic<std::uint64_t>) == 8);
  static_assert(std::is_standard_layout_v<file_header> && sizeof(file_header) == 64);
  static_assert(offsetof(file_header, key) == 20 && offsetof(file_header, slot_size) == 36 &&
                offsetof(file_header, channels_in_use) == 48 && offsetof(file_header, evictions) == 56);
  static_assert(std::is_standard_layout_v<slot>);
  static_assert(offsetof(slot, last_used_s) == 8 && offsetof(slot, entries) == 16,
                "no padding between the fields of a slot");
  static_assert(sizeof(slot) == (16 + 8 * window + platform::cache_line - 1) / platform::cache_line *
                                    platform::cache_line,
                "a slot is its fields rounded up to whole cache lines, nothing more");

  static constexpr std::size_t slots_offset = sizeof(file_header) > platform::cache_line ? sizeof(file_header)
                                                                                          : platform::cache_line;

  // channels_in_use: slots holding a channel, as the header counts them (at most capacity); evictions: since the
  // file was made, re-filing included.
  struct stats {
    std::uint64_t channels_in_use, evictions, capacity;
  };

  // Bytes of a window file (or of the anonymous memory) for `channels`; 0 when channels is not a power of two from
  // min_channels to max_channels.
  static std::uint64_t footprint(std::uint32_t channels) noexcept;

  // Opens the window file at `path`, creating it (mode 0600, O_NOFOLLOW|O_CLOEXEC; written as `path + ".new"`,
  // fsynced and renamed into place, so that a crash never leaves half a file) when missing with room for `channels`
  // channels (a power of two, 64 .. 1 << 24). Refuses, with a message naming the file and the fix: a symlink, not a
  // regular file, not owned by this process's effective uid, writable by group or others, a bad magic, version or
  // window, a capacity or size that disagrees with its header. An existing file made for another channel count (or
  // by a build with another slot layout) is re-filed into a new one of the size asked (written as `path + ".new"`,
  // fsynced, renamed over `path`) keeping every window under the same key; one that shrinks keeps, where more
  // channels meet in 16 slots than fit, the most recently used, counting the others as evictions. Maps it
  // MAP_SHARED. Start-up only: does file I/O and fsyncs.
  static platform::result<std::unique_ptr<replay_windows>> open(const std::string& path, std::uint32_t channels);

  // The same table in anonymous memory (no state directory: nothing survives a restart).
  static platform::result<std::unique_ptr<replay_windows>> in_memory(std::uint32_t channels);

  replay_windows(const replay_windows&) = delete;
  replay_windows& operator=(const replay_windows&) = delete;
  ~replay_windows();  // msync + munmap

  // Whether c.sequence of c's channel was recorded already, or is too old for its window: what record() would
  // refuse. No writes. A record made by another thread at the same instant may or may not be seen.
  bool seen(const verify::channel& c) const noexcept;

  // Records c.sequence in its channel's window (making the channel if new). Returns false, and records nothing, when
  // it is a replay (recorded already, or too old); true when this call recorded it. Safe from any number of threads
  // at once: of two threads recording the same (channel, sequence), exactly one gets true. now_s: unix seconds, kept
  // per channel for eviction. Never allocates, never blocks, never makes a syscall.
  bool record(const verify::channel& c, std::uint64_t now_s) noexcept;

  // msync(MS_SYNC): what is recorded survives a power loss from here on (a process crash never loses a record).
  // Housekeeping, not per packet: it writes the dirty pages of the table. Nothing for in_memory().
  void sync() noexcept;

  stats read() const noexcept;
  const std::string& path() const noexcept { return _path; }  // empty for in_memory

 private:
  replay_windows(void* map, std::size_t map_size, std::string path) noexcept;

  std::uint64_t tag_of(const verify::channel& c) const noexcept;
  slot* find(std::uint64_t tag) const noexcept;
  void recount() noexcept;  // start-up: channels_in_use from the tags
  slot& find_or_make(std::uint64_t tag, std::uint64_t now_s) noexcept;
  // After an eviction made `tag`'s channel: raises the first slot holding it by every later one.
  void merge_duplicates(std::uint64_t tag) noexcept;

  void* _map;
  std::size_t _map_size;
  file_header* _header;
  slot* _slots;
  std::uint32_t _mask;                  // capacity - 1
  std::array<unsigned char, 16> _key;   // a copy of the header's, so that hashing reads no shared line
  std::string _path;
};

}  // namespace ferry::dp
