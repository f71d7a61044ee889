// temp_files.h — unique paths in the system temp folder for tests that write files, and the
// message of an expected error.
#pragma once
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace memsig::test {

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("memsig_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The message of the exception f throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace memsig::test
