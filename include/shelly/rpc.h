#ifndef SHELLY_RPC_H
#define SHELLY_RPC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Gen2+ RPC helpers that need no I/O: error codes turned into words a person understands, the
 * error object parser, and a parser for the HTTP Digest challenge (WWW-Authenticate) that Gen2+
 * devices send, for diagnostics and tests.
 */

/*
 * Error codes: X(enum suffix, code, short name, what it means for the user, source).
 * Source DOC = the Gen2 CommonErrors page; SEEN = observed from devices (tests/fixtures/errors);
 * GRPC = the rest of the same numbering (-100 - gRPC status code, which the documented codes
 * follow), not documented by Shelly; JSONRPC = the JSON-RPC 2.0 specification codes.
 */
#define RPC_ERRORS(X)                                                                              \
	X(CANCELLED, -101, "cancelled", "the device cancelled the request", GRPC)                  \
	X(UNKNOWN, -102, "unknown error", "the device failed without saying why", GRPC)            \
	X(INVALID_ARGUMENT, -103, "invalid argument",                                              \
	    "the device rejected a parameter of the request", DOC)                                 \
	X(DEADLINE_EXCEEDED, -104, "deadline exceeded",                                            \
	    "the device gave up waiting (timeout)", DOC)                                           \
	X(NOT_FOUND, -105, "not found", "the device has no such component", DOC)                  \
	X(ALREADY_EXISTS, -106, "already exists", "the device already has that item", GRPC)       \
	X(PERMISSION_DENIED, -107, "permission denied", "the device refused the request", GRPC)   \
	X(RESOURCE_EXHAUSTED, -108, "resource exhausted",                                          \
	    "a device limit was reached (too many items or requests)", DOC)                        \
	X(FAILED_PRECONDITION, -109, "failed precondition",                                        \
	    "the device is not in a state that allows this", DOC)                                  \
	X(ABORTED, -110, "aborted", "the device aborted the operation", GRPC)                      \
	X(OUT_OF_RANGE, -111, "out of range", "a value is outside the allowed range", GRPC)        \
	X(UNIMPLEMENTED, -112, "unimplemented", "the device does not implement this", GRPC)        \
	X(INTERNAL, -113, "internal error", "the device hit an internal error", GRPC)              \
	X(UNAVAILABLE, -114, "unavailable",                                                        \
	    "the device cannot do this now, or does not know the method", DOC)                     \
	X(DATA_LOSS, -115, "data loss", "the device lost or corrupted data", GRPC)                 \
	X(UNAUTHENTICATED, -116, "unauthenticated", "the device needs valid credentials", GRPC)    \
	X(UNAUTHORIZED, 401, "unauthorized",                                                       \
	    "the device needs a password, or the one given is wrong", DOC)                         \
	X(NO_HANDLER, 404, "no handler", "the device does not support this method", SEEN)         \
	X(PARSE_ERROR, -32700, "parse error", "the device could not parse the request", JSONRPC)  \
	X(INVALID_REQUEST, -32600, "invalid request", "the request frame was malformed", JSONRPC) \
	X(METHOD_NOT_FOUND, -32601, "method not found",                                            \
	    "the device does not support this method", JSONRPC)                                    \
	X(INVALID_PARAMS, -32602, "invalid params", "the device rejected the parameters", JSONRPC) \
	X(INTERNAL_JSONRPC, -32603, "internal error", "the device hit an internal error", JSONRPC)

enum rpc_error_source { RPC_ERROR_SRC_DOC, RPC_ERROR_SRC_SEEN, RPC_ERROR_SRC_GRPC, RPC_ERROR_SRC_JSONRPC };

enum rpc_error_id {
#define RPC_ERROR_ENUM(id, code, name, meaning, src) RPC_ERR_##id,
	RPC_ERRORS(RPC_ERROR_ENUM)
#undef RPC_ERROR_ENUM
	RPC_ERR__COUNT
};

struct rpc_error_info {
	int code;			/* -105 */
	const char *name;		/* "not found" */
	const char *meaning;		/* "the device has no such component" */
	enum rpc_error_source source;
};

/* Table entry for an error code, or NULL if the code is not known. Static. */
const struct rpc_error_info *rpc_error_find(int code);

/* Number of known error codes and entry i of the table (NULL past the end), for listings. */
size_t rpc_error_count(void);
const struct rpc_error_info *rpc_error_at(size_t i);

/*
 * A sentence for an RPC error: "not found: the device has no such component (Argument 'id',
 * value 1 not found!)". device_message may be NULL or empty; it is sanitised (control characters
 * dropped) and bounded. Unknown codes give "device error <code> (...)". Caller frees.
 */
char *rpc_error_describe(int code, const char *device_message);

/*
 * Parses a Gen2+ RPC error out of body: a bare error object {"code":..,"message":..} (what
 * `GET/POST /rpc/<Method>` answers, and the fixtures' *.partial.json) or a response frame
 * {"id":..,"error":{..}}. Returns 0 with *code and *message (malloc'd, sanitised, caller frees;
 * "" when the device gave none) when body holds an error, -1 otherwise (not JSON, a result, ...).
 */
int rpc_parse_error(const char *body, size_t len, int *code, char **message);

/* Longest values kept by the Digest challenge parser (longer values are rejected). */
#define DIGEST_REALM_MAX 128
#define DIGEST_NONCE_MAX 256
#define DIGEST_QOP_MAX 64
#define DIGEST_ALGORITHM_MAX 32
#define DIGEST_OPAQUE_MAX 256

struct digest_challenge {
	char realm[DIGEST_REALM_MAX];		/* "shellyplus1pm-44179394d4d4" */
	char nonce[DIGEST_NONCE_MAX];		/* opaque: "603", "1694692867", base64 with '=' */
	char qop[DIGEST_QOP_MAX];		/* as sent, e.g. "auth" or "auth,auth-int"; "" if absent */
	char algorithm[DIGEST_ALGORITHM_MAX];	/* "SHA-256"; "" if absent (RFC 7616: MD5) */
	char opaque[DIGEST_OPAQUE_MAX];		/* "" if absent or empty; see has_opaque */
	bool has_opaque;			/* opaque was sent (echo it back even when empty) */
	bool qop_auth;				/* qop lists "auth" */
	bool stale;				/* stale=true: retry with the new nonce */
};

/*
 * Parses a Digest challenge: the header value "Digest realm=..., nonce=..." or the whole line
 * "WWW-Authenticate: Digest ...". Parameters come in any order, quoted (with \ escapes) or not;
 * a value runs to the first unquoted ',' so it may contain '=' (base64 nonces). Unknown
 * parameters are ignored. Returns 0 on success, -1 if the scheme is not Digest, realm or nonce
 * is missing, a known parameter repeats, a value is too long or the syntax is broken.
 */
int rpc_parse_digest_challenge(const char *header, struct digest_challenge *out);

#endif
