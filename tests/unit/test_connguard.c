#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/connguard.h"
#include "util/loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BOUND_MS 30000 /* an upper bound for loaded machines and ASan */

static struct sockaddr_in
addr4(const char *ip, int port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

/* The last `reserve` slots go to addresses that hold no connection; the limit holds. */
static void
test_reserve(void **state)
{
	struct loop *loop = loop_new();
	struct connguard *g = connguard_new(loop, 4, 2, 10000);
	struct sockaddr_in a1 = addr4("127.0.0.1", 1000), a2 = addr4("127.0.0.1", 1001),
	                   b = addr4("127.0.0.2", 1000), c = addr4("127.0.0.3", 1000),
	                   d = addr4("127.0.0.4", 1000);
	struct connguard_conn *ca;

	(void)state;
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&a1), 1);
	ca = connguard_open(g, -1, (struct sockaddr *)&a1);
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&a2), 1);
	connguard_open(g, -1, (struct sockaddr *)&a2);
	/* Two of four taken: the rest is the reserve. a (any port) holds some: refused. */
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&a1), 0);
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&b), 1);
	connguard_open(g, -1, (struct sockaddr *)&b);
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&b), 0);
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&c), 1);
	connguard_open(g, -1, (struct sockaddr *)&c);
	/* Full: not even a new address. */
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&d), 0);
	connguard_close(ca);
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&d), 1);
	assert_int_equal(connguard_admit(g, (struct sockaddr *)&a1), 0);
	connguard_free(g);
	loop_free(loop);
}

/* 1 when fd has reached the end of its stream (the peer shut it down). */
static int
at_eof(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/*
 * A connection past its deadline is shut down (its peer sees the end of the stream) however
 * recently it sent something; an answered one is not, and the next request's clock restarts.
 */
static void
test_deadline(void **state)
{
	struct loop *loop = loop_new();
	struct connguard *g = connguard_new(loop, 8, 0, 100);
	int slow[2], quick[2];
	struct sockaddr_in a = addr4("127.0.0.1", 1);
	struct connguard_conn *cq;
	uint64_t end;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, slow), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, quick), 0);
	connguard_open(g, slow[0], (struct sockaddr *)&a);
	cq = connguard_open(g, quick[0], (struct sockaddr *)&a);
	connguard_answered(cq);
	end = loop_update_now(loop) + BOUND_MS;
	while (connguard_expired(g) == 0 && loop_update_now(loop) < end)
		loop_run_once(loop, 50);
	assert_int_equal(connguard_expired(g), 1);
	assert_true(at_eof(slow[1]));
	assert_false(at_eof(quick[1]));
	/* Its next request has a deadline again. */
	connguard_next(cq);
	end = loop_update_now(loop) + BOUND_MS;
	while (connguard_expired(g) == 1 && loop_update_now(loop) < end)
		loop_run_once(loop, 50);
	assert_int_equal(connguard_expired(g), 2);
	assert_true(at_eof(quick[1]));
	connguard_free(g);
	loop_free(loop);
	for (int i = 0; i < 2; i++) {
		close(slow[i]);
		close(quick[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reserve),
	    cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
