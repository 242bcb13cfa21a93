// CSV in and out through libcsv: every results file of the suite goes through here.
#pragma once
#include <stddef.h>
#include <stdio.h>

// Write one row of n fields and a newline. Fields are quoted (by libcsv) only
// when they contain a separator, quote or line break, so numeric files stay
// readable by gnuplot and spreadsheets alike.
void csv_write_row(FILE *f, int n, const char *const *fields);

// Parse a whole CSV file, calling row(fields, n, line, user) for each record
// (header included). A non-zero return from row stops the parse and is returned.
// Returns 0, or -1 with err naming the file (and line) on I/O or syntax errors.
typedef int (*CsvRowFn)(char **fields, int n, long line, void *user);
int csv_read(const char *path, CsvRowFn row, void *user, char *err, size_t errlen);

// Rewrite path keeping the header and the rows whose first field, a step number,
// is <= max_step (after a resume, rows logged past the checkpoint are dropped
// and will be logged again). A missing file is fine. 0, or -1 with err.
int csv_keep_rows_upto(const char *path, long max_step, char *err, size_t errlen);
