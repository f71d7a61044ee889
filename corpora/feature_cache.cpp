#include "corpora/feature_cache.h"

#include <omp.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "corpora/audio.h"
#include "engine/kernels.h"
#include "engine/safetensors.h"

namespace memsig {

namespace fs = std::filesystem;

namespace {

// FNV-1a 64 over the set's identity: ids, paths, segment times, audio sizes and modification times.
std::string set_digest(const SpeechData& d) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  for (const Utterance& u : d.utts) {
    struct stat st {};
    bool ok = ::stat(u.path.c_str(), &st) == 0;
    char b[128];
    std::snprintf(b, sizeof b, "%.6f %.6f %lld %lld", u.start, u.end, ok ? (long long)st.st_size : -1LL,
                  ok ? (long long)st.st_mtime : -1LL);
    mix(u.id), mix(u.path), mix(b);
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", (unsigned long long)h);
  return out;
}

bool try_load(const std::string& path, const SpeechData& data, const std::string& digest, FeatureSet& fs_out) {
  if (!file_exists(path)) return false;
  SafeTensors st = load_safetensors(path);
  if (st.metadata["digest"] != digest) return false;
  const Tensor& feats = st.at(path, "feats");
  const Tensor& frames = st.at(path, "frames");
  auto utt = nlohmann::json::parse(st.metadata["utt"], nullptr, false);
  auto skipped = nlohmann::json::parse(st.metadata["skipped"], nullptr, false);
  if (!utt.is_array() || !skipped.is_object() || (int64_t)utt.size() != frames.numel())
    throw FileError(path, "damaged feature cache (utt/frames disagree); remove it to recompute");
  int dim = fs_out.options.dim();
  if (feats.shape.size() != 2 || feats.dim(1) != dim) throw FileError(path, "feature width differs from the settings");
  int64_t at = 0;
  for (size_t i = 0; i < utt.size(); ++i) {
    if (!utt[i].is_number_integer() || utt[i].get<int64_t>() < 0 || utt[i].get<int64_t>() >= (int64_t)data.utts.size())
      throw FileError(path, "damaged feature cache (utterance index)");
    int64_t n = (int64_t)frames[i];
    if (n < 0 || at + n > feats.dim(0)) throw FileError(path, "damaged feature cache (frame counts exceed the features)");
    Tensor f({n, (int64_t)dim});
    std::copy(feats.data.begin() + at * dim, feats.data.begin() + (at + n) * dim, f.data.begin());
    at += n;
    fs_out.utt.push_back(utt[i].get<int>());
    fs_out.feats.push_back(std::move(f));
  }
  if (at != feats.dim(0)) throw FileError(path, "damaged feature cache (frame counts do not cover the features)");
  for (auto& [k, v] : skipped.items())
    if (v.is_number_integer()) fs_out.skipped[k] = v.get<int>();
  fs_out.audio_seconds = std::stod(st.metadata["audio_seconds"]);
  fs_out.from_cache = true;
  return true;
}

}  // namespace

int64_t FeatureSet::total_frames() const {
  int64_t n = 0;
  for (const Tensor& f : feats) n += f.rows();
  return n;
}

FeatureSet compute_features(const SpeechData& data, const FbankOptions& opt, const std::string& cache_dir, bool quiet) {
  FeatureSet out;
  out.options = opt;
  std::string digest = set_digest(data);
  if (!cache_dir.empty()) {
    out.cache_path = (fs::path(cache_dir) / "feats" / (opt.key() + "-" + digest + ".safetensors")).string();
    if (try_load(out.cache_path, data, digest, out)) return out;
  }
  const int N = (int)data.utts.size();
  std::vector<Tensor> feats(N);
  std::vector<std::string> skip_reason(N);
  std::vector<double> seconds(N, 0);
  std::string first_error;
  std::mutex mu;
  std::atomic<int> done{0};
  std::atomic<double> audio_done{0};
  auto t0 = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  double last_line = 0;
#pragma omp parallel num_threads(get_threads())
  {
    Fbank fbank(opt);
    Rng rng(1);
#pragma omp for schedule(dynamic, 4)
    for (int i = 0; i < N; ++i) {
      {
        std::lock_guard<std::mutex> g(mu);
        if (!first_error.empty()) continue;
      }
      const Utterance& u = data.utts[i];
      try {
        std::vector<float> x = read_audio(u.path, u.start, u.end);
        seconds[i] = double(x.size()) / kSampleRate;
        if (fbank.num_frames((int64_t)x.size()) == 0) {
          skip_reason[i] = "shorter than one frame";
        } else {
          rng.reseed(0x5eed + (uint64_t)i);  // dither, when asked for, repeats per utterance
          feats[i] = fbank.compute(x, &rng);
        }
      } catch (const AudioError& e) {
        if (e.kind == AudioError::unreadable) {
          std::lock_guard<std::mutex> g(mu);
          if (first_error.empty()) first_error = e.what();
        } else {
          skip_reason[i] = e.kind == AudioError::empty ? "empty audio" : e.kind == AudioError::too_long ? "audio too long" : "audio not finite";
          if (!quiet) {
            std::lock_guard<std::mutex> g(mu);
            std::fprintf(stderr, "skipping %s: %s\n", u.id.c_str(), e.what());
          }
        }
      }
      int k = ++done;
      double a = audio_done.load();
      while (!audio_done.compare_exchange_weak(a, a + seconds[i])) {
      }
      if (!quiet && omp_get_thread_num() == 0 && since() - last_line >= 10) {
        last_line = since();
        double rate = k / last_line;
        std::fprintf(stderr, "fbank  %d/%d utterances  %.1f x real time  elapsed %.0f s  ETA %.0f s\n", k, N,
                     audio_done.load() / last_line, last_line, (N - k) / std::max(rate, 1e-9));
      }
    }
  }
  if (!first_error.empty()) throw FileError(first_error.substr(0, first_error.find(": ")), first_error.substr(first_error.find(": ") + 2));
  for (int i = 0; i < N; ++i) {
    if (!skip_reason[i].empty()) {
      out.skipped[skip_reason[i]]++;
      continue;
    }
    out.utt.push_back(i);
    out.audio_seconds += seconds[i];
    out.feats.push_back(std::move(feats[i]));
  }
  if (!quiet)
    std::fprintf(stderr, "fbank  %d utterances, %.1f s of audio in %.1f s (%.1f x real time, %d threads)\n", N,
                 audio_done.load(), since(), audio_done.load() / std::max(since(), 1e-9), get_threads());
  if (!out.cache_path.empty()) try {
    make_dirs(fs::path(out.cache_path).parent_path().string());
    int64_t total = out.total_frames(), dim = opt.dim();
    Tensor all({total, dim}), frames({(int64_t)out.feats.size()});
    int64_t at = 0;
    for (size_t i = 0; i < out.feats.size(); ++i) {
      std::copy(out.feats[i].data.begin(), out.feats[i].data.end(), all.data.begin() + at * dim);
      frames[i] = (float)out.feats[i].rows();
      at += out.feats[i].rows();
    }
    nlohmann::json skipped(out.skipped), utt(out.utt);
    char secs[64];
    std::snprintf(secs, sizeof secs, "%.6f", out.audio_seconds);
    save_safetensors(out.cache_path, {{"feats", &all}, {"frames", &frames}},
                     {{"format", "memsig-fbank"}, {"settings", opt.key()}, {"digest", digest}, {"utt", utt.dump()},
                      {"skipped", skipped.dump()}, {"audio_seconds", secs}, {"source", data.source}});
  } catch (const FileError& e) {  // a read-only data folder: go on without a cache (--cache names another place)
    if (!quiet) std::fprintf(stderr, "warning: features not cached: %s\n", e.what());
    out.cache_path.clear();
  }
  return out;
}

}  // namespace memsig
