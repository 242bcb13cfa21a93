# written by `suite run fig-params`; read by plots/fig-params.gp
name = 'fig-params'
plot_title = 'MoT with 8/32/128 experts vs dense - tiny scale, c4-sample'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 5
array titles[5]
titles[1] = 'Transformer-Medium (transformer-tiny)'
titles[2] = 'MoT-Medium/8E (mot-tiny/2e)'
titles[3] = 'MoT-Medium/32E (mot-tiny/8e)'
titles[4] = 'MoT-Medium/128E (mot-tiny/32e)'
titles[5] = 'MoT-Medium/32E uniform (mot-tiny/8e-uniform)'
