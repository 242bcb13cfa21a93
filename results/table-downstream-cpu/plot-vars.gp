# written by `suite run table-downstream`; read by plots/table-downstream.gp
name = 'table-downstream'
plot_title = 'Zero-shot downstream accuracy - cpu scale, english-standin (not C4), GPT-2 vocabulary cut to 8192'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 3
array titles[3]
titles[1] = 'Transformer-Medium (transformer-cpu)'
titles[2] = 'MoT-Medium/32E/1 (mot-cpu/32e)'
titles[3] = 'MoT-Medium/32E/16 (mot-cpu/32e/16)'
