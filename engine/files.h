// files.h — file helpers shared by every writer: atomic replace and whole-file reads.
#pragma once
#include <functional>
#include <stdexcept>
#include <string>

namespace memsig {

// An error about a file: what() reads "<path>: <problem>", the one-line message the CLI prints.
struct FileError : std::runtime_error {
  FileError(const std::string& path, const std::string& problem) : std::runtime_error(path + ": " + problem) {}
};

// Writes via `write(tmp_path)` to a temporary file beside `path`, then renames it over `path`,
// so a reader (or a crash) never sees a half-written file.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);
void write_text_atomically(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);  // throws FileError
bool file_exists(const std::string& path);
void make_dirs(const std::string& dir);  // mkdir -p; throws FileError

}  // namespace memsig
