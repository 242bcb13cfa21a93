// Turning a data spec (a shard file, a directory of shards, or a glob) into the
// sorted list of shard paths, and naming what the shards are.
#pragma once
#include <stddef.h>

typedef struct {
    char **paths;  // (n) sorted, so the stream order does not depend on readdir
    int n;
} ShardList;

// 0, or -1 with err naming the spec and what was expected.
int shard_list_resolve(const char *spec, ShardList *out, char *err, size_t errlen);
void shard_list_free(ShardList *l);

// Shard file names a directory scan picks up: .json.gz, .jsonl.gz, .jsonl, .json.
int is_shard_name(const char *name);
// "c4" for allenai/c4 shards, "c4-sample" for the samples bundled in
// datasets/c4-sample, "english-standin" for the stand-in corpus, "" otherwise.
const char *shard_label(const char *path);
// name without directory and data extensions ("a/c4.json.gz" -> "c4") into out.
void spec_display_name(const char *spec, char *out, size_t outlen);
