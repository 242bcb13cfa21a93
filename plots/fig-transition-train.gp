# fig-transition, training loss (the paper's figure shows this one): the same
# figure as fig-transition.gp drawn from plot-train.dat (suffix '-train').
load 'fig-transition.gp'
