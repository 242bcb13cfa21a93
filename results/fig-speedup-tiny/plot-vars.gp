# written by `suite run fig-speedup`; read by plots/fig-speedup.gp
name = 'fig-speedup'
plot_title = 'MoT-Base vs Transformer-Base (speedup) - tiny scale, c4-sample'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 3
array titles[3]
titles[1] = 'Transformer-Base (transformer-tiny)'
titles[2] = 'MoT-Base/32E (mot-tiny/8e)'
titles[3] = 'MoT-Base/64E/16 (mot-tiny/16e/16)'
