// libFuzzer target: any bytes as a model file. Reading must end in a model or a FileError, never
// in a crash, a sanitizer report, a hang or an allocation beyond the input's size.
#include <cstdint>
#include <string>

#include "engine/files.h"
#include "models/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    memsig::SafeTensors st = memsig::parse_safetensors(std::string((const char*)data, size), "fuzz.safetensors");
    memsig::model_from("fuzz.safetensors", st);
  } catch (const memsig::FileError&) {
  }
  return 0;
}
