/*
 * libFuzzer harness: the import reader (JSON through exchange/jsondoc, TOML through
 * exchange/toml, then validation) on arbitrary bytes. It must never crash or leak; a rejection
 * names the file and a line; the JSON reader alone agrees with itself on a second run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/import.h"
#include "exchange/jsondoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_doc *doc = NULL;
	struct toml_value *a, *b;
	char *cause = NULL;

	if (import_parse("fuzz", (const char *)data, size, &doc, &cause) == 0) {
		if (doc == NULL || cause != NULL)
			abort();
		import_doc_free(doc);
	} else if (cause == NULL || strncmp(cause, "fuzz: ", 6) != 0 ||
	           strstr(cause, "line ") == NULL) {
		abort();
	}
	free(cause);

	cause = NULL;
	a = jsondoc_parse((const char *)data, size, &cause);
	b = jsondoc_parse((const char *)data, size, NULL);
	if ((a == NULL) != (b == NULL) || (a == NULL && cause == NULL) || (a != NULL && cause))
		abort();
	toml_free(a);
	toml_free(b);
	free(cause);
	return 0;
}
