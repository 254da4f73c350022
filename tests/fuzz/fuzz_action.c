/*
 * libFuzzer harness: action_parse_result() on arbitrary bytes, for every action, Gen1 and Gen2+,
 * with a success status and an error status. The first byte, when present, picks the light type
 * so that the Gen1 "gain"/"brightness" paths are both reached. Nothing may crash, leak or read
 * past len; a 0 return must come with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "shelly/action.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int gens[] = {1, 2};
	static const int statuses[] = {200, 400};
	enum action_light light = size > 0 ? (enum action_light)(data[0] % 6) : ACTION_LIGHT_PLAIN;
	size_t g, s, k;

	for (g = 0; g < sizeof gens / sizeof gens[0]; g++) {
		for (s = 0; s < sizeof statuses / sizeof statuses[0]; s++) {
			for (k = 0; k < ACTION__COUNT; k++) {
				struct action a = {(enum action_kind)k, 0, 50, light};
				struct action_result r;
				char *cause = NULL;
				int rc = action_parse_result(gens[g], &a, statuses[s], (const char *)data,
				    size, &r, &cause);

				if (rc == 0 && r.message == NULL)
					abort();
				if (rc != 0 && cause == NULL)
					abort();
				free(cause);
				action_result_done(&r);
			}
		}
	}
	return 0;
}
