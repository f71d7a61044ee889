#include "engine/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace memsig {

namespace {

// Temporary files being written right now, so that SIGINT/SIGTERM/SIGHUP can remove them before
// the process dies (kill -9 cannot be caught: the next write to the same path removes what a dead
// process left, see remove_stale_temps). A slot is claimed (1), filled, then published (2): the
// handler only unlinks published names.
constexpr int kMaxLiveTemps = 16;
char g_live[kMaxLiveTemps][4096];
std::atomic<int> g_state[kMaxLiveTemps];  // 0 free, 1 being filled, 2 live
struct sigaction g_previous[NSIG];

void on_fatal_signal(int sig) {
  for (int i = 0; i < kMaxLiveTemps; ++i)
    if (g_state[i].load() == 2) ::unlink(g_live[i]);  // async-signal-safe
  ::sigaction(sig, &g_previous[sig], nullptr);  // then what would have happened without us
  ::raise(sig);
}

// Our handler goes only where the signal has its default action: a signal the user's shell
// ignores (nohup, a background job) stays ignored, and another program's handler stays in place.
void install_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
    g_previous[sig] = old;
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

int register_temp(const std::string& tmp) {
  static bool installed = (install_handlers(), true);
  (void)installed;
  if (tmp.size() >= sizeof g_live[0]) return -1;
  for (int i = 0; i < kMaxLiveTemps; ++i) {
    int expected = 0;
    if (!g_state[i].compare_exchange_strong(expected, 1)) continue;
    std::memcpy(g_live[i], tmp.c_str(), tmp.size() + 1);
    g_state[i].store(2);
    return i;
  }
  return -1;
}

void unregister_temp(int slot) {
  if (slot >= 0) g_state[slot].store(0);
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "host";
  for (char* c = buf; *c; ++c)
    if (*c == '.' || *c == '/') *c = '_';
  return buf;
}

// PATH.tmp.HOST.PID files of this host whose process no longer runs: left by a kill -9 or a
// power cut. (Another host's, or another PID namespace's, cannot be judged, so they are left.)
void remove_stale_temps(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  std::error_code ec;
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::string prefix = p.filename().string() + ".tmp." + host_name() + ".";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    char* rest = nullptr;
    long pid = std::strtol(name.c_str() + prefix.size(), &rest, 10);
    if (pid <= 0 || *rest != '\0') continue;
    if (::kill((pid_t)pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

}  // namespace

std::string temp_path_for(const std::string& target) {
  return target + ".tmp." + host_name() + "." + std::to_string(::getpid());
}

TempFile::TempFile(const std::string& target) : target_(target), tmp_(temp_path_for(target)) {
  require_output_path(target);
  remove_stale_temps(target);
  slot_ = register_temp(tmp_);
}

TempFile::~TempFile() {
  if (!committed_) std::remove(tmp_.c_str());
  unregister_temp(slot_);
}

void TempFile::commit() {
  // On disk before it replaces the old file, so a power cut leaves the old or the new one whole.
  int fd = ::open(tmp_.c_str(), O_RDONLY);
  bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!synced) throw FileError(target_, "cannot write file (fsync failed)");
  if (std::rename(tmp_.c_str(), target_.c_str()) != 0) throw FileError(target_, "cannot replace file");
  committed_ = true;
  std::string dir = std::filesystem::path(target_).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);  // the rename itself
    ::close(dfd);
  }
}

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  TempFile tmp(path);
  write(tmp.path());
  tmp.commit();
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw FileError(path, "cannot open for writing");
    f << text;
    f.flush();
    if (!f) throw FileError(path, "write failed");
  });
}

void require_regular_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw FileError(path, std::string("cannot open for reading: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw FileError(path, "is a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw FileError(path, "is not a regular file (a device, pipe or socket)");
}

std::string read_file(const std::string& path) {
  require_regular_file(path);  // before opening: a FIFO with no writer would block, /dev/zero never ends
  std::ifstream f(path, std::ios::binary);
  if (!f) throw FileError(path, "cannot open for reading");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) { return std::filesystem::exists(path); }

void require_output_path(const std::string& path) {
  if (path.empty()) throw std::invalid_argument("an output path is empty");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return;  // a new path
  if (S_ISDIR(st.st_mode)) throw FileError(path, "is a directory: give a file name to write");
  if (!S_ISREG(st.st_mode))
    throw FileError(path, "is not a regular file (a device, pipe or socket): memsig writes only regular files or new paths");
}

namespace {
// Two paths name the same file: the same inode when both exist, else the same normalised path.
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (ea != eb) return false;
  std::error_code ec1, ec2;
  auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a), ec1);
  auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b), ec2);
  return !ec1 && !ec2 && ca == cb;
}
}  // namespace

void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& o = outputs[i];
    if (o.path.empty()) continue;
    require_output_path(o.path);
    for (const NamedPath& in : inputs)
      if (!in.path.empty() && same_file(o.path, in.path))
        throw FileError(o.path, o.option + " names the command's input (" + in.option +
                                    "): memsig never overwrites its inputs; write elsewhere");
    for (size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && same_file(o.path, outputs[j].path))
        throw FileError(o.path, o.option + " and " + outputs[j].option + " name the same file: give each its own");
  }
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw FileError(dir, "cannot create directory: " + ec.message());
}

FileLock::FileLock(const std::string& path, const std::string& what) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw FileError(path, std::string("cannot create lock file: ") + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  std::fprintf(stderr, "waiting: another process is computing %s (%s)\n", what.c_str(), path.c_str());
  while (::flock(fd_, LOCK_EX) != 0)
    if (errno != EINTR) throw FileError(path, std::string("cannot lock: ") + std::strerror(errno));
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays (removing it would race a waiter)
}

bool lock_is_held(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace memsig
