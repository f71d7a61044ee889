#include "engine/stop_points.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace memsig {

namespace {

struct StopPlan {
  std::string name;
  long at = 0;   // the N-th visit
  int signal = 0;
  long seen = 0;
};

StopPlan* plan() {
  static StopPlan* p = [] () -> StopPlan* {
    const char* spec = std::getenv("MEMSIG_STOP_AT");
    if (!spec || !*spec) return nullptr;
    std::string s(spec);
    size_t hash = s.find('#'), colon = s.find(':');
    auto* sp = new StopPlan;
    sp->name = s.substr(0, hash);
    if (hash == std::string::npos || colon == std::string::npos || colon < hash) {
      std::fprintf(stderr, "memsig: error: MEMSIG_STOP_AT=%s: expected NAME#N:TERM|INT|KILL\n", spec);
      std::exit(2);
    }
    sp->at = std::strtol(s.c_str() + hash + 1, nullptr, 10);
    std::string sig = s.substr(colon + 1);
    sp->signal = sig == "TERM" ? SIGTERM : sig == "INT" ? SIGINT : sig == "KILL" ? SIGKILL : 0;
    if (sp->at < 1 || !sp->signal) {
      std::fprintf(stderr, "memsig: error: MEMSIG_STOP_AT=%s: expected NAME#N:TERM|INT|KILL\n", spec);
      std::exit(2);
    }
    return sp;
  }();
  return p;
}

}  // namespace

void stop_point(const char* name) {
  StopPlan* p = plan();
  if (!p || p->name != name || ++p->seen != p->at) return;
  std::fprintf(stderr, "memsig: stop point %s#%ld reached: sending myself signal %d\n", name, p->at, p->signal);
  std::fflush(stderr);
  ::kill(::getpid(), p->signal);
  ::sleep(5);  // the signal ends the process; should it be ignored (nohup), end it as it would have
  std::_Exit(128 + p->signal);
}

}  // namespace memsig
