# fig-params: eval loss vs steps of Transformer-Medium and MoT-Medium with 8, 32
# and 128 experts and with uniform routing (one curve per run).
load 'common.gp'
load 'render.gp'
