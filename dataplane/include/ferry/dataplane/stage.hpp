#pragma once
// A stage: one step of the data path that a thread polls. A thread may run several stages in turn (those a layout
// puts on the same core); a stage therefore never blocks: when it cannot go on (an output ring is full), it
// returns and tries again at its next poll.

#include <cstdint>
#include <span>
#include <vector>

#include "ferry/dataplane/endpoint.hpp"

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

// Hosts whose frames marked "verified upstream" are forwarded without verifying again. A source address is easy
// to forge on UDP: list only routers on a link nobody else can inject into (link authentication comes with the
// peers of the control plane).
class trusted_upstreams {
 public:
  trusted_upstreams() = default;
  explicit trusted_upstreams(std::vector<endpoint> hosts) : _hosts(std::move(hosts)) {}
  bool contains(const endpoint& peer) const noexcept {
    for (const endpoint& h : _hosts) {
      if (h.same_host(peer)) return true;
    }
    return false;
  }
  bool empty() const noexcept { return _hosts.empty(); }

 private:
  std::vector<endpoint> _hosts;
};

}  // namespace ferry::dp
