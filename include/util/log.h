#ifndef UTIL_LOG_H
#define UTIL_LOG_H

/*
 * Process-wide log sink (one of the few globals STYLE.md allows). Lines go to stderr as
 * "LEVEL message"; with a tty front end the sink is redirected to a file or a ring.
 */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

/* Sets the lowest level written. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Sends log lines to fd instead of stderr (-1 restores stderr). */
void log_set_fd(int fd);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 if unknown. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
