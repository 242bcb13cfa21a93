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

// Create path holding only the header, durably (written, fsynced and renamed into
// place), so a kill right after it leaves a file the readers can use. 0, or -1 with err.
int csv_create(const char *path, int n, const char *const *header, char *err, size_t errlen);

// Rewrite path with the given header first and the rows whose first field, a step
// number, is <= max_step (after a resume, rows logged past the checkpoint are dropped
// and will be logged again). A file whose first row is not the header (killed before
// the header reached the disk, or emptied) is repaired: the header is written again
// and every data row kept. A missing file is created with the header. 0, or -1 with err.
int csv_keep_rows_upto(const char *path, long max_step, int n, const char *const *header,
                       char *err, size_t errlen);
