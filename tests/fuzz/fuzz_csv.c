/*
 * libFuzzer harness: the RFC 4180 reader (util/csv.h) on arbitrary bytes. Nothing may crash,
 * leak or loop; every record has 1 to max fields, none longer than the input; an error names
 * a line within the text and ends the reading. Every record read writes back (each field
 * quoted, quotes doubled, CRLF) to text that reads as the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/str.h"

#define FUZZ_CSV_MAX_FIELDS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The record written back as RFC 4180 text; caller frees. */
static char *
write_record(char **f, size_t n)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t i = 0; i < n; i++) {
		strbuf_append(&sb, i > 0 ? ",\"" : "\"");
		for (const char *p = f[i]; *p != '\0'; p++)
			strbuf_append(&sb, *p == '"' ? "\"\"" : (char[]){*p, '\0'});
		strbuf_append_char(&sb, '"');
	}
	strbuf_append(&sb, "\r\n");
	return strbuf_steal(&sb);
}

static void
check_round_trip(char **f, size_t n)
{
	char *text = write_record(f, n), **g, *cause = NULL;
	size_t m;
	int line;
	struct csv c;

	csv_init(&c, text, strlen(text));
	if (csv_next(&c, FUZZ_CSV_MAX_FIELDS, &g, &m, &line, &cause) != 1 || m != n || line != 1)
		abort();
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i], g[i]) != 0)
			abort();
	csv_fields_free(g, n);
	if (csv_next(&c, FUZZ_CSV_MAX_FIELDS, &g, &m, &line, &cause) != 0) /* nothing after */
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv c;
	char **f, *cause = NULL;
	size_t n, lines = 1;
	int line, r, last = 0;

	if (size > 65536)
		return 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	csv_init(&c, (const char *)data, size);
	while ((r = csv_next(&c, FUZZ_CSV_MAX_FIELDS, &f, &n, &line, &cause)) == 1) {
		if (n < 1 || n > FUZZ_CSV_MAX_FIELDS || line <= last || (size_t)line > lines)
			abort();
		last = line;
		for (size_t i = 0; i < n; i++)
			if (strlen(f[i]) > size)
				abort();
		if (memchr(data, '\0', size) == NULL)
			check_round_trip(f, n);
		csv_fields_free(f, n);
	}
	if (r < 0) {
		if (cause == NULL || line < 1 || (size_t)line > lines)
			abort();
		free(cause);
		if (csv_next(&c, FUZZ_CSV_MAX_FIELDS, &f, &n, &line, &cause) != 0)
			abort();
	}
	return 0;
}
