/*
 * libFuzzer harness: the string helpers on arbitrary bytes. str_sanitize's result is safe,
 * is a fixed point, respects max and cuts only between characters; the in-place variant is
 * safe and never longer; the parsers neither crash nor accept what they should not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *a, *b, *c, *u, mac[13], small[7];
	uint64_t v;
	size_t max, i, len;

	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);

	a = str_sanitize(s, 0);
	if (!str_is_safe(a) || strlen(a) > 3 * len)
		abort();
	b = str_sanitize(a, 0);
	if (strcmp(a, b) != 0)
		abort();
	if (str_is_safe(s) != (strcmp(s, a) == 0))
		abort();
	max = size / 2 + 1;
	c = str_sanitize(s, max);
	if (strlen(c) > max || !str_is_safe(c) || strncmp(a, c, strlen(c)) != 0)
		abort();
	free(c);
	free(b);

	b = strdup(s);
	if (b == NULL)
		abort();
	str_sanitize_inplace(b);
	if (!str_is_safe(b) || strlen(b) > len)
		abort();
	free(b);

	str_copy(small, sizeof small, a);
	if (!str_is_safe(small))
		abort(); /* a cut of valid UTF-8 stays valid */

	if (str_mac_normalise(s, mac) == 0) {
		for (i = 0; i < 12; i++) {
			if (!((mac[i] >= '0' && mac[i] <= '9') || (mac[i] >= 'a' && mac[i] <= 'f')))
				abort();
		}
		if (mac[12] != '\0')
			abort();
	}
	u = str_urlencode(s);
	if (strspn(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%") !=
	    strlen(u))
		abort();
	free(u);
	if (str_parse_duration_ms(s, &v) == 0 && (len == 0 || s[0] < '0' || s[0] > '9'))
		abort();
	if (str_parse_size(s, &v) == 0 && (len == 0 || s[0] < '0' || s[0] > '9'))
		abort();
	free(a);
	free(s);
	return 0;
}
