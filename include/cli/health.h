#ifndef CLI_HEALTH_H
#define CLI_HEALTH_H

struct app;

/* --health-check ADDR:PORT: 0 when /healthz of a loopback --headless answers 200 (cli/health.c). */
int cli_health_check(struct app *app);

#endif
