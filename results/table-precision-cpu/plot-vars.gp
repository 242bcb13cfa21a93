# written by `suite run table-precision`; read by plots/table-precision.gp
name = 'table-precision'
plot_title = 'Training loss, mixed precision vs bf16 - cpu scale, english-standin (not C4), GPT-2 vocabulary cut to 8192'
ylabel = 'training loss (nats; window means)'
point_every = 3
switch_step = -1
n_curves = 2
array titles[2]
titles[1] = 'MoT-Medium/32E (mixed) (mot-cpu/32e)'
titles[2] = 'EC-Medium/32E (mixed) (ec-cpu/32e)'
