#include "util/holder.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
holder_name(char *buf, size_t size, const char *role, const char *tag)
{
	char host[64];
	struct stat sb;
	unsigned long ns = stat("/proc/self/ns/pid", &sb) == 0 ? (unsigned long)sb.st_ino : 0;

	if (gethostname(host, sizeof host - 1) != 0)
		strcpy(host, "?");
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p != '\0'; p++)
		if (*p == ':')
			*p = '_'; /* the separator */
	snprintf(buf, size, "%s:%s:%ld:%lu%s%s", role, host, (long)getpid(), ns,
	    tag != NULL ? ":" : "", tag != NULL ? tag : "");
}

/* Splits a holder name: 0 with host, pid and pid namespace, -1 when it is of another form. */
static int
holder_parse(const char *name, char host[64], long *pid, unsigned long *ns)
{
	int n = 0, t = 0;

	if (sscanf(name, "%*[^:]:%63[^:]:%ld:%lu%n", host, pid, ns, &n) != 3 || n == 0)
		return -1;
	if (name[n] == '\0')
		return 0;
	return sscanf(name + n, ":%*x%n", &t) == 0 && t > 0 && name[n + t] == '\0' ? 0 : -1;
}

int
holder_gone(const char *mine, const char *other, long *pid)
{
	char my_host[64], host[64];
	long my_pid;
	unsigned long my_ns, ns;

	*pid = 0;
	if (strcmp(mine, other) == 0 || holder_parse(mine, my_host, &my_pid, &my_ns) != 0 ||
	    holder_parse(other, host, pid, &ns) != 0)
		return 0;
	if (strcmp(host, my_host) != 0 || ns != my_ns || ns == 0 || *pid <= 0)
		return 0;
	if (*pid == my_pid)
		return 1;
	return kill((pid_t)*pid, 0) != 0 && errno == ESRCH;
}
