// rng.h — a small seeded random generator (xoshiro256**, seeded through splitmix64).
// Every random choice in memsig (init, dropout, shuffling, subsampling, sampling) draws from an Rng
// constructed from the user's --seed, so runs repeat exactly (the probe's bootstrap draws its
// binomials from a std::mt19937_64 seeded the same way).
#pragma once
#include <cmath>
#include <cstdint>

namespace memsig {

class Rng {
 public:
  explicit Rng(uint64_t seed = 1) { reseed(seed); }
  void reseed(uint64_t seed) {
    uint64_t z = seed;
    for (auto& s : s_) s = splitmix(z);
  }
  uint64_t next_u64() {  // xoshiro256**
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = rotl(s_[3], 45);
    return result;
  }
  float uniform() { return (next_u64() >> 40) * (1.0f / 16777216.0f); }    // [0,1)
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  uint64_t below(uint64_t n) { return next_u64() % n; }
  float normal() {  // Box-Muller
    float u1 = uniform(), u2 = uniform();
    if (u1 < 1e-12f) u1 = 1e-12f;
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530718f * u2);
  }
  // The whole state, so a checkpoint can resume the exact random stream.
  void save(uint64_t out[4]) const { for (int i = 0; i < 4; ++i) out[i] = s_[i]; }
  void load(const uint64_t in[4]) { for (int i = 0; i < 4; ++i) s_[i] = in[i]; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& z) {
    z += 0x9e3779b97f4a7c15ull;
    uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  uint64_t s_[4];
};

}  // namespace memsig
