#include "datasets/shard_list.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels/base/check.h"
#include "kernels/base/fileio.h"

static const char *const SHARD_SUFFIXES[] = {".json.gz", ".jsonl.gz", ".jsonl", ".json"};
enum { N_SHARD_SUFFIXES = sizeof SHARD_SUFFIXES / sizeof SHARD_SUFFIXES[0] };

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int is_shard_name(const char *name) {
    for (int i = 0; i < N_SHARD_SUFFIXES; i++)
        if (ends_with(name, SHARD_SUFFIXES[i])) return 1;
    return 0;
}

static int matches(const char *pattern, const char *s) {
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) die("bad built-in pattern %s", pattern);
    int hit = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}

const char *shard_label(const char *path) {
    const char *name = path_basename(path);
    // The two samples bundled in datasets/c4-sample (see its README).
    if (!strcmp(name, "c4-en-validation.sample1000.olmo.json.gz") ||
        !strcmp(name, "c4-train.00000-of-01024.head1000.jsonl"))
        return "c4-sample";
    if (matches("^c4-(train|validation)\\.[0-9]{5}-of-[0-9]{5}\\.json(\\.gz)?$", name)) return "c4";
    if (matches("^standin-(train|validation)\\.[0-9]{5}-of-[0-9]{5}\\.json(\\.gz)?$", name))
        return "english-standin";
    return "";
}

void spec_display_name(const char *spec, char *out, size_t outlen) {
    char trimmed[4096];
    snprintf(trimmed, sizeof trimmed, "%s", spec);
    size_t n = strlen(trimmed);
    while (n > 1 && trimmed[n - 1] == '/') trimmed[--n] = '\0';
    if (strpbrk(trimmed, "*?[")) {  // a glob: name it after its directory
        char *slash = strrchr(trimmed, '/');
        if (slash) *slash = '\0';
        else snprintf(trimmed, sizeof trimmed, ".");
    }
    snprintf(out, outlen, "%s", path_basename(trimmed));
    static const char *const strip[] = {".gz", ".jsonl", ".json", ".tok"};
    for (size_t i = 0; i < sizeof strip / sizeof strip[0]; i++)
        if (ends_with(out, strip[i]) && strlen(out) > strlen(strip[i]))
            out[strlen(out) - strlen(strip[i])] = '\0';
}

static void push(ShardList *l, const char *path) {
    l->paths = realloc(l->paths, (size_t)(l->n + 1) * sizeof *l->paths);
    if (!l->paths) die("out of memory listing shards");
    l->paths[l->n] = mallocCheck(strlen(path) + 1);
    strcpy(l->paths[l->n++], path);
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_directory(const char *dir, ShardList *out, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot read directory: %s", dir, strerror(errno));
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !is_shard_name(e->d_name)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) push(out, path);
    }
    closedir(d);
    if (out->n == 0) {
        snprintf(err, errlen, "%s: no shard files (*.json.gz, *.jsonl.gz, *.jsonl, *.json) in this directory", dir);
        return -1;
    }
    return 0;
}

int shard_list_resolve(const char *spec, ShardList *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    struct stat st;
    int rc = 0;
    if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = list_directory(spec, out, err, errlen);
    } else if (stat(spec, &st) == 0) {
        push(out, spec);
    } else if (strpbrk(spec, "*?[")) {
        glob_t g;
        if (glob(spec, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++) push(out, g.gl_pathv[i]);
            globfree(&g);
        } else {
            snprintf(err, errlen, "%s: the pattern matches no files", spec);
            rc = -1;
        }
    } else {
        snprintf(err, errlen,
                 "%s: no such file or directory; give a C4 shard (.json.gz/.jsonl/.json), a "
                 "directory of shards, a glob or a .tok token cache",
                 spec);
        rc = -1;
    }
    if (rc != 0) {
        shard_list_free(out);
        return -1;
    }
    qsort(out->paths, (size_t)out->n, sizeof *out->paths, compare_paths);
    return 0;
}

void shard_list_free(ShardList *l) {
    for (int i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}
