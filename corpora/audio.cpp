#include "corpora/audio.h"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace memsig {

namespace {

// Bytes in memory as a libsndfile virtual file.
struct MemoryFile {
  const std::string* bytes;
  sf_count_t pos = 0;
};
sf_count_t mem_length(void* u) { return (sf_count_t)static_cast<MemoryFile*>(u)->bytes->size(); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* u) {
  auto* m = static_cast<MemoryFile*>(u);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : (sf_count_t)m->bytes->size();
  sf_count_t p = base + offset;
  if (p < 0) return -1;
  m->pos = std::min<sf_count_t>(p, (sf_count_t)m->bytes->size());
  return m->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* u) {
  auto* m = static_cast<MemoryFile*>(u);
  sf_count_t n = std::max<sf_count_t>(0, std::min<sf_count_t>(count, (sf_count_t)m->bytes->size() - m->pos));
  std::memcpy(ptr, m->bytes->data() + m->pos, (size_t)n);
  m->pos += n;
  return n;
}
sf_count_t mem_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t mem_tell(void* u) { return static_cast<MemoryFile*>(u)->pos; }

struct SndFile {
  SNDFILE* f = nullptr;
  SF_INFO info{};
  ~SndFile() {
    if (f) sf_close(f);
  }
};

void check_info(const SF_INFO& info, const std::string& path) {
  if (info.samplerate < 1000 || info.samplerate > 384000)
    throw AudioError(path, "sample rate " + std::to_string(info.samplerate) + " Hz is outside 1,000..384,000",
                     AudioError::unreadable);
  if (info.channels < 1 || info.channels > 64)
    throw AudioError(path, std::to_string(info.channels) + " channels (1..64 expected)", AudioError::unreadable);
  if (info.frames <= 0) throw AudioError(path, "no samples (empty audio)", AudioError::empty);
}

// The first channel of [start, end) seconds, checked, at 16 kHz.
std::vector<float> read_open(SndFile& s, const std::string& path, double start, double end) {
  check_info(s.info, path);
  const double rate = s.info.samplerate;
  // A stream may not know its length (a FLAC whose header says 0 samples): libsndfile then reports
  // a huge count, and the length limit is checked while reading instead.
  const bool known = s.info.frames < (sf_count_t(1) << 50);
  double file_seconds = known ? s.info.frames / rate : 1e300;
  if (start < 0 || (end >= 0 && end < start))
    throw AudioError(path, "bad segment [" + std::to_string(start) + ", " + std::to_string(end) + "] s", AudioError::unreadable);
  double stop = end < 0 ? file_seconds : std::min(end, file_seconds);
  auto too_long = [&](double seconds) {
    char b[160];  // the header's length may be anything: printed as a double, never cast to int
    std::snprintf(b, sizeof b, "audio of %.0f s is longer than the %.0f s an utterance may last", seconds, kMaxAudioSeconds);
    return AudioError(path, b, AudioError::too_long);
  };
  if (known && stop - start > kMaxAudioSeconds) throw too_long(stop - start);
  const sf_count_t limit = (sf_count_t)(kMaxAudioSeconds * rate);
  sf_count_t first = (sf_count_t)std::llround(start * rate);
  sf_count_t last = stop > 1e200 ? first + limit + 1 : std::min<sf_count_t>((sf_count_t)std::llround(stop * rate), s.info.frames);
  if (last <= first) throw AudioError(path, "the segment holds no samples (empty audio)", AudioError::empty);
  if (first > 0 && sf_seek(s.f, first, SEEK_SET) < 0)
    throw AudioError(path, "cannot seek to " + std::to_string(start) + " s", AudioError::unreadable);
  // In blocks, keeping the first channel: memory follows the samples actually in the file, not
  // what its header claims.
  const int ch = s.info.channels;
  const sf_count_t block = 16384;
  std::vector<float> inter((size_t)block * ch), mono;
  for (sf_count_t at = first; at < last;) {
    sf_count_t got = sf_readf_float(s.f, inter.data(), std::min(block, last - at));
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      float v = inter[(size_t)i * ch];
      if (!std::isfinite(v))
        throw AudioError(path, "sample " + std::to_string(at + i) + " is not a finite number", AudioError::not_finite);
      mono.push_back(v);
    }
    at += got;
    if ((sf_count_t)mono.size() > limit) throw too_long(mono.size() / rate);
  }
  if (mono.empty()) throw AudioError(path, "no samples could be read (empty or damaged audio)", AudioError::empty);
  if (s.info.samplerate == kSampleRate) return mono;
  std::vector<float> out = resample(mono, s.info.samplerate, kSampleRate);
  for (float v : out)  // float files may hold finite samples so large that filtering overflows
    if (!std::isfinite(v)) throw AudioError(path, "samples too large to resample (beyond float range)", AudioError::not_finite);
  return out;
}

}  // namespace

AudioInfo audio_info(const std::string& path) {
  try {
    require_regular_file(path);
  } catch (const FileError& e) {
    throw AudioError(path, std::string(e.what()).substr(path.size() + 2), AudioError::unreadable);
  }
  SndFile s;
  s.f = sf_open(path.c_str(), SFM_READ, &s.info);
  if (!s.f) throw AudioError(path, std::string("cannot read as audio: ") + sf_strerror(nullptr), AudioError::unreadable);
  return {s.info.frames, s.info.samplerate, s.info.channels};
}

std::vector<float> read_audio(const std::string& path, double start, double end) {
  try {
    require_regular_file(path);
  } catch (const FileError& e) {
    throw AudioError(path, std::string(e.what()).substr(path.size() + 2), AudioError::unreadable);
  }
  SndFile s;
  s.f = sf_open(path.c_str(), SFM_READ, &s.info);
  if (!s.f) throw AudioError(path, std::string("cannot read as audio: ") + sf_strerror(nullptr), AudioError::unreadable);
  return read_open(s, path, start, end);
}

std::vector<float> decode_audio(const std::string& bytes, const std::string& name) {
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  MemoryFile m{&bytes};
  SndFile s;
  s.f = sf_open_virtual(&io, SFM_READ, &s.info, &m);
  if (!s.f) throw AudioError(name, std::string("cannot read as audio: ") + sf_strerror(nullptr), AudioError::unreadable);
  return read_open(s, name, 0, -1);
}

std::vector<float> resample(const std::vector<float>& x, int from_rate, int to_rate) {
  if (from_rate == to_rate || x.empty()) return x;
  double ratio = double(to_rate) / from_rate;
  std::vector<float> y((size_t)std::ceil(x.size() * ratio) + 16);
  SRC_DATA d{};
  d.data_in = x.data();
  d.input_frames = (long)x.size();
  d.data_out = y.data();
  d.output_frames = (long)y.size();
  d.src_ratio = ratio;
  int err = src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1);
  if (err) throw std::runtime_error(std::string("resampling failed: ") + src_strerror(err));
  y.resize((size_t)d.output_frames_gen);
  return y;
}

void write_wav16(const std::string& path, const std::vector<float>& x, int rate) {
  TempFile tmp(path);
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(tmp.path().c_str(), SFM_WRITE, &info);
  if (!f) throw FileError(path, std::string("cannot write: ") + sf_strerror(nullptr));
  std::vector<short> pcm(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    pcm[i] = (short)std::clamp(std::lround(x[i] * 32768.0f), -32768L, 32767L);
  sf_count_t put = sf_write_short(f, pcm.data(), (sf_count_t)pcm.size());
  sf_close(f);
  if (put != (sf_count_t)pcm.size()) throw FileError(path, "short write");
  tmp.commit();
}

}  // namespace memsig
