/*
 * The fatal cleanup hook that restores the terminal (STYLE.md): when the console dies of
 * SIGABRT (xmalloc's abort on OOM, a failed assertion), SIGSEGV, SIGBUS or SIGFPE, the handler
 * writes the reset sequence prepared while the terminal was set up (leave the alternate
 * screen, show the cursor, plain attributes, keypad off), puts the shell's terminal modes back
 * with tcsetattr (echo, canonical input) and re-raises the signal, so the process still dies
 * of it (a core, the shell's status). The handler calls only async-signal-safe functions.
 */
#include <curses.h>
#include <signal.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include "tui/view.h"

static const int fatal_signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])

static char reset_seq[512];
static size_t reset_len;
static struct termios shell_modes;
static int have_modes;
static int tty_out = -1, tty_in = -1;
static volatile sig_atomic_t armed;

static void
fatal_cb(int sig)
{
	if (armed) {
		armed = 0;
		if (reset_len > 0) {
			ssize_t w = write(tty_out, reset_seq, reset_len);
			(void)w;
		}
		if (have_modes)
			tcsetattr(tty_in, TCSANOW, &shell_modes);
	}
	/* SA_RESETHAND put the default action back; SA_NODEFER lets this raise deliver it. */
	raise(sig);
}

/* Appends terminfo capability cap (when the terminal has one) to the reset sequence. */
static void
add_cap(const char *cap)
{
	char *s = tigetstr(cap);
	size_t len;

	if (s == NULL || s == (char *)-1)
		return;
	len = strlen(s);
	if (reset_len + len < sizeof reset_seq) {
		memcpy(reset_seq + reset_len, s, len);
		reset_len += len;
	}
}

void
termguard_save_modes(int in_fd)
{
	have_modes = tcgetattr(in_fd, &shell_modes) == 0;
	tty_in = in_fd;
}

void
termguard_arm(int out_fd)
{
	struct sigaction sa;

	reset_len = 0;
	add_cap("sgr0"); /* plain attributes */
	add_cap("rmkx"); /* keypad back to normal */
	add_cap("cnorm"); /* a visible cursor */
	add_cap("rmcup"); /* leave the alternate screen */
	if (reset_len + 2 < sizeof reset_seq) {
		memcpy(reset_seq + reset_len, "\r\n", 2);
		reset_len += 2;
	}
	tty_out = out_fd;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fatal_cb;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &sa, NULL);
	armed = 1;
}

void
termguard_disarm(void)
{
	struct sigaction sa;

	if (!armed)
		return;
	armed = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &sa, NULL);
}
