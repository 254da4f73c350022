#ifndef UTIL_DIRS_H
#define UTIL_DIRS_H

/*
 * Creating directories: the one "mkdir -p" of the program (the database's directory, the
 * templates directory, the files an import restores). New directories get mode 0700.
 */

/*
 * Creates dir and every missing parent. Returns 0 when all of them are directories now, or -1
 * at the first that cannot be made or is something else, with *cause (caller frees; cause
 * may be NULL).
 */
int dirs_make(const char *dir, char **cause);
/* The home directory: $HOME when it is an absolute path, else the password file's; malloc'd, or
 * NULL when neither is. */
char *dirs_home(void);
/* dirs_make of the directory part of path (nothing when path has no '/' after its start). */
int dirs_make_parents(const char *path, char **cause);

#endif
