// One entry point per `suite` subcommand; suite/cli/main.c dispatches on argv[1].
// Each returns the process exit code (RunExit in suite/rundir.h: 0 ok, 1 error, 2 usage,
// 3 run diverged).
#pragma once

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_transition(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_downstream(int argc, char **argv);

// suite bench --tokenizer: MB/s of GPT-2 BPE per core (suite/bench_tokenizer.c).
int bench_tokenizer(int argc, char **argv);
