#include "figures/plan.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "engine/files.h"

namespace memsig {

void Plan::add(const PlanJob& job) {
  for (auto& j : jobs)
    if (j.id == job.id) return;
  jobs.push_back(job);
}

std::vector<std::vector<const PlanJob*>> Plan::stages() const {
  std::map<std::string, int> stage;
  std::vector<std::vector<const PlanJob*>> out;
  // Jobs are declared after what they depend on, so one pass in order places each.
  for (auto& j : jobs) {
    int s = 0;
    for (auto& d : j.deps) {
      auto it = stage.find(d);
      if (it == stage.end()) throw std::logic_error("plan: " + j.id + " depends on " + d + ", declared after it");
      s = std::max(s, it->second + 1);
    }
    stage[j.id] = s;
    if ((int)out.size() <= s) out.resize(s + 1);
    out[s].push_back(&j);
  }
  return out;
}

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace {

// Make needs file names without spaces, colons or other specials: the work folder must be plain.
void require_make_safe(const std::string& p) {
  for (char c : p)
    if (c == ' ' || c == ':' || c == '#' || c == '$' || c == '%' || c == '\t')
      throw std::invalid_argument("--plan make: the path '" + p + "' has a character make cannot take in a file name");
}

}  // namespace

std::string job_command(const std::string& memsig, const std::string& options, const PlanJob& job) {
  std::string cmd = sh_quote(memsig) + " figure " + job.figure + options;
  if (job.id.rfind("assemble:", 0) == 0) return cmd;
  return cmd + " --entry " + sh_quote(job.id);
}

std::string write_plan(const Plan& plan, const std::string& format, const std::string& memsig, const std::string& options,
                       const std::string& path) {
  auto stages = plan.stages();
  std::string text;
  std::string how;
  if (format == "make") {
    text = "# memsig job plan: run with  make -f " + path + " -j N\n"
           "# Each target is a cache entry; a job computes one entry (memsig figure ... --entry ID) and\n"
           "# is safe to run twice at once (it waits on the entry's lock). Written by memsig figure --plan make.\n"
           ".PHONY: all\n.DELETE_ON_ERROR:\n";
    std::map<std::string, std::string> target_of;
    for (auto& j : plan.jobs) {
      require_make_safe(j.done_file);
      target_of[j.id] = j.done_file;
    }
    text += "all:";
    for (auto& j : plan.jobs)
      if (j.id.rfind("assemble:", 0) == 0) text += " " + j.done_file;
    text += "\n\n";
    for (auto& j : plan.jobs) {
      text += j.done_file + ":";
      for (auto& d : j.deps) text += " " + target_of.at(d);
      text += "\n\t" + job_command(memsig, options, j) + "\n\n";
    }
    how = "make -f " + path + " -j N";
  } else if (format == "parallel") {
    text = "#!/bin/sh\n# memsig job plan: GNU parallel, one stage after another (every job's dependencies are in\n"
           "# earlier stages). Run with  JOBS=N sh " + path + "\n# Written by memsig figure --plan parallel.\nset -e\n";
    for (size_t s = 0; s < stages.size(); ++s) {
      text += "\n# stage " + std::to_string(s + 1) + " of " + std::to_string(stages.size()) + ": " +
              std::to_string(stages[s].size()) + " job(s)\nparallel --halt now,fail=1 -j \"${JOBS:-2}\" <<'MEMSIG_STAGE'\n";
      for (auto* j : stages[s]) text += job_command(memsig, options, *j) + "\n";
      text += "MEMSIG_STAGE\n";
    }
    how = "JOBS=N sh " + path;
  } else if (format == "slurm") {
    text = "#!/bin/bash\n# memsig job plan for Slurm: one job array per stage, each stage after the previous one\n"
           "# succeeded (--dependency=afterok). Submit with  bash " + path + "  (extra sbatch options in\n"
           "# $SBATCH_OPTS, e.g. \"--partition=cpu --cpus-per-task=2 --time=2:00:00\").\n"
           "# Written by memsig figure --plan slurm.\nset -euo pipefail\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n"
           "prev=\"\"\n";
    for (size_t s = 0; s < stages.size(); ++s) {
      std::string file = path + ".stage" + std::to_string(s + 1);
      std::string cmds;
      for (auto* j : stages[s]) cmds += job_command(memsig, options, *j) + "\n";
      write_text_atomically(file, cmds);
      text += "# stage " + std::to_string(s + 1) + ": " + std::to_string(stages[s].size()) + " job(s), commands in " + file + "\n";
      text += "prev=$(sbatch --parsable ${SBATCH_OPTS:-} ${prev:+--dependency=afterok:$prev} --job-name=memsig-stage" +
              std::to_string(s + 1) + " --array=0-" + std::to_string(stages[s].size() - 1) +
              " --wrap \"sed -n \\\"\\$((SLURM_ARRAY_TASK_ID + 1))p\\\" " + sh_quote(file) + " | sh\")\n";
      text += "echo \"stage " + std::to_string(s + 1) + ": job $prev\"\n";
    }
    how = "bash " + path;
  } else {
    throw std::invalid_argument("--plan must be make, parallel or slurm, not '" + format + "'");
  }
  write_text_atomically(path, text);
  return how;
}

void print_plan_status(const Plan& plan) {
  std::set<std::string> done;
  int n_done = 0, n_running = 0, n_stopped = 0, n_missing = 0;
  for (auto& j : plan.jobs) {
    std::string state;
    if (file_exists(j.done_file)) {
      state = "done";
      done.insert(j.id);
      ++n_done;
    } else if (!j.lock_file.empty() && lock_is_held(j.lock_file)) {
      state = "running";
      ++n_running;
    } else if (!j.stopped_file.empty() && file_exists(j.stopped_file)) {
      state = "stopped (no process holds it; the next run resumes it: " + j.stopped_file + ")";
      ++n_stopped;
    } else {
      state = "missing";
      std::string waits;
      for (auto& d : j.deps)
        if (!done.count(d)) waits += (waits.empty() ? "" : ", ") + d;
      if (!waits.empty()) state += " (waits for " + waits + ")";
      ++n_missing;
    }
    std::printf("%-9s %s\n", state.substr(0, state.find(' ')).c_str(), (j.id + (state.find(' ') == std::string::npos ? "" : "  " + state.substr(state.find(' ') + 1))).c_str());
  }
  std::printf("%d done, %d running, %d stopped, %d missing, of %zu jobs\n", n_done, n_running, n_stopped, n_missing, plan.jobs.size());
}

}  // namespace memsig
