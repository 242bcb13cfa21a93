# written by `suite run fig-smoe`; read by plots/fig-smoe.gp
name = 'fig-smoe'
plot_title = 'MoT vs Expert Choice vs Token Choice - tiny scale, c4-sample'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 3
array titles[3]
titles[1] = 'MoT-Medium/32E/16 (mot-tiny/8e/16)'
titles[2] = 'EC-Medium/32E (ec-tiny/8e)'
titles[3] = 'TC-Medium/32E (tc-tiny/8e)'
