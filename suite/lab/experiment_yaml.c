// YAML -> YNode tree with libyaml's event parser (recursive descent over events).
#include "suite/lab/experiment_yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "kernels/base/error.h"
#include "kernels/common.h"

typedef struct {
    yaml_parser_t parser;
    const char *path;
    char *err;
    size_t errlen;
} YReader;

static void yfail(YReader *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void yfail(YReader *r, int line, const char *fmt, ...) {
    if (r->err[0]) return;  // keep the first (innermost) error
    va_list ap;
    va_start(ap, fmt);
    verror_at(r->err, r->errlen, r->path, line, fmt, ap);
    va_end(ap);
}

static int next_event(YReader *r, yaml_event_t *ev) {
    if (yaml_parser_parse(&r->parser, ev)) return 0;
    yfail(r, (int)r->parser.problem_mark.line + 1, "YAML syntax error: %s%s%s",
          r->parser.problem ? r->parser.problem : "unknown", r->parser.context ? " " : "",
          r->parser.context ? r->parser.context : "");
    return -1;
}

static YNode *node_new(YNodeKind kind, int line) {
    YNode *n = callocCheck(1, sizeof(YNode));
    n->kind = kind;
    n->line = line;
    return n;
}

static void node_append(YNode *parent, char *key, YNode *child) {
    int cap = parent->count + 1;
    parent->items = realloc(parent->items, cap * sizeof(YNode *));
    if (!parent->items) die("out of memory");
    parent->items[parent->count] = child;
    if (parent->kind == YNODE_MAP) {
        parent->keys = realloc(parent->keys, cap * sizeof(char *));
        if (!parent->keys) die("out of memory");
        parent->keys[parent->count] = key;
    }
    parent->count++;
}

// Build the node that starts with ev (already consumed). NULL on error.
static YNode *parse_node(YReader *r, yaml_event_t *ev) {
    int line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
        case YAML_ALIAS_EVENT:
            yfail(r, line, "anchors and aliases are not supported; write the value out");
            return NULL;
        case YAML_SCALAR_EVENT: {
            YNode *n = node_new(YNODE_SCALAR, line);
            n->value = strdup((const char *)ev->data.scalar.value);
            return n;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            int is_map = ev->type == YAML_MAPPING_START_EVENT;
            YNode *n = node_new(is_map ? YNODE_MAP : YNODE_SEQ, line);
            for (;;) {
                yaml_event_t child;
                if (next_event(r, &child)) break;
                if (child.type == YAML_SEQUENCE_END_EVENT || child.type == YAML_MAPPING_END_EVENT) {
                    yaml_event_delete(&child);
                    return n;
                }
                char *key = NULL;
                if (is_map) {
                    int key_line = (int)child.start_mark.line + 1;
                    if (child.type != YAML_SCALAR_EVENT) {
                        yfail(r, key_line, "mapping keys must be plain words");
                        yaml_event_delete(&child);
                        break;
                    }
                    key = strdup((const char *)child.data.scalar.value);
                    if (ynode_get(n, key)) {
                        yfail(r, key_line, "duplicate key '%s'", key);
                        free(key);
                        yaml_event_delete(&child);
                        break;
                    }
                    yaml_event_delete(&child);
                    if (next_event(r, &child)) {
                        free(key);
                        break;
                    }
                }
                YNode *c = parse_node(r, &child);
                yaml_event_delete(&child);
                if (!c) {
                    free(key);
                    break;
                }
                node_append(n, key, c);
            }
            ynode_free(n);
            return NULL;
        }
        default:
            yfail(r, line, "unexpected YAML event");
            return NULL;
    }
}

YNode *ynode_load(const char *path, char *err, size_t errlen) {
    err[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    YReader r = {.path = path, .err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&r.parser)) die("libyaml: cannot initialise parser");
    yaml_parser_set_input_file(&r.parser, f);

    YNode *root = NULL;
    yaml_event_t ev;
    // STREAM-START, DOCUMENT-START, the root node, DOCUMENT-END.
    for (int done = 0; !done && !next_event(&r, &ev);) {
        switch (ev.type) {
            case YAML_STREAM_START_EVENT:
            case YAML_DOCUMENT_START_EVENT:
                break;
            case YAML_STREAM_END_EVENT:
            case YAML_DOCUMENT_END_EVENT:
                done = 1;
                break;
            default:
                root = parse_node(&r, &ev);
                done = 1;
        }
        yaml_event_delete(&ev);
    }
    // Then DOCUMENT-END and STREAM-END; a second document ("---") is a mistake.
    for (int i = 0; i < 2 && root && !err[0] && !next_event(&r, &ev); i++) {
        if (ev.type != YAML_DOCUMENT_END_EVENT && ev.type != YAML_STREAM_END_EVENT)
            yfail(&r, (int)ev.start_mark.line + 1, "only one YAML document per file");
        yaml_event_delete(&ev);
    }
    if (!root && !err[0]) snprintf(err, errlen, "%s:1: empty file", path);
    yaml_parser_delete(&r.parser);
    fclose(f);
    if (err[0]) {
        ynode_free(root);
        return NULL;
    }
    return root;
}

void ynode_free(YNode *n) {
    if (!n) return;
    for (int i = 0; i < n->count; i++) {
        ynode_free(n->items[i]);
        if (n->keys) free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->value);
    free(n);
}

const YNode *ynode_get(const YNode *map, const char *key) {
    if (!map || map->kind != YNODE_MAP) return NULL;
    for (int i = 0; i < map->count; i++)
        if (!strcmp(map->keys[i], key)) return map->items[i];
    return NULL;
}
