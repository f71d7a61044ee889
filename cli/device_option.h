// device_option.h — `--device cpu|cuda|auto` for the commands that run models.
#pragma once
#include <CLI/CLI.hpp>

namespace memsig::cli {

// Adds --device (default auto: the GPU when one answers, else the CPU). Once the command's options
// are parsed it chooses the device for every model built afterwards (engine/device.h) and prints
// one line to stderr saying which ("memsig: device: ..."), or fails before any work when
// `--device cuda` cannot be had (a build without CUDA, no GPU), saying why.
void add_device(CLI::App* cmd);

}  // namespace memsig::cli
