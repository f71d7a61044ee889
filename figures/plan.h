// plan.h — a figure study as a job graph for a scheduler that already exists (make, GNU parallel,
// Slurm), instead of one long process.
//
// Every recipe first declares its cache entries (Lab::model, Lab::signature), then assembles the
// figure from them. `memsig figure FIG --plan FORMAT` runs the declaring half with a Plan attached:
// each entry becomes a job, `memsig figure FIG ... --entry ID`, which computes that one entry into
// the settings-keyed cache and stops; its dependencies are the entries it is derived from (a
// signature on its model, a retraining on its starting model). One last job, the plain `memsig
// figure FIG`, finds everything cached and draws the figure: the same code path as an in-process
// run, so the same settings and seeds give byte-identical results.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace memsig {

struct PlanJob {
  std::string figure;             // the recipe that declares it (its job runs that recipe)
  std::string id;                 // "model:ptb_gru1x320_e32_seed1_<key>" | "signature:<tag>" | "assemble:fig2"
  std::string done_file;          // exists once the job's result is in the cache
  std::string lock_file;          // held while a process computes it
  std::string stopped_file;       // exists while a stopped computation waits to be resumed ("" if none)
  std::vector<std::string> deps;  // ids
};

struct Plan {
  std::vector<PlanJob> jobs;
  std::map<std::string, std::string> job_of_file;  // a model file -> the id of the job that makes it
  void add(const PlanJob& job);                     // once per id (recipes share entries)
  // Stages: every job's dependencies sit in earlier stages.
  std::vector<std::vector<const PlanJob*>> stages() const;
};

// The command line of one job: MEMSIG figure FIG OPTIONS --entry ID (for an assemble job, without
// --entry). `options` holds --preset, --work, --out, --seed and the like, each quoted.
std::string job_command(const std::string& memsig, const std::string& options, const PlanJob& job);

// Writes the plan in FORMAT ("make" | "parallel" | "slurm") to `path`; returns how to run it.
std::string write_plan(const Plan& plan, const std::string& format, const std::string& memsig, const std::string& options,
                       const std::string& path);
std::string sh_quote(const std::string& s);  // a word for sh, in single quotes

// One line per job: done, running (its lock is held), stopped (a stopped computation will resume;
// no process holds it), or missing (with what it waits for).
void print_plan_status(const Plan& plan);

}  // namespace memsig
