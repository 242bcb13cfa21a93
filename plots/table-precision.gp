# table-precision: training loss (window means of metrics.csv) of MoT and EC in
# mixed precision and in bf16; a diverged run's curve ends at its last good step.
load 'common.gp'
load 'render.gp'
