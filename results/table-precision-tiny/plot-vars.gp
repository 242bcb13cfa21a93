# written by `suite run table-precision`; read by plots/table-precision.gp
name = 'table-precision'
plot_title = 'Training loss, mixed precision vs bf16 - tiny scale, c4-sample'
ylabel = 'training loss (nats; window means)'
point_every = 4
switch_step = -1
n_curves = 4
array titles[4]
titles[1] = 'MoT-Medium/32E (mixed) (mot-tiny/8e)'
titles[2] = 'EC-Medium/32E (mixed) (ec-tiny/8e)'
titles[3] = 'MoT-Medium/32E (bf16) (mot-tiny/8e)'
titles[4] = 'EC-Medium/32E (bf16) (ec-tiny/8e)'
