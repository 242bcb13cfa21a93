# written by `suite run fig-transition`; read by plots/fig-transition-train.gp
name = 'fig-transition-train'
plot_title = 'Transition tuning, MoT to Token Choice - cpu scale, english-standin (not C4), GPT-2 vocabulary cut to 8192'
ylabel = 'training loss (nats; window means)'
point_every = 4
switch_step = 1090
n_curves = 2
array titles[2]
titles[1] = 'MoT-Medium/32E to TC (mot-cpu/32e), mean of 3 seeds'
titles[2] = 'MoT-Medium/32E control (mot-cpu/32e), mean of 3 seeds'
