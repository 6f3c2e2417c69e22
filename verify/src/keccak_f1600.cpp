#include "keccak_f1600.hpp"

// The round in the form of the Keccak team's KeccakP-1600-opt64 (XKCP): 25 lanes in local variables, rho and pi
// folded into where each lane is read from, two rounds per step so that the two sets of lanes trade places without
// copies, and lane complementing.
//
// Lane complementing ("bebigokimisa"): six lanes (be, bi, go, ki, mi, sa) are kept inverted during the rounds.
// With that pattern, all but one of chi's five AND-NOTs in a row turn into a plain AND or OR, which saves most of
// the twenty-five NOTs a round on x86-64, where there is no and-not instruction without BMI1 (7% fewer
// instructions a block with GCC 12). On ARM (BIC, ORN, EON) it costs nothing, so every target runs the same code.
// The inversion is applied when the lanes are loaded and undone when they are stored, so the state outside this
// file is always the plain one.
//
// Measured on x86-64 with GCC 12 and kept the simpler way:
// - Two rounds a loop step (2.5 KB of code), not 24 unrolled. Unrolled, it runs as many instructions but they are
//   20 KB of straight-line code, more than the micro-op cache holds, and it ran 1.5 times slower, decode-bound.
// - Theta's column parities computed at the start of each round, not gathered while chi writes the previous
//   round's lanes (XKCP's "prepare theta"). With 16 registers for some 40 live values the parities come from
//   memory operands either way, and gathering them early costs registers during chi: 2% more instructions.

namespace ferry::verify {

namespace {

constexpr std::array<std::uint64_t, 24> round_constants{
    0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000, 0x000000000000808b,
    0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008a, 0x0000000000000088,
    0x0000000080008009, 0x000000008000000a, 0x000000008000808b, 0x800000000000008b, 0x8000000000008089,
    0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008};

// Lanes named as in the Keccak reference code: rows b g k m s (y = 0..4), columns a e i o u (x = 0..4).
struct lanes {
  std::uint64_t ba, be, bi, bo, bu;
  std::uint64_t ga, ge, gi, go, gu;
  std::uint64_t ka, ke, ki, ko, ku;
  std::uint64_t ma, me, mi, mo, mu;
  std::uint64_t sa, se, si, so, su;
};

// Column parities, theta's C[x].
struct columns {
  std::uint64_t a, e, i, o, u;
};

[[gnu::always_inline]] inline lanes load(const keccak_state& s) noexcept {
  return {s[0],  ~s[1],  ~s[2],  s[3],  s[4],  s[5],  s[6],  s[7],  ~s[8],  s[9],  s[10], s[11], ~s[12],
          s[13], s[14],  s[15], s[16], ~s[17], s[18], s[19], ~s[20], s[21], s[22], s[23], s[24]};
}

[[gnu::always_inline]] inline void store(keccak_state& s, const lanes& l) noexcept {
  s = {l.ba, ~l.be, ~l.bi, l.bo, l.bu, l.ga, l.ge, l.gi, ~l.go, l.gu, l.ka, l.ke, ~l.ki,
       l.ko, l.ku,  l.ma,  l.me, ~l.mi, l.mo, l.mu, ~l.sa, l.se, l.si, l.so, l.su};
}

[[gnu::always_inline]] inline columns parities(const lanes& l) noexcept {
  return {l.ba ^ l.ga ^ l.ka ^ l.ma ^ l.sa, l.be ^ l.ge ^ l.ke ^ l.me ^ l.se, l.bi ^ l.gi ^ l.ki ^ l.mi ^ l.si,
          l.bo ^ l.go ^ l.ko ^ l.mo ^ l.so, l.bu ^ l.gu ^ l.ku ^ l.mu ^ l.su};
}

// One round from `a` into `e`. Each block below is one output row: pi gathers its five inputs from a diagonal of
// `a`, theta and rho are applied on the way in, then chi (in its complemented form) and, for the first row, iota.
[[gnu::always_inline]] inline void round(const lanes& a, lanes& e, std::uint64_t rc) noexcept {
  using std::rotl;
  const columns c = parities(a);
  const std::uint64_t da = c.u ^ rotl(c.e, 1);
  const std::uint64_t de = c.a ^ rotl(c.i, 1);
  const std::uint64_t di = c.e ^ rotl(c.o, 1);
  const std::uint64_t d_o = c.i ^ rotl(c.u, 1);
  const std::uint64_t du = c.o ^ rotl(c.a, 1);

  std::uint64_t b0 = a.ba ^ da;
  std::uint64_t b1 = rotl(a.ge ^ de, 44);
  std::uint64_t b2 = rotl(a.ki ^ di, 43);
  std::uint64_t b3 = rotl(a.mo ^ d_o, 21);
  std::uint64_t b4 = rotl(a.su ^ du, 14);
  e.ba = b0 ^ (b1 | b2) ^ rc;
  e.be = b1 ^ (~b2 | b3);
  e.bi = b2 ^ (b3 & b4);
  e.bo = b3 ^ (b4 | b0);
  e.bu = b4 ^ (b0 & b1);

  b0 = rotl(a.bo ^ d_o, 28);
  b1 = rotl(a.gu ^ du, 20);
  b2 = rotl(a.ka ^ da, 3);
  b3 = rotl(a.me ^ de, 45);
  b4 = rotl(a.si ^ di, 61);
  e.ga = b0 ^ (b1 | b2);
  e.ge = b1 ^ (b2 & b3);
  e.gi = b2 ^ (b3 | ~b4);
  e.go = b3 ^ (b4 | b0);
  e.gu = b4 ^ (b0 & b1);

  b0 = rotl(a.be ^ de, 1);
  b1 = rotl(a.gi ^ di, 6);
  b2 = rotl(a.ko ^ d_o, 25);
  b3 = rotl(a.mu ^ du, 8);
  b4 = rotl(a.sa ^ da, 18);
  e.ka = b0 ^ (b1 | b2);
  e.ke = b1 ^ (b2 & b3);
  e.ki = b2 ^ (~b3 & b4);
  e.ko = ~b3 ^ (b4 | b0);
  e.ku = b4 ^ (b0 & b1);

  b0 = rotl(a.bu ^ du, 27);
  b1 = rotl(a.ga ^ da, 36);
  b2 = rotl(a.ke ^ de, 10);
  b3 = rotl(a.mi ^ di, 15);
  b4 = rotl(a.so ^ d_o, 56);
  e.ma = b0 ^ (b1 & b2);
  e.me = b1 ^ (b2 | b3);
  e.mi = b2 ^ (~b3 | b4);
  e.mo = ~b3 ^ (b4 & b0);
  e.mu = b4 ^ (b0 | b1);

  b0 = rotl(a.bi ^ di, 62);
  b1 = rotl(a.go ^ d_o, 55);
  b2 = rotl(a.ku ^ du, 39);
  b3 = rotl(a.ma ^ da, 41);
  b4 = rotl(a.se ^ de, 2);
  e.sa = b0 ^ (~b1 & b2);
  e.se = ~b1 ^ (b2 | b3);
  e.si = b2 ^ (b3 & b4);
  e.so = b3 ^ (b4 | b0);
  e.su = b4 ^ (b0 & b1);
}

[[gnu::always_inline]] inline void permute(lanes& a) noexcept {
  lanes e;
  for (std::size_t i = 0; i < round_constants.size(); i += 2) {
    round(a, e, round_constants[i]);
    round(e, a, round_constants[i + 1]);
  }
}

// Into the complemented lanes as into the others: ~x ^ d == ~(x ^ d).
[[gnu::always_inline]] inline void xor_block_136(lanes& l, const std::byte* p) noexcept {
  l.ba ^= load_lane(p + 0);
  l.be ^= load_lane(p + 8);
  l.bi ^= load_lane(p + 16);
  l.bo ^= load_lane(p + 24);
  l.bu ^= load_lane(p + 32);
  l.ga ^= load_lane(p + 40);
  l.ge ^= load_lane(p + 48);
  l.gi ^= load_lane(p + 56);
  l.go ^= load_lane(p + 64);
  l.gu ^= load_lane(p + 72);
  l.ka ^= load_lane(p + 80);
  l.ke ^= load_lane(p + 88);
  l.ki ^= load_lane(p + 96);
  l.ko ^= load_lane(p + 104);
  l.ku ^= load_lane(p + 112);
  l.ma ^= load_lane(p + 120);
  l.me ^= load_lane(p + 128);
}

}  // namespace

void keccak_f1600(keccak_state& state) noexcept {
  lanes l = load(state);
  permute(l);
  store(state, l);
}

void keccak_f1600_absorb_136(keccak_state& state, const std::byte* data, std::size_t blocks) noexcept {
  lanes l = load(state);
  for (; blocks > 0; --blocks, data += 136) {
    xor_block_136(l, data);
    permute(l);
  }
  store(state, l);
}

}  // namespace ferry::verify
