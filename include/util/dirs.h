#ifndef UTIL_DIRS_H
#define UTIL_DIRS_H

/*
 * Creating directories: the one "mkdir -p" of the program (the database's directory, the
 * templates directory, the files an import restores). New directories get mode 0700. And the
 * one answer to "which file does writing to this path replace".
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
/*
 * The file a writer replaces for path (caller frees): path itself (also when it does not exist
 * yet, *st zeroed), or the file a symbolic link at path leads to (*st its status), so the link
 * survives and its target gets the new content. NULL with *st filled and *cause NULL when path exists but is not a regular
 * file (a FIFO, device, directory); NULL with *cause on error (a link to a missing file, or a
 * file dirs_protect guards, compared by device and inode, through links and hard links).
 */
struct stat;
char *dirs_file_target(const char *path, struct stat *st, char **cause);
/*
 * Guards the open database at path and its -wal, -shm and -journal files from every writer
 * that goes through dirs_file_target (exports, templates, backups, token files) until
 * dirs_unprotect(path). A few paths at most; ":memory:" is ignored.
 */
void dirs_protect(const char *path);
void dirs_unprotect(const char *path);

#endif
