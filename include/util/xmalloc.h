#ifndef UTIL_XMALLOC_H
#define UTIL_XMALLOC_H

#include <stddef.h>

/* Allocation that never returns NULL: on failure the process logs and aborts. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t n, size_t size);
/*
 * Returns arr (*cap elements of size bytes, n of them used) with room for element n: as it
 * is while n < *cap, else reallocated to twice *cap (8 the first time), *cap updated.
 */
void *xgrowarray(void *arr, size_t *cap, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a malloc'd formatted string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
