# written by `suite run fig-transition`; read by plots/fig-transition.gp
name = 'fig-transition'
plot_title = 'Transition tuning, MoT to Token Choice - tiny scale, c4-sample'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = 90
n_curves = 2
array titles[2]
titles[1] = 'MoT-Medium/32E to TC (mot-tiny/8e) - MoT phase'
titles[2] = 'MoT-Medium/32E to TC (mot-tiny/8e) - TC phase'
