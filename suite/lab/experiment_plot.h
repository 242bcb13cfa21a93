// Figures: the data of an experiment's curves for gnuplot (plot.dat, one index
// block per curve, and plot-vars.gp with titles, axis labels and markers), then
// plots/<experiment>.gp renders <experiment>.png and .svg beside them.
#pragma once
#include <stddef.h>

#include "suite/lab/experiment.h"
#include "suite/lab/results.h"

// Write dir/plot.dat and dir/plot-vars.gp for e from rs (curves: the mean over
// each run's seeds), then run gnuplot on root/plots/<e->name>.gp; where
// root/plots/<e->name>-train.gp exists, the same for the training loss
// (plot-train.dat, <name>-train.png). 0, or -1 with err (no gnuplot, no curves,
// a failed script).
int experiment_plot(const Experiment *e, const ResultSet *rs, const char *root, const char *dir,
                    char *err, size_t errlen);
