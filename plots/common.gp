# Shared setup of every figure. The caller (`suite run`, via suite/experiment_plot.c)
# runs: gnuplot -e "set loadpath 'ROOT/plots'; dir = 'RESULTS/<experiment>-<scale>'" <figure>.gp
# dir holds plot<suffix>.dat (one index block per curve: step, loss) and
# plot<suffix>-vars.gp (name, plot_title, ylabel, n_curves, titles[], switch_step,
# point_every); suffix is '' or '-train' (a second figure of the training loss).
if (!exists('suffix')) suffix = ''
load dir.'/plot'.suffix.'-vars.gp'
data = dir.'/plot'.suffix.'.dat'

set title plot_title noenhanced font ',13'
set xlabel 'step'
set ylabel ylabel
set format x '%.0s%c'
set grid lc rgb '#dddddd'
set key top right box opaque noenhanced samplen 3 spacing 1.1
set border lc rgb '#444444'

# Zoom on what the figure compares: the top of the y axis is the highest loss
# after the first 20% of steps (early points run off the top), like the paper's
# figures, which show the converging part of the curves.
stats data using 1 nooutput
xmax = STATS_max
stats data using ($1 >= 0.2 * xmax ? $2 : NaN) nooutput
pad = (STATS_max - STATS_min) * 0.08 + 0.005
set yrange [STATS_min - pad : STATS_max + pad]
set xrange [0 : xmax * 1.02]

# One colour and point type per curve; the first run of a figure is the
# baseline of the paper (dense, or the first MoT) and is drawn in black.
set style line 1 lc rgb '#222222' lw 2 pt 7 ps 0.7
set style line 2 lc rgb '#1f77b4' lw 2 pt 5 ps 0.7
set style line 3 lc rgb '#d62728' lw 2 pt 9 ps 0.8
set style line 4 lc rgb '#2ca02c' lw 2 pt 11 ps 0.8
set style line 5 lc rgb '#9467bd' lw 2 pt 13 ps 0.8
set style line 6 lc rgb '#ff7f0e' lw 2 pt 3 ps 0.8
set style line 7 lc rgb '#8c564b' lw 2 pt 1 ps 0.8
set style line 8 lc rgb '#17becf' lw 2 pt 2 ps 0.8
set style increment user
