// Figures: curve data for gnuplot, then plots/<experiment>.gp.
#include "suite/lab/experiment_plot.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datasets/tokenizer.h"
#include "kernels/common.h"

// A gnuplot single-quoted string: quotes double, nothing else is special.
static void put_gp_string(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

static const char *mode_label(const char *mode) {
    static const char *const names[][2] = {
        {"dense", "dense"}, {"mot", "MoT"}, {"ec", "EC"}, {"tc", "TC"}, {"train", "train"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(mode, names[i][0])) return names[i][1];
    return mode;
}

enum { MAX_CURVES = 32 };

typedef struct {
    char title[160];
    int n_points;
} Curve;

enum { MAX_POINTS = 4096 };

// One block per (run, mode) that has points, in the definition's run order, each
// the mean over the run's seeds; a transition run gives an MoT and a TC block.
static int write_blocks(FILE *f, const Experiment *e, const ResultSet *rs, const CurvePoint *pts,
                        int n_pts, Curve *curves, long *switch_step) {
    static CurvePoint mean[MAX_POINTS];
    int n = 0;
    *switch_step = -1;
    for (int r = 0; r < e->n_runs; r++) {
        const RunSpec *run = &e->runs[r];
        if (run->replicate) continue;
        const char *modes[4];
        int n_modes = 0;
        for (int i = 0; i < n_pts; i++) {
            if (strcmp(pts[i].run, run->name)) continue;
            int seen = 0;
            for (int m = 0; m < n_modes; m++) seen |= !strcmp(modes[m], pts[i].mode);
            if (!seen && n_modes < 4) modes[n_modes++] = pts[i].mode;
            if (!strcmp(pts[i].mode, "tc") && *switch_step < 0 && n_modes > 1)
                *switch_step = pts[i].step;
        }
        const RunSummary *sum;
        results_run_status(rs, run->name, &sum);
        for (int m = 0; m < n_modes && n < MAX_CURVES; m++) {
            Curve *c = &curves[n++];
            int k = snprintf(c->title, sizeof c->title, "%s", run->name);
            if (e->scale != SCALE_PAPER)
                k += snprintf(c->title + k, sizeof c->title - k, " (%s)", run_value(run, "model"));
            if (n_modes > 1)
                k += snprintf(c->title + k, sizeof c->title - k, " - %s phase",
                              mode_label(modes[m]));
            if (run->n_seeds > 1)
                k += snprintf(c->title + k, sizeof c->title - k, ", mean of %d seeds",
                              run->n_seeds);
            if (sum && sum->status == RUN_STATUS_DIVERGED)
                snprintf(c->title + k, sizeof c->title - k, ", diverged at %ld", sum->diverged_at);
            fprintf(f, "# %s\n", c->title);
            c->n_points = results_mean_curve(pts, n_pts, run->name, modes[m], -1, mean, MAX_POINTS);
            for (int i = 0; i < c->n_points; i++) fprintf(f, "%ld %.6g\n", mean[i].step, mean[i].loss);
            fprintf(f, "\n\n");
        }
    }
    return n;
}

static const char *dataset_of(const ResultSet *rs) {
    for (int i = 0; i < rs->n_runs; i++)
        if (rs->runs[i].dataset[0]) return rs->runs[i].dataset;
    return NULL;
}

static int run_gnuplot(const char *root, const char *script, const char *dir, const char *suffix,
                       char *err, size_t errlen) {
    char setup[PATH_MAX * 2 + 96];
    if (strchr(root, '\'') || strchr(dir, '\'')) {
        snprintf(err, errlen, "paths with a single quote cannot be passed to gnuplot: %s", dir);
        return -1;
    }
    snprintf(setup, sizeof setup, "set loadpath '%s/plots'; dir = '%s'; suffix = '%s'", root, dir,
             suffix);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork failed: %s", strerror(errno));
    if (pid == 0) {
        execlp("gnuplot", "gnuplot", "-e", setup, script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) die("waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        snprintf(err, errlen, "gnuplot not found (install gnuplot-nox)");
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        snprintf(err, errlen, "gnuplot %s failed", script);
        return -1;
    }
    return 0;
}

// One figure: dir/plot<suffix>.dat and plot<suffix>-vars.gp, then
// plots/<name><suffix>.gp draws <name><suffix>.png and .svg.
static int plot_one(const Experiment *e, const ResultSet *rs, const char *root, const char *dir,
                    int train, const char *suffix, char *err, size_t errlen) {
    const CurvePoint *pts = train ? rs->train : rs->evals;
    int n_pts = train ? rs->n_train : rs->n_evals;
    char path[PATH_MAX], script[PATH_MAX];
    snprintf(script, sizeof script, "%s/plots/%s%s.gp", root, e->name, suffix);
    if (access(script, R_OK)) {
        snprintf(err, errlen, "%s: no such plot script", script);
        return -1;
    }

    snprintf(path, sizeof path, "%s/plot%s.dat", dir, suffix);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    Curve curves[MAX_CURVES];
    long switch_step;
    fprintf(f, "# %s at %s scale: step, %s loss; one block per curve (titles in plot-vars.gp)\n",
            e->name, scale_name(e->scale), train ? "training" : "eval");
    int n = write_blocks(f, e, rs, pts, n_pts, curves, &switch_step);
    fclose(f);
    // Training curves have no TC mode to show the switch: the definition says where.
    for (int r = 0; r < e->n_runs && switch_step < 0; r++)
        if (run_value(&e->runs[r], "transition_at"))
            switch_step = run_number(&e->runs[r], "transition_at");
    if (n == 0) {
        snprintf(err, errlen, "no %s curves in %s yet", train ? "training" : "eval", dir);
        return -1;
    }

    snprintf(path, sizeof path, "%s/plot%s-vars.gp", dir, suffix);
    if (!(f = fopen(path, "w"))) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    fprintf(f, "# written by `suite run %s`; read by plots/%s%s.gp\nname = '%s%s'", e->name,
            e->name, suffix, e->name, suffix);
    fprintf(f, "\nplot_title = ");
    char title[EXP_TEXT_LEN + 160];
    const char *dataset = dataset_of(rs);
    int k = snprintf(title, sizeof title, "%s - %s scale%s%s", e->title, scale_name(e->scale),
                     dataset ? ", " : "", dataset ? dataset : "");
    if (dataset && !strcmp(dataset, "english-standin"))
        k += snprintf(title + k, sizeof title - k, " (not C4)");
    int vocab = experiment_vocab_size(e);
    if (vocab && vocab != GPT2_VOCAB_SIZE)
        snprintf(title + k, sizeof title - k, ", GPT-2 vocabulary cut to %d", vocab);
    put_gp_string(f, title);
    fprintf(f, "\nylabel = '%s'\n",
            train ? "training loss (nats; window means)" : "eval loss (nats)");
    // About a dozen markers per curve, however many points it has.
    int most = 0;
    for (int i = 0; i < n; i++) most = curves[i].n_points > most ? curves[i].n_points : most;
    fprintf(f, "point_every = %d\n", most / 12 > 1 ? most / 12 : 1);
    fprintf(f, "switch_step = %ld\nn_curves = %d\narray titles[%d]\n", switch_step, n, n);
    for (int i = 0; i < n; i++) {
        fprintf(f, "titles[%d] = ", i + 1);
        put_gp_string(f, curves[i].title);
        fputc('\n', f);
    }
    fclose(f);
    return run_gnuplot(root, script, dir, suffix, err, errlen);
}

int experiment_plot(const Experiment *e, const ResultSet *rs, const char *root, const char *dir,
                    char *err, size_t errlen) {
    int train = !strcmp(e->plot, "train-loss");
    if (plot_one(e, rs, root, dir, train, "", err, errlen)) return -1;
    // An eval-loss figure whose paper figure shows the training loss has a second
    // script for it (fig-transition).
    char script[PATH_MAX];
    snprintf(script, sizeof script, "%s/plots/%s-train.gp", root, e->name);
    if (train || access(script, R_OK)) return 0;
    return plot_one(e, rs, root, dir, 1, "-train", err, errlen);
}
