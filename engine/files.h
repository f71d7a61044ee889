// files.h — file helpers shared by every writer: atomic replace and whole-file reads.
#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace memsig {

// An error about a file: what() reads "<path>: <problem>", the one-line message the CLI prints.
struct FileError : std::runtime_error {
  FileError(const std::string& path, const std::string& problem) : std::runtime_error(path + ": " + problem) {}
};

// Writes via `write(tmp_path)` to a temporary file beside `path`, then renames it over `path`,
// so a reader (or a crash) never sees a half-written file. A temporary file is removed when the
// process is interrupted (SIGINT, SIGTERM, SIGHUP); one left by a killed process is removed by the
// next write to the same path.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);

// The temporary file behind write_atomically, for writers that fill a file piece by piece:
// path() to write, commit() to rename it over the target; destroyed uncommitted, it is removed.
std::string temp_path_for(const std::string& target);  // TARGET.tmp.HOST.PID

class TempFile {
 public:
  explicit TempFile(const std::string& target);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return tmp_; }
  void commit();

 private:
  std::string target_, tmp_;
  int slot_ = -1;
  bool committed_ = false;
};
void write_text_atomically(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);  // a regular file's bytes; throws FileError
void require_regular_file(const std::string& path);  // FileError for a directory, device, pipe
bool file_exists(const std::string& path);

// The output rule every command follows: an output is a regular file or a new path (never a
// directory, device, FIFO or socket: memsig would replace it with a regular file), never one of the
// command's inputs, and never another of its outputs. FileError naming the path and the option.
struct NamedPath {
  std::string option;  // "--out", "--model", "A", ...
  std::string path;
};
void require_output_path(const std::string& path);

// An exclusive lock on a lock file (flock), held while a process computes one cache entry: a
// second process that asks for it prints that it waits, then waits. The kernel releases the lock
// when its holder dies, kill -9 included, so a lock is never stale on a local filesystem; on NFS,
// Linux clients map flock to fcntl locks, which the server releases when the client's lease ends.
class FileLock {
 public:
  FileLock(const std::string& path, const std::string& what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};
bool lock_is_held(const std::string& path);  // another process holds it now  // the first half alone; TempFile checks it too
void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);
void make_dirs(const std::string& dir);  // mkdir -p; throws FileError

}  // namespace memsig
