// stop_points.h — named places where a test can stop the process the way a user or a crash would.
//
//   MEMSIG_STOP_AT=NAME#N:SIGNAL   (SIGNAL = TERM | INT | KILL)
//
// The N-th time the process reaches stop_point("NAME"), it sends itself SIGNAL: TERM and INT run
// the handlers a Ctrl-C or `kill` would (temporary files removed), KILL leaves everything as a
// power cut would. The interruption tests use it to stop each recipe exactly between two of its
// steps and check that the run started again ends with the uninterrupted run's result. Without the
// variable (always, outside those tests) a stop point costs one comparison.
#pragma once

namespace memsig {

void stop_point(const char* name);

}  // namespace memsig
