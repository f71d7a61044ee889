// libFuzzer target: any bytes as the checkpoint of a small LSTM run being resumed. Restoring must
// end in restored state or a FileError.
#include <cstdint>
#include <string>

#include "engine/files.h"
#include "models/charlm.h"
#include "models/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memsig;
  static CharLMConfig cfg = [] {
    CharLMConfig c;
    c.cell = Cell::LSTM; c.layers = 1; c.hidden = 4; c.embed = 2;
    return c;
  }();
  try {
    SafeTensors st = parse_safetensors(std::string((const char*)data, size), "fuzz.ckpt");
    Rng rng(1);
    CharLM model(cfg, rng);
    Adam adam(model.parameters(), 1e-3f);
    TrainProgress prog;
    restore_checkpoint("fuzz.ckpt", st, model, adam, prog, {}, false, 10);  // no settings to compare: reach the rest
  } catch (const FileError&) {
  }
  return 0;
}
