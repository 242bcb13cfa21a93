# written by `suite run table-downstream`; read by plots/table-downstream.gp
name = 'table-downstream'
plot_title = 'Zero-shot downstream accuracy - tiny scale, c4-sample'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 3
array titles[3]
titles[1] = 'Transformer-Medium (transformer-tiny)'
titles[2] = 'MoT-Medium/32E/1 (mot-tiny/8e)'
titles[3] = 'MoT-Medium/32E/16 (mot-tiny/8e/16)'
