#ifndef EXCHANGE_IMPORT_H
#define EXCHANGE_IMPORT_H

#include <stddef.h>

#include "store/store.h"

/*
 * Restores what exchange/export wrote (json or toml, told apart by content): the whole file is
 * parsed and validated first, then applied with store_import() in one transaction, so a
 * truncated or broken file changes nothing. Errors name the file, the line and the field:
 * "fleet.toml: line 12: devices.aabbccddeeff.port: expected an integer 0..65535".
 */

struct import_doc;

struct import_result {
	const char *format; /* "json" or "toml"; static */
	size_t devices; /* devices in the file */
	size_t added, updated, unchanged; /* of those: new to the store, registered with a field
	                                     the file changes, registered as the file has it */
	size_t removed; /* registered devices --replace removes */
	size_t settings, secrets;
	size_t groups, desired, snapshots, templates; /* configuration (format version 2) */
	size_t held; /* devices whose "file:" credentials the file names but the store won't use */
	const char *held_mac; /* the first of them (points into the doc), NULL when none */
};

/*
 * Parses and validates len bytes named name (for messages). A device's host must be an
 * address or host name as --add takes it, its scheme http or https, its credentials either its
 * own stored password ("store:secret:MAC") or "file:PATH". A file must not make the poller read
 * a local file and send it to a host the file names, so "file:" references are held back: the
 * device keeps the credentials it has in the store (a new one has none and asks for them)
 * unless import_trust_credentials says the operator trusts the file. Returns 0 with *out
 * (caller frees with import_doc_free) or -1 with *cause.
 */
int import_parse(
    const char *name, const char *buf, size_t len, struct import_doc **out, char **cause);
void import_doc_free(struct import_doc *doc);

/*
 * Counts what applying doc would do (res), then, unless dry_run, applies it in one transaction:
 * merge (replace 0) adds and updates devices and sets settings; replace also removes devices and
 * settings the file does not hold (stored passwords stay unless the file has a secrets section).
 * Configuration joins the same transaction: groups (template, own fields, members), desired
 * configurations, snapshots (store/cfgrestore.h; replace with a version 2 file first drops every
 * group and desired configuration). Templates are files: each is written to a temporary file and fsync'd before
 * the commit (a failure rolls the database back and removes them), then renamed onto its name
 * once the database has committed. A file without a secrets section keeps the secret lines of
 * the stored templates, desired configurations and group fields. A file holding one group
 * (--export --group) refuses replace.
 */
int import_apply(struct store *s, const struct import_doc *doc, int replace, int dry_run,
    struct import_result *res, char **cause);

/* Uses the "file:" credentials of doc's devices too (--import-credentials). */
void import_trust_credentials(struct import_doc *doc);

/* Reads path (at most 64 MiB), then import_parse. */
int import_read_file(const char *path, struct import_doc **out, char **cause);

#endif
