#pragma once
// The key sets that trust verify::demo's keys, as the built-in default configuration does: for tests that run
// signed traffic through a verifier or a pipeline without a configuration file.

#include <cstdint>
#include <initializer_list>

#include "ferry/verify/demo_keys.hpp"
#include "ferry/verify/verifier.hpp"

namespace ferry::testing {

inline verify::key_sets demo_key_sets(std::initializer_list<std::uint32_t> hyperlane_origins = {1, 9, 10},
                                      std::initializer_list<std::uint32_t> layerzero_eids = {30101}) {
  verify::key_sets keys;
  keys.wormhole = verify::wormhole::built_in_guardian_sets(verify::wormhole::network::devnet);
  for (const std::uint32_t origin : hyperlane_origins) {
    if (!keys.hyperlane.add({origin, verify::hyperlane::ism_type::message_id_multisig,
                             {verify::demo::hyperlane_validator()}, 1})) {
      std::abort();
    }
  }
  for (const std::uint32_t eid : layerzero_eids) {
    verify::layerzero::path_config path;
    path.src_eid = eid;
    path.required.push_back({verify::demo::layerzero_dvn(), {verify::demo::layerzero_dvn_signer()}, 1});
    if (!keys.layerzero.add(std::move(path))) std::abort();
  }
  if (!keys.quorum.add({verify::demo::quorum_key_set, {verify::demo::quorum_key()}, 1})) std::abort();
  return keys;
}

}  // namespace ferry::testing
