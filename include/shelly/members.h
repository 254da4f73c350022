#ifndef SHELLY_MEMBERS_H
#define SHELLY_MEMBERS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Member tables: which member of a device's JSON reply goes where in a C struct, so a reader
 * is a table instead of a list of json_get_* calls. A row names the member (key, inside the
 * object at path in: "" for the object itself, "sys.device" for one nested), how it is read (a
 * number, or the number sub inside the member, e.g. aenergy.total; a flag; a text) and where it
 * goes. A member that is absent leaves the value as it was (null present = unknown).
 */
enum member_how { MEMBER_NUMBER, MEMBER_FLAG, MEMBER_TEXT };

struct member {
	const char *in, *key, *sub;
	enum member_how how;
	size_t off, size; /* where the value goes in the struct; a text's buffer size */
};

/* Rows: a double, a double inside the member, a tri-state int, a char array. */
#define MEMBER_NUM(st, in, key, m)                                      \
	{                                                               \
		in, key, NULL, MEMBER_NUMBER, offsetof(struct st, m), 0 \
	}
#define MEMBER_SUB(st, key, sub, m)                                    \
	{                                                              \
		"", key, sub, MEMBER_NUMBER, offsetof(struct st, m), 0 \
	}
#define MEMBER_BOOL(st, in, key, m)                                   \
	{                                                             \
		in, key, NULL, MEMBER_FLAG, offsetof(struct st, m), 0 \
	}
#define MEMBER_STR(st, in, key, m)                                                            \
	{                                                                                     \
		in, key, NULL, MEMBER_TEXT, offsetof(struct st, m), sizeof((struct st *)0)->m \
	}
/* A table and its length, as members_read() takes them. */
#define MEMBERS(t) t, sizeof t / sizeof t[0]

/* Reads the n members of table t from o into obj; each key after prefix ("" for none). */
void members_read(void *obj, const struct member *t, size_t n, const char *prefix, const cJSON *o);

#endif
