# fig-transition: eval loss vs steps of MoT runs converted to Token Choice, beside
# the control that stays MoT on the same schedule. Each transition run has an MoT
# curve and a TC curve; both are evaluated at the switch, so the spike is the gap
# between them there. The dotted line marks the switch. fig-transition-train.gp
# draws the training loss (the paper's figure) with this script.
load 'common.gp'
if (switch_step >= 0) {
    set arrow from first switch_step, graph 0 to first switch_step, graph 1 nohead dt 3 lw 1.5 lc rgb '#555555'
    set label 'switch to Token Choice' at first switch_step, graph 0.04 right offset -0.7, 0 tc rgb '#555555'
}
load 'render.gp'
