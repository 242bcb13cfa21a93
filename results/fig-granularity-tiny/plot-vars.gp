# written by `suite run fig-granularity`; read by plots/fig-granularity.gp
name = 'fig-granularity'
plot_title = 'MoT/32E with granularity 1, 8, 16, 32 - tiny scale, c4-sample'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 4
array titles[4]
titles[1] = 'MoT-Medium/32E/1 (mot-tiny/8e)'
titles[2] = 'MoT-Medium/32E/8 (mot-tiny/8e/8)'
titles[3] = 'MoT-Medium/32E/16 (mot-tiny/8e/16)'
titles[4] = 'MoT-Medium/32E/32 (mot-tiny/8e/32)'
