// libFuzzer target: any bytes as a signature.json (diff, marginal and resumed probes read these).
// Reading (older forms brought to today's first) must end in a Signature or a FileError; a
// Signature read must survive diff (with the paired bootstrap) and its JSON.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/files.h"
#include "probe/signature.h"
#include "probe/signature_diff.h"
#include "probe/signature_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memsig;
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;  // not JSON: the JSON parser's own business
  try {
    Signature s = signature_from_json(j, "fuzz.json");
    to_json(s).dump();
    try {
      diff_signatures(s, s);
      diff_signatures(s, s, 2);  // the paired bootstrap over the file's test rows
    } catch (const std::invalid_argument&) {  // no entry and lag in common: a clean error
    }
  } catch (const FileError&) {
  }
  return 0;
}
