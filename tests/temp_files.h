// temp_files.h — unique paths in the system temp folder for tests that write files.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

namespace memsig::test {

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("memsig_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace memsig::test
