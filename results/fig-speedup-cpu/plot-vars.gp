# written by `suite run fig-speedup`; read by plots/fig-speedup.gp
name = 'fig-speedup'
plot_title = 'MoT-Base vs Transformer-Base (speedup) - cpu scale, english-standin (not C4), GPT-2 vocabulary cut to 8192'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 2
array titles[2]
titles[1] = 'Transformer-Base (transformer-cpu), mean of 3 seeds'
titles[2] = 'MoT-Base/32E (mot-cpu/32e), mean of 3 seeds'
