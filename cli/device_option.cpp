// device_option.cpp — parses --device and hands the choice to engine/device.h.
#include "cli/device_option.h"

#include <cstdio>
#include <memory>
#include <string>

#include "engine/device.h"

namespace memsig::cli {

void add_device(CLI::App* cmd) {
  auto spec = std::make_shared<std::string>("auto");
  cmd->add_option("--device", *spec, "cpu | cuda | auto (auto: a CUDA GPU when one answers, else the CPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->parse_complete_callback([spec] {
    Device d = resolve_device(*spec);
    set_default_device(d);
    std::fprintf(stderr, "memsig: device: %s\n", describe_device(d, *spec).c_str());
  });
}

}  // namespace memsig::cli
