#pragma once
// A stage: one step of the data path that a thread polls. A thread may run several stages in turn (those a layout
// puts on the same core); a stage therefore never blocks: when it cannot go on (an output ring is full), it
// returns and tries again at its next poll.

#include <cstdint>

namespace ferry::dp {

class rx_port;

class stage {
 public:
  virtual ~stage() = default;
  // Does one burst of work; returns how many items it handled (0: it found nothing to do, or was held back).
  virtual std::uint32_t poll_once() noexcept = 0;
  // The port whose wait an idle thread running this stage alone may sleep in (a datagram ends it at once), or
  // nullptr for a stage fed by rings.
  virtual rx_port* receives_from() noexcept { return nullptr; }
};

}  // namespace ferry::dp
