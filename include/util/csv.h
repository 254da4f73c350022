#ifndef UTIL_CSV_H
#define UTIL_CSV_H

/*
 * A reader of CSV text in memory as RFC 4180 writes it: fields separated by commas, records
 * ended by CRLF or LF (the last one may lack it); a field in double quotes may hold commas,
 * line breaks and quotes (doubled: ""); a UTF-8 byte order mark at the start is skipped. Field
 * values are returned without their quotes; nothing is trimmed. An empty line is a record of
 * one empty field.
 */
#include <stddef.h>

struct csv {
	const char *p, *end;
	int line; /* the line the next record starts on, from 1 */
};

/* Starts reading len bytes of buf (kept, not copied). */
void csv_init(struct csv *c, const char *buf, size_t len);
/*
 * Reads the next record: returns 1 with its fields (*fields, *nfields; caller frees with
 * csv_fields_free) and the line it starts on (*line), 0 at the end of the text, or -1 with
 * *cause (caller frees) and the line the bad record starts on (*line) for a quoted field
 * without its closing quote, text after a closing quote, a quote inside an unquoted field, a
 * NUL byte or more than max_fields fields. After -1 the reader is at the end.
 */
int csv_next(struct csv *c, size_t max_fields, char ***fields, size_t *nfields, int *line,
    char **cause);
void csv_fields_free(char **fields, size_t n);

#endif
