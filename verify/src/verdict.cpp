#include "ferry/verify/verdict.hpp"

namespace ferry::verify {

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::valid: return "valid";
    case verdict::malformed: return "malformed";
    case verdict::bad_signature: return "bad_signature";
    case verdict::no_quorum: return "no_quorum";
    case verdict::unknown_key_set: return "unknown_key_set";
    case verdict::expired_key_set: return "expired_key_set";
    case verdict::duplicate: return "duplicate";
  }
  return "unknown";
}

}  // namespace ferry::verify
