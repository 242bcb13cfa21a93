// A YAML document as a small tree (libyaml does the parsing): scalars, sequences
// and mappings, each node remembering its line so every error a user can make in
// an experiment file names "file:line".
#pragma once
#include <stddef.h>

typedef enum { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } YNodeKind;

typedef struct YNode YNode;
struct YNode {
    YNodeKind kind;
    int line;       // 1-based line where the node starts
    char *value;    // SCALAR: its text
    char **keys;    // MAP: keys[i] names items[i]
    YNode **items;  // SEQ/MAP children
    int count;
};

// Parse one YAML document from path. Returns the root, or NULL with err set
// ("path:line: what is wrong"). Anchors/aliases and tags are rejected: the
// definition files are meant to be read by people, so they stay plain.
YNode *ynode_load(const char *path, char *err, size_t errlen);
void ynode_free(YNode *n);

// Child of a mapping by key, or NULL.
const YNode *ynode_get(const YNode *map, const char *key);
