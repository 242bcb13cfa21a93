// The training loop behind `suite train` and `suite transition` (SPEC §4):
// AdamW, warmup + cosine LR, global-norm clipping, periodic eval, atomic
// checkpoints, exact resume, divergence detection, data parallelism via
// kernels/comm.h. Writes the run directory described in suite/rundir.h.
#pragma once
#include "suite/trainer/options.h"

// Returns the process exit code: RUN_EXIT_FINISHED, _DIVERGED or _ERROR (suite/rundir.h).
int train_run(const TrainOptions *o);
