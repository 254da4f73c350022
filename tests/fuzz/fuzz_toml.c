/*
 * libFuzzer harness: the TOML 1.0 reader on arbitrary bytes. A rejection carries a line and
 * column; an accepted document is a well-formed tree (tables have a key per item, strings their
 * length, every value a line), and writing any of its string keys and values with the writing
 * helpers reads back as the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_tree(const struct toml_value *v, int depth)
{
	if (v == NULL || v->line < 1 || v->col < 1 || depth > TOML_MAX_DEPTH + 2)
		abort();
	if (v->type == TOML_STRING && (v->str == NULL || v->str[v->len] != '\0'))
		abort();
	if (v->type != TOML_ARRAY && v->type != TOML_TABLE && v->n != 0)
		abort();
	for (size_t k = 0; k < v->n; k++) {
		if (v->type == TOML_TABLE && (v->keys[k] == NULL || v->keys[k][v->keylens[k]]))
			abort();
		check_tree(v->items[k], depth + 1);
	}
}

/* Key and string written by the helpers must parse back to themselves (NUL-free ones). */
static void
check_writer(const struct toml_value *root)
{
	struct strbuf sb;
	struct toml_value *back;

	for (size_t k = 0; k < root->n && k < 8; k++) {
		const struct toml_value *v = root->items[k];

		if (strlen(root->keys[k]) != root->keylens[k] || v->type != TOML_STRING ||
		    strlen(v->str) != v->len)
			continue;
		strbuf_init(&sb);
		toml_append_key(&sb, root->keys[k]);
		strbuf_append(&sb, " = ");
		toml_append_string(&sb, v->str);
		back = toml_parse(sb.buf, sb.len, NULL);
		if (back == NULL || back->n != 1 || strcmp(back->keys[0], root->keys[k]) != 0 ||
		    strcmp(back->items[0]->str, v->str) != 0)
			abort();
		toml_free(back);
		strbuf_done(&sb);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *doc;
	char *cause = NULL;

	doc = toml_parse((const char *)data, size, &cause);
	if (doc == NULL) {
		if (cause == NULL || strncmp(cause, "line ", 5) != 0)
			abort();
		free(cause);
		return 0;
	}
	if (doc->type != TOML_TABLE)
		abort();
	check_tree(doc, 0);
	check_writer(doc);
	toml_free(doc);
	return 0;
}
