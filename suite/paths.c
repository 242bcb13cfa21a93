#include "suite/paths.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

// The checkout is the first directory at or above the executable (build/suite,
// build/tests/test_x) that holds datasets/.
const char *suite_home(void) {
    static char home[PATH_MAX];
    if (!home[0]) {
        char exe[PATH_MAX], probe[PATH_MAX + 16];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return ".";
        exe[n] = '\0';
        snprintf(home, sizeof home, "%s", dirname(exe));
        for (int up = 0; up < 3; up++) {
            snprintf(probe, sizeof probe, "%s/datasets", home);
            if (access(probe, F_OK) == 0) return home;
            snprintf(probe, sizeof probe, "%s", home);
            snprintf(home, sizeof home, "%s", dirname(probe));
        }
        snprintf(home, sizeof home, ".");  // not found: relative to the working directory
    }
    return home;
}

void suite_path(char *out, size_t len, const char *rel) {
    snprintf(out, len, "%s/%s", suite_home(), rel);
    if (access(out, F_OK) != 0) snprintf(out, len, "%s", rel);
}

const char *suite_commit(void) {
    static char commit[64];
    if (commit[0]) return commit;
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse --short HEAD 2>/dev/null", suite_home());
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(commit, sizeof commit, p)) snprintf(commit, sizeof commit, "unknown");
    if (p) pclose(p);
    commit[strcspn(commit, "\n")] = '\0';
    if (!commit[0]) snprintf(commit, sizeof commit, "unknown");
    return commit;
}
