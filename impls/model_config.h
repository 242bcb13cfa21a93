// Range checks for a ModelConfig and for the token ids fed to a model. A config can
// come from a checkpoint, which is untrusted input: every field is checked against
// a range before any size is computed from it, so no product can overflow and no
// buffer is sized from a negative or absurd value.
#pragma once
#include <stddef.h>

#include "impls/model.h"

// 0, or -1 with err naming the model, the field, its value and the valid range.
int model_config_check(const ModelConfig *c, char *err, size_t errlen);

// Every token id in [0, vocab_size) and every target below vocab_size (negative
// targets are ignored positions), over n positions. 0, or -1 with err naming the first bad id. Run on the
// host once per batch, before the embedding lookup could read outside its table.
int model_check_tokens(const ModelConfig *c, const int *tokens, const int *targets, size_t n,
                       char *err, size_t errlen);
