/*
 * libFuzzer harness: http_digest_weak() on arbitrary bytes (a WWW-Authenticate value from a
 * device). Nothing may crash or read past size (the input is not NUL-terminated); the answer
 * is 0 or 1, and the same bytes give the same answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees a read past it */
	int a, b;

	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	a = http_digest_weak(copy, size);
	b = http_digest_weak(copy, size);
	if ((a != 0 && a != 1) || a != b)
		abort();
	free(copy);
	return 0;
}
