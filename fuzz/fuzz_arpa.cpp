// libFuzzer target: any bytes as an ARPA n-gram model. Reading must end in a model or a
// FileError naming the line; a model read must score a short text to a finite number.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/files.h"
#include "models/arpa.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memsig;
  try {
    NgramLM lm = parse_arpa(std::string((const char*)data, size), "fuzz.arpa");
    NgramScore s = lm.score({normalize("the cat, it's #."), normalize("a")});
    if (!std::isfinite(s.nats) && s.nats != INFINITY) std::abort();  // -ln p is a number or +inf (p = 0)
  } catch (const FileError&) {
  }
  return 0;
}
