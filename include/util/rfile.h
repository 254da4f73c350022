#ifndef UTIL_RFILE_H
#define UTIL_RFILE_H

/*
 * Opening a file the program reads (an import, a template, a theme) without blocking: a
 * FIFO, a terminal or another device would block open() or read() and freeze the loop (the
 * console), so anything but a regular file is refused before a byte is read.
 */
#include <stdio.h>

/*
 * Opens path read-only when it is a regular file (symbolic links followed, as the operator
 * named it): open(O_NONBLOCK), fstat, then blocking reads again. Returns the descriptor
 * (caller closes), or -1 with errno set (ENOENT for a missing file) and, when cause is not
 * NULL, *cause "PATH: why" (caller frees).
 */
int rfile_open(const char *path, char **cause);
/* The same as a stdio stream (caller fcloses), or NULL. */
FILE *rfile_fopen(const char *path, char **cause);

#endif
