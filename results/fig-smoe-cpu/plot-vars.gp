# written by `suite run fig-smoe`; read by plots/fig-smoe.gp
name = 'fig-smoe'
plot_title = 'MoT vs Expert Choice vs Token Choice - cpu scale, english-standin (not C4), GPT-2 vocabulary cut to 8192'
ylabel = 'eval loss (nats)'
point_every = 1
switch_step = -1
n_curves = 4
array titles[4]
titles[1] = 'MoT-Medium/32E/16 (mot-cpu/32e/16), mean of 3 seeds'
titles[2] = 'MoT-Medium/32E/8 (mot-cpu/32e/8), mean of 3 seeds'
titles[3] = 'EC-Medium/32E (ec-cpu/32e), mean of 3 seeds'
titles[4] = 'TC-Medium/32E (tc-cpu/32e), mean of 3 seeds'
