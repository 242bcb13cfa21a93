# written by `suite run fig-params`; read by plots/fig-params.gp
name = 'fig-params'
plot_title = 'MoT with 8/32/128 experts vs dense - cpu scale, english-standin (not C4), GPT-2 vocabulary cut to 8192'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 4
array titles[4]
titles[1] = 'Transformer-Medium (transformer-cpu), mean of 3 seeds'
titles[2] = 'MoT-Medium/8E (mot-cpu/8e), mean of 3 seeds'
titles[3] = 'MoT-Medium/32E (mot-cpu/32e), mean of 3 seeds'
titles[4] = 'MoT-Medium/32E uniform (mot-cpu/32e-uniform), mean of 3 seeds'
