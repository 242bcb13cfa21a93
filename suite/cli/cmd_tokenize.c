// suite tokenize: GPT-2 BPE on the command line. Text on stdin -> ids on stdout
// (one line, space-separated); --decode reverses it. Any bytes are accepted as
// text (see datasets/tokenizer.h for invalid UTF-8), and decoding is exact, so
// `suite tokenize | suite tokenize --decode` reproduces stdin byte for byte.
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/tokenizer.h"
#include "kernels/common.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"

static const char *USAGE =
    "usage: suite tokenize [--decode] [--vocab-size V] [--gpt2-dir DIR] < input > output\n\n"
    "GPT-2 byte-level BPE (50257 ids, or V with --vocab-size). Reads stdin to the end.\n"
    "  encode (default): text -> ids, space-separated on one line. No end-of-text\n"
    "                    is added; '<|endoftext|>' in the text is ordinary text.\n"
    "  --decode:         whitespace-separated ids -> the exact bytes they spell.\n"
    "  --vocab-size V:   the reduced vocabulary of a small-scale model: the 256 bytes,\n"
    "                    GPT-2's first V-257 merges and end-of-text as V-1 (257..50257).";

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16;
    char *buf = mallocCheck(cap + 1);
    *len = 0;
    for (size_t got; (got = fread(buf + *len, 1, cap - *len, f)) > 0;) {
        *len += got;
        if (*len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (!buf) die("out of memory reading stdin (%zu bytes)", *len);
        }
    }
    buf[*len] = '\0';
    return buf;
}

static int encode(const Tokenizer *tok, const char *text, size_t len) {
    TokenizerSession *s = tokenizer_session_new(tok);
    TokenIds ids = {0};
    tokenizer_encode(s, text, len, &ids);
    for (size_t i = 0; i < ids.len; i++) printf(i ? " %d" : "%d", ids.ids[i]);
    putchar('\n');
    token_ids_free(&ids);
    tokenizer_session_free(s);
    return 0;
}

// Ids separated by white space (and optionally commas, as in a pasted list).
static int decode(const Tokenizer *tok, const char *text, size_t len) {
    TokenIds ids = {0};
    int rc = 0;
    for (const char *p = text; p < text + len && rc == 0;) {
        if (isspace((unsigned char)*p) || *p == ',') {
            p++;
            continue;
        }
        char *end;
        errno = 0;
        long id = strtol(p, &end, 10);
        if (end == p || errno || id < 0 || id >= tokenizer_vocab_size(tok)) {
            int n = (int)strcspn(p, " \t\r\n,");
            fprintf(stderr, "suite tokenize --decode: '%.*s' (id number %zu on stdin) is not a token id 0..%d\n",
                    n > 40 ? 40 : n, p, ids.len + 1, tokenizer_vocab_size(tok) - 1);
            rc = 1;
            break;
        }
        token_ids_push(&ids, (int)id);
        p = end;
    }
    if (rc == 0) {
        size_t len, bad;
        char *bytes = tokenizer_decode(tok, ids.ids, ids.len, &len, &bad);  // ids checked above
        fwrite(bytes, 1, len, stdout);
        free(bytes);
    }
    token_ids_free(&ids);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    int decode_mode = 0, vocab_size = 0;
    const char *gpt2_dir = NULL;
    ArgSpec specs[] = {
        {"decode", ARG_FLAG, &decode_mode, "         ids on stdin -> text on stdout"},
        {"vocab-size", ARG_INT, &vocab_size, "V      reduced vocabulary, 257..50257 (default 50257)"},
        {"gpt2-dir", ARG_STRING, &gpt2_dir, "DIR      folder with encoder.json and vocab.bpe (default: datasets/gpt2, or $MOT_GPT2_DIR)"},
    };
    int rc = args_parse(argc, argv, USAGE, specs, sizeof specs / sizeof specs[0], NULL);
    if (rc) return rc == 1 ? 0 : rc;
    char err[1024];
    Tokenizer *tok = tokenizer_open(gpt2_dir, vocab_size, err, sizeof err);
    if (!tok) {
        fprintf(stderr, "suite tokenize: %s\n", err);
        return 1;
    }
    size_t len;
    char *input = read_all(stdin, &len);
    rc = decode_mode ? decode(tok, input, len) : encode(tok, input, len);
    free(input);
    tokenizer_free(tok);
    return rc;
}
