/*
 * libFuzzer harness: the agent API body parser on arbitrary bytes, as every kind of message.
 * Nothing may crash or leak; a refusal always has a cause; parsed strings stay inside their
 * buffers and the character classes they promise (stages [a-z_], MACs 12 hex digits).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provision/agentmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentmsg *m = malloc(sizeof *m);

	for (int k = 0; k < AGENTMSG_KIND_COUNT; k++) {
		char *cause = NULL;

		if (agentmsg_parse((enum agentmsg_kind)k, (const char *)data, size, m, &cause) !=
		    0) {
			if (cause == NULL)
				abort();
			free(cause);
			continue;
		}
		if (cause != NULL ||
		    strspn(m->stage, "abcdefghijklmnopqrstuvwxyz_") != strlen(m->stage))
			abort();
		if (m->mac[0] != '\0' && strlen(m->mac) != 12)
			abort();
		if (m->naps > AGENTMSG_MAX_APS || strchr(m->reason, '\x1b') != NULL)
			abort();
		agentmsg_clear(m);
	}
	free(m);
	return 0;
}
