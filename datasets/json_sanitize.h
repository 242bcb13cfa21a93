// Real C4 lines that jansson refuses: raw bytes that are not UTF-8 inside a string
// (0xFF, 0xFE, a cut multi-byte sequence) and \uD800-\uDFFF escapes that are not a
// surrogate pair. Python reads such a line (json.loads on bytes decoded with
// errors="replace"); so do we, by rewriting the line before jansson sees it:
//   * each maximal ill-formed UTF-8 subpart (Unicode §3.9, as Python's decoder cuts
//     them) becomes U+FFFD (EF BF BD);
//   * a lone surrogate escape becomes \uFFFD. Python would keep it as a code point
//     that only a later errors="replace" encode turns into '?'; we use U+FFFD for both
//     kinds of damage, so the text holds one replacement character per defect.
// A line that needs neither is left as it is.
#pragma once
#include <stddef.h>

// Rewrite line (n bytes) into out, which must hold 3*n bytes (one bad byte grows to
// three). Returns the length written.
size_t json_sanitize_line(const char *line, size_t n, char *out);
