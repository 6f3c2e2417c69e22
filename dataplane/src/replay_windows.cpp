#include "ferry/dataplane/replay_windows.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <system_error>
#include <utility>

#include "ferry/platform/files.hpp"

// Memory orders. A record's decision is one read-modify-write of the one word it concerns (a tag or an entry): of
// two racing CASes exactly one wins whatever the order, and an entry is its own payload, so entries are relaxed.
// The one thing a word publishes is a claimed slot's last_used_s, stored before the tag's CAS (R1, R2) and seen by
// whoever loads the tag (A1), so that an eviction does not take a slot claimed an instant ago for the oldest.

namespace ferry::dp {

namespace {

static_assert(crypto_shorthash_BYTES == 8 && crypto_shorthash_KEYBYTES == 16, "SipHash-2-4: 64-bit tag, 128-bit key");
static_assert(replay_windows::slots_offset % alignof(replay_windows::slot) == 0);

constexpr std::uint32_t min_slot_size = 16 + 8 * replay_windows::window;
constexpr std::uint32_t max_slot_size = 4096;    // a cache line of 128 bytes makes 640; anything past this is damage
constexpr std::uint32_t max_slots_offset = 4096;
constexpr std::uint64_t no_sequence = std::numeric_limits<std::uint64_t>::max();

bool valid_capacity(std::uint64_t channels) noexcept {
  return channels >= replay_windows::min_channels && channels <= replay_windows::max_channels &&
         (channels & (channels - 1)) == 0;
}

std::string errno_text(int number) { return std::error_code(number, std::generic_category()).message(); }

// Each refusal names the file first; `fix` says what the operator does about it.
platform::error file_error(const std::string& path, const std::string& what, const std::string& fix) {
  return platform::error("replay window file '" + path + "': " + what + "; " + fix);
}

const std::string damaged_fix =
    "the file is damaged or not ferry's: move it out of the way (ferry then starts with empty windows) or restore it "
    "from a backup";

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string kind_of_file(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

class map_guard {
 public:
  map_guard(void* data, std::size_t size) noexcept : _data(data), _size(size) {}
  map_guard(const map_guard&) = delete;
  map_guard& operator=(const map_guard&) = delete;
  ~map_guard() {
    if (_data != nullptr) ::munmap(_data, _size);
  }
  void* release() noexcept { return std::exchange(_data, nullptr); }

 private:
  void* _data;
  std::size_t _size;
};

// The fields of a header as read from a file, before anything in it is trusted.
struct header_fields {
  std::array<char, 8> magic{};
  std::uint32_t version = 0;
  std::uint32_t window = 0;
  std::uint32_t capacity = 0;
  std::array<unsigned char, 16> key{};
  std::uint32_t slot_size = 0;
  std::uint32_t slots_offset = 0;
  std::uint64_t channels_in_use = 0;
  std::uint64_t evictions = 0;
};

template <class T>
T load_at(const std::byte* p, std::size_t offset) noexcept {
  T v;
  std::memcpy(&v, p + offset, sizeof v);
  return v;
}

header_fields parse_header(const std::byte* p) noexcept {
  using h = replay_windows::file_header;
  header_fields f;
  std::memcpy(f.magic.data(), p + offsetof(h, magic), f.magic.size());
  f.version = load_at<std::uint32_t>(p, offsetof(h, version));
  f.window = load_at<std::uint32_t>(p, offsetof(h, window));
  f.capacity = load_at<std::uint32_t>(p, offsetof(h, capacity));
  std::memcpy(f.key.data(), p + offsetof(h, key), f.key.size());
  f.slot_size = load_at<std::uint32_t>(p, offsetof(h, slot_size));
  f.slots_offset = load_at<std::uint32_t>(p, offsetof(h, slots_offset));
  f.channels_in_use = load_at<std::uint64_t>(p, offsetof(h, channels_in_use));
  f.evictions = load_at<std::uint64_t>(p, offsetof(h, evictions));
  return f;
}

// Checks a header against the file's size; on success the file is a table of f.capacity slots of f.slot_size
// bytes from f.slots_offset, which may still be another layout than this build's.
platform::result<header_fields> check_header(const std::string& path, const std::byte* bytes, std::uint64_t size) {
  const header_fields f = parse_header(bytes);
  if (f.magic != replay_windows::file_magic) {
    return file_error(path, "bad magic, not a replay window file", damaged_fix);
  }
  if (f.version != replay_windows::file_version) {
    return file_error(path,
                      "version " + std::to_string(f.version) + ", but this ferry reads version " +
                          std::to_string(replay_windows::file_version),
                      "move it out of the way (ferry then starts with empty windows) or run the ferry that made it");
  }
  if (f.window != replay_windows::window) {
    return file_error(path,
                      "windows of " + std::to_string(f.window) + " sequences, but this ferry keeps " +
                          std::to_string(replay_windows::window),
                      damaged_fix);
  }
  if (!valid_capacity(f.capacity)) {
    return file_error(path,
                      "header capacity " + std::to_string(f.capacity) + " is not a power of two from " +
                          std::to_string(replay_windows::min_channels) + " to " +
                          std::to_string(replay_windows::max_channels),
                      damaged_fix);
  }
  if (f.slot_size < min_slot_size || f.slot_size > max_slot_size || f.slot_size % 8 != 0 ||
      f.slots_offset < sizeof(replay_windows::file_header) || f.slots_offset > max_slots_offset ||
      f.slots_offset % 8 != 0) {
    return file_error(path,
                      "header slot layout (" + std::to_string(f.slot_size) + "-byte slots from offset " +
                          std::to_string(f.slots_offset) + ") is impossible",
                      damaged_fix);
  }
  const std::uint64_t expected = f.slots_offset + std::uint64_t{f.capacity} * f.slot_size;
  if (size != expected) {
    return file_error(path,
                      std::to_string(size) + " bytes, but its header (capacity " + std::to_string(f.capacity) +
                          ") needs " + std::to_string(expected) + ": the file is " +
                          (size < expected ? "truncated" : "too long"),
                      damaged_fix);
  }
  return f;
}

// Places an empty table of `capacity` channels at `memory` (footprint(capacity) bytes, zero-filled).
replay_windows::file_header* new_table(void* memory, std::uint32_t capacity,
                                       const std::array<unsigned char, 16>& key) noexcept {
  auto* header = new (memory) replay_windows::file_header{};
  header->magic = replay_windows::file_magic;
  header->version = replay_windows::file_version;
  header->window = replay_windows::window;
  header->capacity = capacity;
  header->key = key;
  header->slot_size = sizeof(replay_windows::slot);
  header->slots_offset = replay_windows::slots_offset;
  header->reserved = 0;
  return header;
}

replay_windows::slot* slots_of(void* memory) noexcept {
  // Through void*: the mapping is page-aligned and slots_offset a multiple of the slot's alignment.
  void* first = static_cast<std::byte*>(memory) + replay_windows::slots_offset;
  return std::launder(static_cast<replay_windows::slot*>(first));
}

std::uint32_t start_of(std::uint64_t tag, std::uint32_t mask) noexcept {
  return static_cast<std::uint32_t>(tag >> 1) & mask;
}

// Raises `entry` to at least `value` (a record only ever raises an entry).
void raise_to(std::atomic<std::uint64_t>& entry, std::uint64_t value) noexcept {
  std::uint64_t current = entry.load(std::memory_order_relaxed);
  while (current < value && !entry.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}

// Copies the windows of an old table (another capacity or slot layout, mapped read-only) into a new one that no
// other thread sees yet. Where more than probe_limit channels meet in one range, the most recently used stay.
void copy_windows(const std::byte* old_base, const header_fields& old, replay_windows::file_header& header,
                  replay_windows::slot* slots) noexcept {
  const std::uint32_t mask = header.capacity - 1;
  std::uint64_t dropped = 0;
  for (std::uint64_t i = 0; i < old.capacity; ++i) {
    const std::byte* from = old_base + old.slots_offset + i * old.slot_size;
    const auto tag = load_at<std::uint64_t>(from, 0);
    if ((tag & 1) == 0) continue;  // empty (or not a tag any ferry makes)
    const auto last_used = load_at<std::uint64_t>(from, 8);
    replay_windows::slot* into = nullptr;
    replay_windows::slot* oldest = nullptr;
    for (std::uint32_t probe = 0; probe < replay_windows::probe_limit; ++probe) {
      replay_windows::slot& s = slots[(start_of(tag, mask) + probe) & mask];
      const std::uint64_t t = s.tag.load(std::memory_order_relaxed);
      if (t == tag || t == 0) {
        into = &s;
        break;
      }
      if (oldest == nullptr ||
          s.last_used_s.load(std::memory_order_relaxed) < oldest->last_used_s.load(std::memory_order_relaxed)) {
        oldest = &s;
      }
    }
    if (into == nullptr) {
      dropped += 1;
      if (oldest->last_used_s.load(std::memory_order_relaxed) >= last_used) continue;
      into = oldest;
      for (auto& e : into->entries) e.store(0, std::memory_order_relaxed);
      into->tag.store(0, std::memory_order_relaxed);
    }
    if (into->tag.load(std::memory_order_relaxed) == 0) {
      into->tag.store(tag, std::memory_order_relaxed);
      into->last_used_s.store(0, std::memory_order_relaxed);
    }
    raise_to(into->last_used_s, last_used);
    for (std::uint32_t r = 0; r < replay_windows::window; ++r) {
      raise_to(into->entries[r], load_at<std::uint64_t>(from, 16 + 8 * std::size_t{r}));
    }
  }
  std::uint64_t in_use = 0;
  for (std::uint64_t i = 0; i <= mask; ++i) {
    if (slots[i].tag.load(std::memory_order_relaxed) != 0) in_use += 1;
  }
  header.channels_in_use.store(in_use, std::memory_order_relaxed);
  header.evictions.store(old.evictions + dropped, std::memory_order_relaxed);
}

platform::result<std::array<unsigned char, 16>> random_key() {
  if (sodium_init() < 0) return platform::error("libsodium failed to initialise (no source of randomness?)");
  std::array<unsigned char, 16> key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

platform::result<std::size_t> map_size(std::uint64_t bytes, const std::string& what) {
  if (bytes > std::numeric_limits<std::size_t>::max() ||
      bytes > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
    return platform::error(what + ": " + std::to_string(bytes) +
                           " bytes do not fit this machine's address space; ask for fewer channels");
  }
  return static_cast<std::size_t>(bytes);
}

// Writes a table of `capacity` channels under `key` as `path + ".new"` (with the windows of `old` when given),
// syncs it, and renames it over `path`.
platform::result<void> write_file(const std::string& path, std::uint32_t capacity,
                                  const std::array<unsigned char, 16>& key, const std::byte* old_base,
                                  const header_fields* old) {
  const std::string fresh = path + ".new";
  const auto fail = [&](const std::string& what) {
    const int number = errno;
    ::unlink(fresh.c_str());
    return file_error(fresh, what + ": " + errno_text(number),
                      "check that ferry's state directory is writable by ferry and has room");
  };
  if (::unlink(fresh.c_str()) != 0 && errno != ENOENT) return fail("cannot remove a leftover");
  const platform::descriptor fd(::open(fresh.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return fail("cannot create");
  if (::fchmod(fd.get(), 0600) != 0) return fail("cannot set mode 0600");
  auto size = map_size(replay_windows::footprint(capacity), "replay windows for " + std::to_string(capacity) +
                                                                " channels");
  if (!size) {
    ::unlink(fresh.c_str());
    return std::move(size).err();
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(*size)) != 0) return fail("cannot size");
  void* memory = ::mmap(nullptr, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (memory == MAP_FAILED) return fail("cannot map");
  {
    const map_guard mapped(memory, *size);
    replay_windows::file_header* header = new_table(memory, capacity, key);
    if (old != nullptr) copy_windows(old_base, *old, *header, slots_of(memory));
    if (::msync(memory, *size, MS_SYNC) != 0) return fail("cannot write");
  }
  if (::fsync(fd.get()) != 0) return fail("cannot sync");
  if (::rename(fresh.c_str(), path.c_str()) != 0) return fail("cannot rename it to '" + path + "'");
  return platform::sync_directory_of(path);
}

enum class opened_as { ready, refile };

// Opens and checks an existing file. `fd` and `fields` are filled when it is safe to map.
platform::result<opened_as> open_existing(const std::string& path, std::uint32_t channels, int& fd_out,
                                          header_fields& fields, std::uint64_t& size_out) {
  struct stat named{};
  if (::lstat(path.c_str(), &named) != 0) {
    return file_error(path, "cannot look at it: " + errno_text(errno), "check ferry's state directory");
  }
  if (S_ISLNK(named.st_mode)) {
    return file_error(path, "is a symbolic link, and ferry opens only a regular file it owns",
                      "remove the link (ferry then makes the file) or set the state directory to where the file is");
  }
  if (!S_ISREG(named.st_mode)) {
    return file_error(path, "is " + kind_of_file(named.st_mode) + ", not a regular file",
                      "move it out of the way (ferry then makes the file)");
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int number = errno;
    if (number == ELOOP) {
      return file_error(path, "is a symbolic link, and ferry opens only a regular file it owns",
                        "remove the link (ferry then makes the file) or set the state directory to where the file is");
    }
    return file_error(path, "cannot open: " + errno_text(number),
                      "make it readable and writable by ferry's user (mode 0600)");
  }
  platform::descriptor guard(fd);
  struct stat st{};
  if (::fstat(fd, &st) != 0) return file_error(path, "cannot stat: " + errno_text(errno), "check the file");
  if (!S_ISREG(st.st_mode) || st.st_dev != named.st_dev || st.st_ino != named.st_ino) {
    return file_error(path, "changed while it was being opened, or is not a regular file",
                      "make sure nothing else writes ferry's state directory");
  }
  if (st.st_uid != ::geteuid()) {
    return file_error(path,
                      "owned by uid " + std::to_string(st.st_uid) + ", not by ferry's effective uid " +
                          std::to_string(::geteuid()),
                      "chown it to uid " + std::to_string(::geteuid()) + " or remove it");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return file_error(path,
                      "mode " + octal_mode(st.st_mode) +
                          " lets group or others write it, and whoever writes it can erase replay windows",
                      "chmod 600 it");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::array<std::byte, sizeof(replay_windows::file_header)> raw{};
  if (size < raw.size()) {
    return file_error(path, std::to_string(size) + " bytes, shorter than the " + std::to_string(raw.size()) +
                                "-byte header: the file is truncated",
                      damaged_fix);
  }
  if (::pread(fd, raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size())) {
    return file_error(path, "cannot read its header: " + errno_text(errno), damaged_fix);
  }
  auto checked = check_header(path, raw.data(), size);
  if (!checked) return std::move(checked).err();
  fields = *checked;
  size_out = size;
  fd_out = guard.release();
  const bool same_layout = fields.capacity == channels && fields.slot_size == sizeof(replay_windows::slot) &&
                           fields.slots_offset == replay_windows::slots_offset;
  return same_layout ? opened_as::ready : opened_as::refile;
}

}  // namespace

std::uint64_t replay_windows::footprint(std::uint32_t channels) noexcept {
  if (!valid_capacity(channels)) return 0;
  return slots_offset + std::uint64_t{channels} * sizeof(slot);
}

replay_windows::replay_windows(void* map, std::size_t map_size, std::string path) noexcept
    : _map(map),
      _map_size(map_size),
      _header(std::launder(static_cast<file_header*>(map))),
      _slots(slots_of(map)),
      _mask(_header->capacity - 1),
      _key(_header->key),
      _path(std::move(path)) {}

replay_windows::~replay_windows() {
  if (!_path.empty()) ::msync(_map, _map_size, MS_SYNC);
  ::munmap(_map, _map_size);
}

platform::result<std::unique_ptr<replay_windows>> replay_windows::in_memory(std::uint32_t channels) {
  if (!valid_capacity(channels)) {
    return platform::error("replay windows: " + std::to_string(channels) + " channels: must be a power of two from " +
                           std::to_string(min_channels) + " to " + std::to_string(max_channels));
  }
  auto key = random_key();
  if (!key) return std::move(key).context("replay windows");
  auto size = map_size(footprint(channels), "replay windows for " + std::to_string(channels) + " channels");
  if (!size) return std::move(size).err();
  void* memory = ::mmap(nullptr, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) return platform::error("replay windows: cannot map memory: " + errno_text(errno));
  new_table(memory, channels, *key);
  return std::unique_ptr<replay_windows>(new replay_windows(memory, *size, std::string()));
}

platform::result<std::unique_ptr<replay_windows>> replay_windows::open(const std::string& path,
                                                                       std::uint32_t channels) {
  if (!valid_capacity(channels)) {
    return platform::error("replay window file '" + path + "': " + std::to_string(channels) +
                           " channels: must be a power of two from " + std::to_string(min_channels) + " to " +
                           std::to_string(max_channels));
  }
  if (path.empty()) return platform::error("replay window file: no path given");
  // At most: make or re-file, then open what was written. A third pass means the file changed under us.
  for (int pass = 0; pass < 3; ++pass) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        return file_error(path, "cannot look at it: " + errno_text(errno), "check ferry's state directory");
      }
      auto key = random_key();
      if (!key) return std::move(key).context("replay window file '" + path + "'");
      auto written = write_file(path, channels, *key, nullptr, nullptr);
      if (!written) return std::move(written).err();
      continue;
    }
    int fd = -1;
    header_fields fields;
    std::uint64_t file_size = 0;
    auto opened = open_existing(path, channels, fd, fields, file_size);
    if (!opened) return std::move(opened).err();
    const platform::descriptor guard(fd);
    auto size = map_size(file_size, "replay window file '" + path + "'");
    if (!size) return std::move(size).err();
    if (*opened == opened_as::ready) {
      void* memory = ::mmap(nullptr, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (memory == MAP_FAILED) {
        return file_error(path, "cannot map: " + errno_text(errno), "check the memory limits of ferry's user");
      }
      auto table = std::unique_ptr<replay_windows>(new replay_windows(memory, *size, path));
      if (fields.channels_in_use > fields.capacity) table->recount();
      return table;
    }
    void* old = ::mmap(nullptr, *size, PROT_READ, MAP_SHARED, fd, 0);
    if (old == MAP_FAILED) {
      return file_error(path, "cannot map: " + errno_text(errno), "check the memory limits of ferry's user");
    }
    const map_guard old_mapped(old, *size);
    auto written = write_file(path, channels, fields.key, static_cast<const std::byte*>(old), &fields);
    if (!written) {
      return std::move(written).context("replay window file '" + path + "': re-filing " +
                                        std::to_string(fields.capacity) + " channels into " +
                                        std::to_string(channels));
    }
  }
  return file_error(path, "changed while it was being opened", "make sure only one ferry uses this state directory");
}

std::uint64_t replay_windows::tag_of(const verify::channel& c) const noexcept {
  std::array<unsigned char, 1 + verify::channel::max_id_size> input{};
  const std::size_t size = std::min<std::size_t>(c.size, verify::channel::max_id_size);
  input[0] = static_cast<unsigned char>(c.kind);
  std::memcpy(input.data() + 1, c.id.data(), size);
  std::array<unsigned char, crypto_shorthash_BYTES> hash{};
  crypto_shorthash(hash.data(), input.data(), 1 + size, _key.data());
  std::uint64_t tag;
  std::memcpy(&tag, hash.data(), sizeof tag);
  return tag | 1;
}

replay_windows::slot* replay_windows::find(std::uint64_t tag) const noexcept {
  const std::uint32_t start = start_of(tag, _mask);
  for (std::uint32_t probe = 0; probe < probe_limit; ++probe) {
    slot& s = _slots[(start + probe) & _mask];
    // A1: pairs with R1 and R2 in find_or_make(): sees the last_used_s stored before the tag.
    const std::uint64_t t = s.tag.load(std::memory_order_acquire);
    if (t == tag) return &s;
    // Slots never empty again, and a channel takes the first empty slot of its range: it is not further on.
    if (t == 0) return nullptr;
  }
  return nullptr;
}

replay_windows::slot& replay_windows::find_or_make(std::uint64_t tag, std::uint64_t now_s) noexcept {
  const std::uint32_t start = start_of(tag, _mask);
  for (;;) {
    slot* empty = nullptr;
    slot* oldest = nullptr;
    std::uint64_t oldest_tag = 0;
    std::uint64_t oldest_used = 0;
    for (std::uint32_t probe = 0; probe < probe_limit; ++probe) {
      slot& s = _slots[(start + probe) & _mask];
      // A1: pairs with R1 and R2 below: sees the last_used_s stored before the tag.
      const std::uint64_t t = s.tag.load(std::memory_order_acquire);
      if (t == tag) return s;
      if (t == 0) {
        empty = &s;
        break;
      }
      const std::uint64_t used = s.last_used_s.load(std::memory_order_relaxed);
      if (oldest == nullptr || used < oldest_used) {
        oldest = &s;
        oldest_tag = t;
        oldest_used = used;
      }
    }
    if (empty != nullptr) {
      // Should another channel win the slot, this store only makes it look used now, which it is.
      empty->last_used_s.store(now_s, std::memory_order_relaxed);
      std::uint64_t expected = 0;
      // R1: pairs with A1: whoever sees the tag sees last_used_s.
      if (empty->tag.compare_exchange_strong(expected, tag, std::memory_order_acq_rel, std::memory_order_acquire)) {
        _header->channels_in_use.fetch_add(1, std::memory_order_relaxed);
        return *empty;
      }
      if (expected == tag) return *empty;  // another thread made this channel at the same instant
      continue;                            // another channel took it: look again
    }
    oldest->last_used_s.store(now_s, std::memory_order_relaxed);
    std::uint64_t expected = oldest_tag;
    // R2: pairs with A1, as R1.
    if (oldest->tag.compare_exchange_strong(expected, tag, std::memory_order_acq_rel, std::memory_order_acquire)) {
      _header->evictions.fetch_add(1, std::memory_order_relaxed);
      // A record only raises an entry, so a failed CAS here means a record of the new channel (keep it) or a stray
      // one of the old (the documented cost).
      for (auto& entry : oldest->entries) {
        std::uint64_t e = entry.load(std::memory_order_relaxed);
        if (e != 0) entry.compare_exchange_strong(e, 0, std::memory_order_relaxed);
      }
      merge_duplicates(tag);
      return *oldest;
    }
    if (expected == tag) return *oldest;
    // The victim was used or taken meanwhile: look again.
  }
}

void replay_windows::merge_duplicates(std::uint64_t tag) noexcept {
  const std::uint32_t start = start_of(tag, _mask);
  slot* first = nullptr;
  for (std::uint32_t probe = 0; probe < probe_limit; ++probe) {
    slot& s = _slots[(start + probe) & _mask];
    // A1 again: only the tag is used here.
    const std::uint64_t t = s.tag.load(std::memory_order_acquire);
    if (t == 0) break;
    if (t != tag) continue;
    if (first == nullptr) {
      first = &s;
      continue;
    }
    for (std::uint32_t r = 0; r < window; ++r) {
      raise_to(first->entries[r], s.entries[r].load(std::memory_order_relaxed));
    }
  }
}

bool replay_windows::seen(const verify::channel& c) const noexcept {
  if (c.sequence == no_sequence) return true;
  const slot* s = find(tag_of(c));
  if (s == nullptr) return false;
  return s->entries[static_cast<std::size_t>(c.sequence % window)].load(std::memory_order_relaxed) >= c.sequence + 1;
}

bool replay_windows::record(const verify::channel& c, std::uint64_t now_s) noexcept {
  if (c.sequence == no_sequence) return false;
  slot& s = find_or_make(tag_of(c), now_s);
  // Written only when the second moved on: one store per channel per second to the slot's first line, not one
  // per message.
  if (s.last_used_s.load(std::memory_order_relaxed) < now_s) s.last_used_s.store(now_s, std::memory_order_relaxed);
  std::atomic<std::uint64_t>& entry = s.entries[static_cast<std::size_t>(c.sequence % window)];
  const std::uint64_t mark = c.sequence + 1;
  std::uint64_t e = entry.load(std::memory_order_relaxed);
  while (e < mark) {
    if (entry.compare_exchange_weak(e, mark, std::memory_order_relaxed)) return true;
  }
  return false;
}

void replay_windows::recount() noexcept {
  std::uint64_t in_use = 0;
  for (std::uint64_t i = 0; i <= _mask; ++i) {
    if (_slots[i].tag.load(std::memory_order_relaxed) != 0) in_use += 1;
  }
  _header->channels_in_use.store(in_use, std::memory_order_relaxed);
}

void replay_windows::sync() noexcept {
  if (!_path.empty()) ::msync(_map, _map_size, MS_SYNC);
}

replay_windows::stats replay_windows::read() const noexcept {
  const std::uint64_t capacity = std::uint64_t{_mask} + 1;
  return {std::min(_header->channels_in_use.load(std::memory_order_relaxed), capacity),
          _header->evictions.load(std::memory_order_relaxed), capacity};
}

}  // namespace ferry::dp
