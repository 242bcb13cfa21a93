# written by `suite run fig-transition`; read by plots/fig-transition.gp
name = 'fig-transition'
plot_title = 'Transition tuning, MoT to Token Choice - cpu scale, english-standin (not C4), GPT-2 vocabulary cut to 8192'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = 1090
n_curves = 3
array titles[3]
titles[1] = 'MoT-Medium/32E to TC (mot-cpu/32e) - MoT phase, mean of 3 seeds'
titles[2] = 'MoT-Medium/32E to TC (mot-cpu/32e) - TC phase, mean of 3 seeds'
titles[3] = 'MoT-Medium/32E control (mot-cpu/32e), mean of 3 seeds'
