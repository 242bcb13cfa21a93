# table-downstream: the eval loss of the three scored runs (the accuracies
# themselves are a table in results/report-<scale>.md).
load 'common.gp'
load 'render.gp'
