// CTC forced alignment (engine/ctc.h ctc_align): known spans on hand-built log-posteriors (a blank
// forced between repeated symbols, a sequence exactly as long as its minimum, one that cannot fit);
// the path score is the best over all paths found by brute force; the spans as per-frame symbols
// at the input rate (models/las_align.h aligned_frame_symbols).
#include <cmath>
#include <limits>
#include <vector>

#include "engine/ctc.h"
#include "engine/rng.h"
#include "models/las_align.h"

#include <catch2/catch.hpp>

using namespace memsig;

namespace {

// Log-posteriors [T, V] where frame t gives probability 0.9 to best[t] and shares the rest.
std::vector<float> peaked(const std::vector<int>& best, int V) {
  std::vector<float> lp(best.size() * V);
  for (size_t t = 0; t < best.size(); ++t)
    for (int v = 0; v < V; ++v) lp[t * V + v] = (float)std::log(v == best[t] ? 0.9 : 0.1 / (V - 1));
  return lp;
}

// Collapse a frame path: merge repeats, drop blanks.
std::vector<int32_t> collapse(const std::vector<int>& path, int blank) {
  std::vector<int32_t> out;
  for (size_t t = 0; t < path.size(); ++t)
    if (path[t] != blank && (t == 0 || path[t] != path[t - 1])) out.push_back(path[t]);
  return out;
}

// The frame path the spans describe (labels on their frames, blank elsewhere).
std::vector<int> path_of(const CtcAlignment& a, const std::vector<int32_t>& y, int T, int blank) {
  std::vector<int> path(T, blank);
  for (size_t u = 0; u < y.size(); ++u)
    for (int t = a.first[u]; t <= a.last[u]; ++t) path[t] = y[u];
  return path;
}

}  // namespace

TEST_CASE("ctc_align recovers known spans", "[ctc_align]") {
  const int V = 4, blank = 0;
  SECTION("clear peaks, blanks around") {
    //                 t: 0  1  2  3  4  5  6
    std::vector<int> best{0, 1, 1, 0, 2, 3, 0};
    CtcAlignment a = ctc_align(peaked(best, V).data(), 7, V, {1, 2, 3}, blank);
    REQUIRE(a.possible);
    CHECK(a.first == std::vector<int>{1, 4, 5});
    CHECK(a.last == std::vector<int>{2, 4, 5});
  }
  SECTION("a repeated symbol needs a blank between its two runs") {
    // The posteriors say "1" on every frame; the path must still put a blank between the two 1s.
    std::vector<int> best{1, 1, 1, 1, 1};
    std::vector<int32_t> y{1, 1};
    CtcAlignment a = ctc_align(peaked(best, V).data(), 5, V, y, blank);
    REQUIRE(a.possible);
    REQUIRE(a.first.size() == 2);
    CHECK(a.last[0] + 1 < a.first[1]);  // at least one blank frame between
    CHECK(collapse(path_of(a, y, 5, blank), blank) == y);
    CHECK(a.score == Approx(4 * std::log(0.9) + std::log(0.1 / 3)).epsilon(1e-6));  // one frame forced off its peak
  }
  SECTION("exactly as long as the minimum: one frame each, blank only between the repeat") {
    std::vector<int> best{0, 0, 0, 0};  // the posteriors prefer blank everywhere
    std::vector<int32_t> y{2, 1, 1};    // minimum T = 3 labels + 1 repeat = 4
    CtcAlignment a = ctc_align(peaked(best, V).data(), 4, V, y, blank);
    REQUIRE(a.possible);
    CHECK(a.first == std::vector<int>{0, 1, 3});
    CHECK(a.last == std::vector<int>{0, 1, 3});
  }
  SECTION("labels that cannot fit their frames") {
    std::vector<int> best{1, 1, 1};
    CHECK_FALSE(ctc_align(peaked(best, V).data(), 3, V, {1, 1, 2}, blank).possible);  // needs 4
    CHECK_FALSE(ctc_align(peaked(best, V).data(), 0, V, {1}, blank).possible);
  }
  SECTION("bad labels are refused") {
    std::vector<int> best{1, 1};
    CHECK_THROWS(ctc_align(peaked(best, V).data(), 2, V, {0}, blank));  // the blank as a label
    CHECK_THROWS(ctc_align(peaked(best, V).data(), 2, V, {4}, blank));  // outside the vocabulary
  }
}

TEST_CASE("ctc_align's path score is the best over all paths (brute force)", "[ctc_align]") {
  const int V = 3, blank = 0, T = 6;
  Rng rng(11);
  const std::vector<std::vector<int32_t>> label_sets{{1}, {1, 2}, {1, 1}, {2, 1, 2}, {1, 1, 1}};
  for (int trial = 0; trial < 4; ++trial)
    for (const auto& y : label_sets) {
      std::vector<float> lp(T * V);
      for (int t = 0; t < T; ++t) {
        double z = 0;
        std::vector<double> e(V);
        for (int v = 0; v < V; ++v) z += e[v] = std::exp(2.0 * rng.normal());
        for (int v = 0; v < V; ++v) lp[t * V + v] = (float)std::log(e[v] / z);
      }
      double best = -std::numeric_limits<double>::infinity();
      std::vector<int> path(T, 0);
      for (int code = 0; code < (int)std::pow(V, T); ++code) {
        double score = 0;
        for (int t = 0, c = code; t < T; ++t, c /= V) score += lp[t * V + (path[t] = c % V)];
        if (collapse(path, blank) == y) best = std::max(best, score);
      }
      CtcAlignment a = ctc_align(lp.data(), T, V, y, blank);
      REQUIRE(a.possible);
      CHECK(a.score == Approx(best).epsilon(1e-6));
      // The spans describe a valid path of that score, in order.
      std::vector<int> p = path_of(a, y, T, blank);
      CHECK(collapse(p, blank) == y);
      double s = 0;
      for (int t = 0; t < T; ++t) s += lp[t * V + p[t]];
      CHECK(s == Approx(a.score).epsilon(1e-6));
      for (size_t u = 0; u < y.size(); ++u) {
        CHECK(a.first[u] <= a.last[u]);
        if (u > 0) CHECK(a.last[u - 1] < a.first[u]);
      }
    }
}

TEST_CASE("aligned_frame_symbols: reduced-frame spans at the input frame rate", "[ctc_align]") {
  CtcAlignment a;
  a.possible = true;
  a.first = {0, 2};
  a.last = {1, 2};
  // reduction 2, 7 input frames (the last reduced frame covers only input frame 6)
  CHECK(aligned_frame_symbols(a, 2, 7) == std::vector<int>{0, 0, 0, 0, 1, 1, -1});
  a.possible = false;
  CHECK(aligned_frame_symbols(a, 2, 3) == std::vector<int>{-1, -1, -1});
}
