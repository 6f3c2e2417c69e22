#pragma once
// `ferryctl inspect`: one Wormhole VAA, Hyperlane v3 message or LayerZero v2 packet, parsed and checked offline
// and described as one JSON object, for an operator checking a message by hand (docs/inspect.md). Kept out of the
// binary so that tests can drive it without a process.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/platform/result.hpp"

namespace ferry::ctl {

// What the operator asked for, as typed: inspect() checks every field and names the option at fault.
struct inspect_request {
  std::string kind;  // "wormhole", "hyperlane" or "layerzero"

  // Exactly one input: hex digits (an optional 0x first), standard padded base64, or a file of raw bytes. Each is
  // the bare message: a VAA, a Hyperlane message (not ferry's envelope), a LayerZero packet.
  std::optional<std::string> hex;
  std::optional<std::string> base64;
  std::optional<std::string> file;

  // Wormhole only: whose built-in guardian sets judge the VAA, "mainnet" (when absent) or "devnet".
  std::optional<std::string> network;

  // Hyperlane only, all four or none: the ISM type ("message-id-multisig" or "merkle-root-multisig"), its metadata
  // in hex, the validators' addresses (comma-separated, 0x and 40 hex digits each, in the order the ISM lists
  // them) and the threshold (a decimal in 1..validators).
  std::optional<std::string> ism;
  std::optional<std::string> metadata;
  std::optional<std::string> validators;
  std::optional<std::string> threshold;

  std::uint64_t now = 0;  // unix seconds: whether an old guardian set has expired is judged against it
};

struct inspect_outcome {
  // 0: parsed, and verified where verification applies (wormhole always, hyperlane with an ISM, layerzero's guid);
  // 1: not parsed or not verified; 2: a usage error, nothing inspected.
  int exit_code = 0;
  std::string json;         // one JSON object and a newline when exit_code is 0 or 1; empty for 2
  std::string usage_error;  // what is wrong with the request, naming the option, when exit_code is 2
};

inline constexpr int inspect_ok = 0;
inline constexpr int inspect_rejected = 1;
inline constexpr int inspect_usage = 2;

// Reads the input, parses and verifies it. Does not touch the network or ferryd; reads `file` when given. Costs
// one secp256k1 recovery per signature present (tens of microseconds each).
inspect_outcome inspect(const inspect_request& request);

// Hex digits to bytes: an optional "0x" or "0X", then an even number of hex digits in either case, nothing else.
platform::result<std::vector<std::byte>> decode_hex(std::string_view text);

// RFC 4648 base64 (standard alphabet, '=' padding required, no whitespace, unused bits zero) to bytes.
platform::result<std::vector<std::byte>> decode_base64(std::string_view text);

}  // namespace ferry::ctl
