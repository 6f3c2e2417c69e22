// libFuzzer target over ctl::parse_upgrade_file(), the reader of the guardian set upgrade file in the state
// directory: any text found in its place gives entries and problems, never a crash; no entry holds more than the
// largest upgrade VAA or there are more than the format allows; and what was read, written again, reads back the
// same with nothing to say about it. (The entries' VAAs are verified again by the router: fuzz_wormhole_verifier's.)

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/control/upgrade_file.hpp"
#include "ferry/verify/wormhole_verifier.hpp"
#include "support/fuzz.hpp"

using ferry::testing::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ferry::ctl::upgrade_file_contents read = ferry::ctl::parse_upgrade_file(text);
  require(read.upgrades.size() <= ferry::ctl::max_upgrade_file_entries, "no more entries than the format allows");
  for (const ferry::ctl::stored_upgrade& u : read.upgrades) {
    require(!u.vaa.empty() && u.vaa.size() <= ferry::verify::wormhole::max_guardian_set_upgrade_size,
            "an entry's VAA is 1 to max_guardian_set_upgrade_size bytes");
  }
  const std::string written = ferry::ctl::format_upgrade_file(read.upgrades);
  const ferry::ctl::upgrade_file_contents again = ferry::ctl::parse_upgrade_file(written);
  require(again.problems.empty(), "what ferry writes reads back without a problem");
  require(again.upgrades.size() == read.upgrades.size(), "every entry written reads back");
  for (std::size_t i = 0; i < again.upgrades.size(); ++i) {
    const ferry::ctl::stored_upgrade &was = read.upgrades[i], &is = again.upgrades[i];
    require(is.learned_at == was.learned_at && is.vaa == was.vaa, "each entry reads back as it was");
  }
  return 0;
}
