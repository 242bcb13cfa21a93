# fig-speedup: eval loss vs steps of Transformer-Base and the MoT-Base runs. The
# dashed line is dense's final eval loss: where a MoT curve crosses it, MoT has
# matched dense in that fraction of the steps (the paper's "3x").
load 'common.gp'
stats data index 0 using (dense_final = $2) nooutput
set arrow from graph 0, first dense_final to graph 1, first dense_final nohead dt 2 lw 1.5 lc rgb '#555555'
set label sprintf('dense final loss %.3f', dense_final) at graph 0.02, first dense_final offset 0, 0.7 tc rgb '#555555'
load 'render.gp'
