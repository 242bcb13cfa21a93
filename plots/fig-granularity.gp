# fig-granularity: eval loss vs steps of MoT-Medium/32E split into 1, 8, 16 and
# 32 experts each (one curve per run).
load 'common.gp'
load 'render.gp'
