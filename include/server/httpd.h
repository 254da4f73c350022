#ifndef SERVER_HTTPD_H
#define SERVER_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * The HTTP server of the headless mode: libmicrohttpd in MHD_USE_EPOLL mode without a thread,
 * its epoll fd watched by our loop and its timeout driving a loop timer. Requests are routed by
 * exact method and path to handlers that answer synchronously. A path that is not routed gets
 * 404, a routed path with another method 405 with an Allow header; HEAD is answered by the GET
 * handler (microhttpd sends the headers only). Request bodies (any method) are buffered up to
 * HTTPD_BODY_MAX bytes; a larger body gets 413 and the handler is not called (at once when
 * Content-Length says so; a chunked body is read and dropped first, and past 1 MiB the
 * connection is closed without an answer).
 */
struct loop;
struct httpd;
struct httpd_request;

#define HTTPD_BODY_MAX (64 * 1024)	/* largest request body handed to a handler */
/*
 * Connection limits: one address (a scraper, a probe, or a client that opens and forgets
 * connections) holds at most HTTPD_PER_ADDRESS_LIMIT of them, an idle one is closed after
 * HTTPD_CONNECTION_TIMEOUT_S, one that has not sent a complete request (and been answered)
 * HTTPD_REQUEST_DEADLINE_S after its accept or its previous request is closed however slowly
 * it keeps sending (slowloris), and the last HTTPD_RESERVED_SLOTS connections go only to
 * addresses that hold none yet; so /healthz and /metrics keep answering other addresses.
 */
#define HTTPD_CONNECTION_LIMIT 256	/* simultaneous connections */
#define HTTPD_PER_ADDRESS_LIMIT 16	/* simultaneous connections from one address */
#define HTTPD_CONNECTION_TIMEOUT_S 5	/* idle connections are closed after this */
#define HTTPD_REQUEST_DEADLINE_S 10	/* a request must be complete within this */
#define HTTPD_RESERVED_SLOTS 16		/* of the limit, for addresses without a connection */
#define HTTPD_TEXT "text/plain; charset=utf-8"

/*
 * What a handler answers. httpd zeroes it and sets status 200 and content_type HTTPD_TEXT
 * before the call; the handler sets what it needs. body is malloc'd and taken over by httpd
 * (NULL for an empty body); body_len is its length (body need not be NUL-terminated).
 * content_type must be a string that outlives the call (usually a literal).
 */
struct httpd_reply {
	int status;
	const char *content_type;
	char *body;
	size_t body_len;
	int wipe; /* body holds a secret: wiped (explicit_bzero) when microhttpd lets it go */
	/*
	 * Or a body made while it is sent, for large pages (body stays NULL): stream_cb copies up
	 * to max bytes of the body from offset pos into buf and returns how many (> 0), or -1 at
	 * the end; stream_free_cb(stream_arg) runs once when the response is gone (sent, failed
	 * or the server freed), also when it was never sent.
	 */
	long (*stream_cb)(void *arg, uint64_t pos, char *buf, size_t max);
	void (*stream_free_cb)(void *arg);
	void *stream_arg;
	/* Private: extra headers added with httpd_reply_header (name, value pairs). */
	char **headers;
	size_t nheaders;
};

/* Handles one request; fills reply. Runs on the loop, must not block. */
typedef void (*httpd_handler_cb)(const struct httpd_request *req, struct httpd_reply *reply,
    void *arg);

/*
 * Parses "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", "[::]:0" or "localhost:9464"
 * (127.0.0.1) into *ss and *sslen. Only numeric addresses: host names are not resolved.
 * Port 0 means an ephemeral port. Returns 0, or -1 with *cause (caller frees).
 */
int httpd_parse_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen,
    char **cause);

/*
 * Binds addr (see httpd_parse_listen) and starts serving on loop. Returns the server (caller
 * frees with httpd_free), or NULL with *cause (caller frees), e.g. when the port is in use.
 */
struct httpd *httpd_new(struct loop *loop, const char *addr, char **cause);
/* HTTPS: the PEM certificate (chain) and private key, copied by httpd (the key is wiped when
 * the server is freed). */
struct httpd_tls {
	const char *cert_pem;
	const char *key_pem;
};
/* httpd_new serving HTTPS with tls (NULL: plain HTTP). A bad certificate or key is *cause. */
struct httpd *httpd_new_tls(
    struct loop *loop, const char *addr, const struct httpd_tls *tls, char **cause);
/* Stops the server: closes the listening socket and every connection. NULL is allowed. */
void httpd_free(struct httpd *httpd);
/* Returns the bound TCP port (the real one when the listen address asked for port 0). */
uint16_t httpd_port(const struct httpd *httpd);

/*
 * Routes method ("GET", "POST", ...; case-sensitive, not "HEAD": GET routes answer HEAD) on
 * the exact path (starting with '/', no query) to cb with arg. Returns 0, or -1 if the pair is
 * already routed or the arguments are invalid. httpd copies the strings.
 */
int httpd_route(struct httpd *httpd, const char *method, const char *path, httpd_handler_cb cb,
    void *arg);

/* Returns the request method as received ("HEAD" for a HEAD on a GET route); httpd owns it. */
const char *httpd_request_method(const struct httpd_request *req);
/* Returns the decoded request path without the query string; httpd owns it. */
const char *httpd_request_path(const struct httpd_request *req);
/* Returns the request body, NUL-terminated ("" when there is none), and its length in *len
 * (may be NULL); httpd owns it. The body may itself contain NUL bytes. */
const char *httpd_request_body(const struct httpd_request *req, size_t *len);
/* Returns a request header by case-insensitive name, or NULL; httpd owns it. */
const char *httpd_request_header(const struct httpd_request *req, const char *name);
/* Returns a decoded query-string argument, or NULL if absent ("" if it has no value);
 * httpd owns it. */
const char *httpd_request_query(const struct httpd_request *req, const char *name);

/* Sets the reply to status with a printf-formatted text/plain body (malloc'd, owned by reply). */
void httpd_reply_text(struct httpd_reply *reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a response header (copied). Returns 0, or -1 (header not added) if name is not an HTTP
 * token or value holds a control character. */
int httpd_reply_header(struct httpd_reply *reply, const char *name, const char *value);

#endif
