// Central finite-difference checking of analytic gradients, one float coordinate
// at a time, robust to ReLU kinks and able to tell routing flips apart.
// Header-only; used by the layer and whole-model tests.
#pragma once
#include <math.h>
#include <stdio.h>

#include "tests/testutil.h"

typedef struct {
    double (*loss)(void *ctx);  // re-evaluates the scalar after a perturbation
    void *ctx;
    float step;                 // perturbation of each coordinate
    double abs_tol, rel_tol;    // allowed |numeric - analytic|: abs + rel * magnitude
} FDCheck;

typedef struct {
    int checked, skipped, jumps;
    double worst;  // largest error relative to the tolerance (must stay < 1; NaN fails)
} GradCheck;

// Central difference of *coord, compared with the analytic value; f0 is the loss
// at the unperturbed point. Where the loss has a ReLU kink within +-step the
// central difference is off by exactly |f+ + f- - 2 f0| / (2 step); a mismatch
// that this explains is skipped (and counted), any other counts against the
// tolerance. A discontinuity (a routing decision flipping) shows as a second
// difference far larger than any kink could make (slope change > 50), and is
// counted as a jump.
static inline void gradcheck_coord(const FDCheck *fd, float *coord, double analytic, double f0,
                                   GradCheck *gc) {
    float saved = *coord;
    *coord = saved + fd->step;
    double fp = fd->loss(fd->ctx);
    *coord = saved - fd->step;
    double fm = fd->loss(fd->ctx);
    *coord = saved;
    double second = fabs(fp + fm - 2 * f0);
    if (isnan(second) || isnan(analytic)) {  // a NaN loss or gradient is an error
        gc->worst = NAN;
        gc->checked++;
        return;
    }
    if (second > 50 * fd->step) {
        gc->jumps++;
        return;
    }
    double numeric = (fp - fm) / (2 * fd->step);
    double tol = fd->abs_tol + fd->rel_tol * fmax(fabs(numeric), fabs(analytic));
    double mismatch = fabs(numeric - analytic);
    if (mismatch > tol && second / (2 * fd->step) > 0.5 * mismatch) {
        gc->skipped++;
        return;
    }
    gc->worst = test_worse(gc->worst, mismatch / tol);
    gc->checked++;
}

// What every gradient test asserts: no routing flip, almost no kinks, all close.
static inline void gradcheck_assert(GradCheck gc, const char *what) {
    printf("%s: %d coordinates checked, %d at a kink, worst error %.3f of tolerance\n", what,
           gc.checked, gc.skipped, gc.worst);
    ck_assert_msg(gc.jumps == 0, "%s: %d coordinates flipped a routing decision", what,
                  gc.jumps);
    ck_assert_msg(gc.skipped * 20 <= gc.checked, "%s: %d of %d coordinates at a kink", what,
                  gc.skipped, gc.checked + gc.skipped);
    ck_assert_msg(gc.worst < 1.0, "%s: gradient off by %.2fx the tolerance (NaN: a NaN loss or "
                  "gradient)", what, gc.worst);
}
