/*
 * Test PKI: a CA generated at start (written to --tls-dir/ca.pem) and one ECDSA P-256 key and
 * certificate per HTTPS device (SAN: its IP address, id and id.local). Rotation re-issues both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sim.h"
#include "util/xmalloc.h"

static char *
ossl_cause(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return xasprintf("%s failed", what);
	ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return xasprintf("%s: %s", what, buf);
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	int ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/* Builds and signs a certificate; issuer NULL = self-signed. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, unsigned serial, X509 *issuer, EVP_PKEY *issuer_key,
    const char *san, bool ca)
{
	X509 *c = X509_new();
	X509_NAME *name;

	if (!c)
		return NULL;
	if (!X509_set_version(c, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(c), (long)serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c), -86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), 10L * 365 * 86400) || !X509_set_pubkey(c, key))
		goto fail;
	name = X509_get_subject_name(c);
	if (!X509_NAME_add_entry_by_txt(
	        name, "O", MBSTRING_ASC, (const unsigned char *)"shelly-sim", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(
	        name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0))
		goto fail;
	if (!X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name))
		goto fail;
	if (add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash") < 0)
		goto fail;
	if (ca) {
		if (add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
		    add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") < 0)
			goto fail;
	} else {
		if (add_ext(c, issuer, NID_authority_key_identifier, "keyid:always") < 0 ||
		    add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		    add_ext(c, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") <
		        0 ||
		    add_ext(c, issuer, NID_ext_key_usage, "serverAuth") < 0 ||
		    add_ext(c, issuer, NID_subject_alt_name, san) < 0)
			goto fail;
	}
	if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()))
		goto fail;
	return c;
fail:
	X509_free(c);
	return NULL;
}

static char *
pem_of(int (*write)(BIO *, void *), void *obj)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!bio)
		return NULL;
	if (write(bio, obj)) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0)
			out = xstrndup(data, (size_t)n);
	}
	BIO_free(bio);
	return out;
}

static int
write_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

static int
write_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

int
tls_init(struct sim *sim, char **cause)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *ca;
	char *pem, *tmp;
	int fd;

	if (!key) {
		*cause = ossl_cause("CA key");
		return -1;
	}
	ca = make_cert(key, "shelly-sim test CA", 1, NULL, NULL, NULL, true);
	if (!ca) {
		*cause = ossl_cause("CA certificate");
		EVP_PKEY_free(key);
		return -1;
	}
	sim->ca_key = key;
	sim->ca_cert = ca;
	sim->tls_serial = 1;
	if (!sim->o.tls_dir)
		return 0;
	if (mkdir(sim->o.tls_dir, 0700) < 0 && errno != EEXIST) {
		*cause = xasprintf("--tls-dir %s: %s", sim->o.tls_dir, strerror(errno));
		return -1;
	}
	pem = pem_of(write_cert, ca);
	sim->ca_path = xasprintf("%s/ca.pem", sim->o.tls_dir);
	tmp = xasprintf("%s/.ca.pem.%d", sim->o.tls_dir, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !pem || write(fd, pem, strlen(pem)) != (ssize_t)strlen(pem) ||
	    close(fd) < 0 || rename(tmp, sim->ca_path) < 0) {
		*cause = xasprintf("%s: %s", sim->ca_path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		free(tmp);
		free(pem);
		return -1;
	}
	free(tmp);
	free(pem);
	return 0;
}

void
tls_done(struct sim *sim)
{
	X509_free(sim->ca_cert);
	EVP_PKEY_free(sim->ca_key);
	sim->ca_cert = NULL;
	sim->ca_key = NULL;
	free(sim->ca_path);
	sim->ca_path = NULL;
}

int
tls_issue(struct sim *sim, struct dev *d, char **cause)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert;
	char ip[16], *san;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!key) {
		*cause = ossl_cause("device key");
		return -1;
	}
	addr_str(d->addr, ip);
	san = xasprintf("IP:%s,DNS:%s,DNS:%s.local", ip, d->id, d->id);
	cert = make_cert(key, d->id, ++sim->tls_serial, sim->ca_cert, sim->ca_key, san, false);
	free(san);
	if (!cert) {
		*cause = ossl_cause("device certificate");
		EVP_PKEY_free(key);
		return -1;
	}
	free(d->cert_pem);
	free(d->key_pem);
	d->cert_pem = pem_of(write_cert, cert);
	d->key_pem = pem_of(write_key, key);
	d->cert_serial = sim->tls_serial;
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) && mdlen == 32) {
		for (unsigned i = 0; i < 32; i++)
			snprintf(d->fingerprint + 2 * i, 3, "%02x", md[i]);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	if (!d->cert_pem || !d->key_pem) {
		*cause = ossl_cause("PEM encoding");
		return -1;
	}
	return 0;
}
