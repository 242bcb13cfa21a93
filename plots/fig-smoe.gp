# fig-smoe: eval loss vs steps of MoT-Medium/32E/16, Expert Choice and Token
# Choice with 32 experts, 100K steps at paper scale.
load 'common.gp'
load 'render.gp'
