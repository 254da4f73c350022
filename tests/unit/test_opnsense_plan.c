/*
 * The pure half of the OPNsense sync: reply parsers (both search-reply shapes, write results,
 * error bodies) and the plan (add, update, remove, unchanged, each conflict kind, foreign
 * records left alone, unique host names, a second plan after applying the first is empty).
 * Replies are written here from the documented API (see the shapes in opnsense_reply.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "integrations/opnsense_plan.h"
#include "util/hostname.h"
#include "util/json.h"
#include "util/str.h"

/* A literal reply and its length. */
#define LIT(s) s, strlen(s)

#define SUBNET_UUID "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10"
#define SUBNETS                                                                    \
	"{\"rows\":[{\"uuid\":\"" SUBNET_UUID "\",\"subnet\":\"192.168.20.0/24\"," \
	"\"description\":\"iot\"},{\"uuid\":\"aaaa\",\"subnet\":\"fd00::/64\"}],"  \
	"\"rowCount\":2,\"total\":2,\"current\":1}"

static void
parse_ok(int rc, char **cause)
{
	if (rc != 0)
		fail_msg("parse failed: %s", *cause != NULL ? *cause : "?");
}

/* A Kea state from reservation rows (a JSON array body without the brackets). */
static void
kea_state(struct opn_state *st, const char *rows)
{
	char *cause = NULL, *body;

	memset(st, 0, sizeof *st);
	st->backend = OPN_KEA;
	parse_ok(opn_parse_subnets(st, SUBNETS, strlen(SUBNETS), &cause), &cause);
	body = NULL;
	if (asprintf(&body, "{\"rows\":[%s],\"rowCount\":0,\"total\":0,\"current\":1}", rows) < 0)
		fail();
	parse_ok(opn_parse_records(st, body, strlen(body), &cause), &cause);
	free(body);
}

static const struct opn_item *
find(const struct opn_plan *p, const char *mac)
{
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].kind == OPN_RESERVATION && strcmp(p->items[i].mac, mac) == 0 &&
		    p->items[i].action != OPN_REMOVE)
			return &p->items[i];
	fail_msg("no item for %s", mac);
	return NULL;
}

static void
test_shapes(void **state)
{
	/* the same reservation as 25.1 (subnet label) and as 25.7 (UUID plus %subnet) */
	const char *v251 = "{\"uuid\":\"r1\",\"subnet\":\"192.168.20.0/24\",\"ip_address\":"
	                   "\"192.168.20.31\",\"hw_address\":\"A8:03:2A:12:34:56\",\"hostname\":"
	                   "\"kitchen\",\"description\":\"shelly-tui:a8032a123456 Kitchen\"}";
	const char *v257 = "{\"uuid\":\"r1\",\"subnet\":\"" SUBNET_UUID "\",\"%subnet\":"
	                   "\"192.168.20.0/24\",\"ip_address\":\"192.168.20.31\",\"hw_address\":"
	                   "\"a8:03:2a:12:34:56\",\"hostname\":\"kitchen\",\"description\":"
	                   "\"shelly-tui:a8032a123456 Kitchen\",\"option_data.routers\":\"\"}";
	struct opn_state a, b;

	(void)state;
	kea_state(&a, v251);
	kea_state(&b, v257);
	assert_int_equal(a.nsubnets, 1); /* the IPv6 subnet is not one we place addresses in */
	assert_int_equal(a.nrecords, 1);
	assert_int_equal(b.nrecords, 1);
	assert_string_equal(a.records[0].subnet, SUBNET_UUID);
	assert_string_equal(b.records[0].subnet, SUBNET_UUID);
	assert_string_equal(a.records[0].mac, "a8032a123456");
	assert_string_equal(b.records[0].mac, "a8032a123456");
	assert_string_equal(a.records[0].owner, "a8032a123456");
	assert_string_equal(a.records[0].ip, "192.168.20.31");
	opn_state_done(&a);
	opn_state_done(&b);
}

/* A dnsmasq state from one reply body read by parse. */
static void
dnsmasq_state(struct opn_state *st, int (*parse)(struct opn_state *, const char *, size_t, char **),
    const char *body)
{
	char *cause = NULL;

	memset(st, 0, sizeof *st);
	st->backend = OPN_DNSMASQ;
	parse_ok(parse(st, body, strlen(body), &cause), &cause);
}

static void
test_dnsmasq_rows(void **state)
{
	/* 25.7 raw list values with a %label, and a DNS-only override without hwaddr */
	const char *body =
	    "{\"rows\":[{\"uuid\":\"h1\",\"host\":\"tv\",\"ip\":\"192.168.20.50\",\"hwaddr\":"
	    "\"AA-BB-CC-00-11-22,aa:bb:cc:00:11:33\",\"%hwaddr\":\"aa:bb:cc:00:11:22, "
	    "aa:bb:cc:00:11:33\",\"descr\":\"living room\"},{\"uuid\":\"h2\",\"host\":\"nas\","
	    "\"ip\":\"192.168.20.60\",\"hwaddr\":\"\",\"descr\":\"\"}]}";
	struct opn_device d[] = {{"c0ffee000001", "Plug", NULL, "192.168.20.60", 0}};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	dnsmasq_state(&st, opn_parse_records, body);
	assert_int_equal(st.nrecords, 2);
	assert_string_equal(st.records[0].mac, "aabbcc001122");
	assert_string_equal(st.records[0].owner, "");
	assert_string_equal(st.records[1].mac, "");
	/* the override holds the address for DNS only: no DHCP conflict, and no subnet needed */
	p = opn_plan_compute(&st, d, 1, 1, NULL);
	assert_int_equal(p->nitems, 1);
	assert_int_equal(p->items[0].action, OPN_ADD);
	assert_string_equal(p->items[0].hostname, "plug");
	assert_string_equal(p->items[0].descr, "shelly-tui:c0ffee000001 Plug");
	opn_plan_free(p);
	opn_state_done(&st);
}

/* A record's description keeps a name's UTF-8 letters (OPNsense descriptions hold UTF-8) but
 * no control, escape or bidi character, and no markup character. */
static void
test_descriptions(void **state)
{
	struct opn_device d[] = {
	    {"c0ffee000001",
	        "K\xc3\xbc"
	        "che",
	        NULL, "192.168.20.60", 0},
	    {"c0ffee000002",
	        "\xe2\x80\xae"
	        "Hall\x1b[31m <b>&\"x\"\x07",
	        NULL, "192.168.20.61", 0},
	    {"c0ffee000003", "\x1b[2J", NULL, "192.168.20.62", 0},
	};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	kea_state(&st, "");
	p = opn_plan_compute(&st, d, 3, 1, NULL);
	assert_string_equal(find(p, "c0ffee000001")->descr, "shelly-tui:c0ffee000001 K\xc3\xbc"
	                                                    "che");
	assert_string_equal(find(p, "c0ffee000002")->descr, "shelly-tui:c0ffee000002 Hall _b___x_");
	assert_string_equal(find(p, "c0ffee000003")->descr, "shelly-tui:c0ffee000003");
	opn_plan_free(p);
	opn_state_done(&st);
}

/* dnsmasq reads ignore, infinite and deprecated in a dhcp-host line as keywords: a device so
 * named gets shelly-MAC with the dnsmasq backend (Kea has no such words). */
static void
test_dnsmasq_keywords(void **state)
{
	const char *body = "{\"rows\":[]}";
	struct opn_device d[] = {{"c0ffee000001", "ignore", NULL, "192.168.20.60", 0},
	    {"c0ffee000002", "INFINITE", NULL, "192.168.20.61", 0},
	    {"c0ffee000003", "deprecated", NULL, "192.168.20.62", 0}};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	dnsmasq_state(&st, opn_parse_records, body);
	p = opn_plan_compute(&st, d, 3, 1, NULL);
	assert_string_equal(find(p, "c0ffee000001")->hostname, "shelly-c0ffee000001");
	assert_string_equal(find(p, "c0ffee000002")->hostname, "shelly-c0ffee000002");
	assert_string_equal(find(p, "c0ffee000003")->hostname, "shelly-c0ffee000003");
	opn_plan_free(p);
	opn_state_done(&st);
	kea_state(&st, "");
	p = opn_plan_compute(&st, d, 1, 1, NULL);
	assert_string_equal(find(p, "c0ffee000001")->hostname, "ignore");
	opn_plan_free(p);
	opn_state_done(&st);
}

/* A foreign dnsmasq host listing the device's MAC second is the device's reservation too:
 * elsewhere it is a conflict, at the device's address it is left alone; never a duplicate. */
static void
test_dnsmasq_second_mac(void **state)
{
	const char *body =
	    "{\"rows\":[{\"uuid\":\"h1\",\"host\":\"plug\",\"ip\":\"192.168.20.50\",\"hwaddr\":"
	    "\"aa:bb:cc:00:11:22, C0-FF-EE-00-00-01\",\"descr\":\"by hand\"}]}";
	struct opn_device at[] = {{"c0ffee000001", "Plug", NULL, "192.168.20.50", 0}};
	struct opn_device away[] = {{"c0ffee000001", "Plug", NULL, "192.168.20.70", 0}};
	struct opn_device other[] = {{"c0ffee000002", "Plug", NULL, "192.168.20.71", 0}};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	dnsmasq_state(&st, opn_parse_records, body);
	assert_string_equal(st.records[0].mac, "aabbcc001122");
	assert_true(opn_record_has_mac(&st.records[0], "c0ffee000001"));
	assert_false(opn_record_has_mac(&st.records[0], "c0ffee000002"));
	assert_false(opn_record_has_mac(&st.records[0], "c0ffee00000"));
	p = opn_plan_compute(&st, away, 1, 1, NULL);
	assert_int_equal(p->items[0].action, OPN_CONFLICT);
	assert_non_null(strstr(p->items[0].why, "MAC is reserved at 192.168.20.50 (record h1)"));
	opn_plan_free(p);
	p = opn_plan_compute(&st, at, 1, 1, NULL);
	assert_int_equal(p->items[0].action, OPN_UNCHANGED);
	assert_non_null(strstr(p->items[0].why, "already reserved by record h1"));
	opn_plan_free(p);
	/* its host name belongs to another device: this one's gets the MAC suffix */
	p = opn_plan_compute(&st, other, 1, 1, NULL);
	assert_int_equal(p->items[0].action, OPN_ADD);
	assert_string_equal(p->items[0].hostname, "plug-000002");
	opn_plan_free(p);
	opn_state_done(&st);
}

/* dnsmasq searchRange (Dnsmasq.xml dhcp_ranges): networks of the DHCPv4 ranges, the check. */
static void
test_dnsmasq_ranges(void **state)
{
	const char *body =
	    "{\"rows\":[{\"uuid\":\"g1\",\"interface\":\"lan\",\"%interface\":\"LAN\","
	    "\"start_addr\":\"192.168.20.100\",\"end_addr\":\"192.168.20.200\",\"subnet_mask\":"
	    "\"\"},{\"uuid\":\"g2\",\"interface\":\"opt1\",\"start_addr\":\"10.1.0.10\","
	    "\"end_addr\":\"10.1.3.20\",\"subnet_mask\":\"\"},{\"uuid\":\"g3\",\"interface\":"
	    "\"opt2\",\"start_addr\":\"172.16.5.1\",\"end_addr\":\"172.16.5.9\",\"subnet_mask\":"
	    "\"255.255.0.0\"},{\"uuid\":\"g4\",\"start_addr\":\"::100\",\"end_addr\":\"::200\","
	    "\"constructor\":\"lan\"},{\"uuid\":\"g5\",\"start_addr\":\"10.2.0.1\","
	    "\"subnet_mask\":\"255.0.255.0\"}]}";
	struct opn_device d[] = {{"c0ffee000001", "In", NULL, "192.168.20.5", 0},
	    {"c0ffee000002", "Wide", NULL, "10.1.2.3", 0},
	    {"c0ffee000003", "Mask", NULL, "172.16.200.1", 0},
	    {"c0ffee000004", "Out", NULL, "192.168.21.5", 0},
	    {"c0ffee000005", "Alone", NULL, "10.2.0.9", 0}};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	dnsmasq_state(&st, opn_parse_ranges, body);
	assert_int_equal(st.ranges_read, 1);
	assert_int_equal(st.nsubnets, 4); /* the IPv6 range is left out */
	assert_string_equal(
	    st.subnets[0].text, "192.168.20.0/24 (range 192.168.20.100-192.168.20.200 on lan)");
	assert_string_equal(st.subnets[1].text, "10.1.0.0/22 (range 10.1.0.10-10.1.3.20 on opt1)");
	assert_string_equal(
	    st.subnets[2].text, "172.16.0.0/16 (range 172.16.5.1-172.16.5.9 on opt2)");
	/* a mask that is not contiguous is ignored: the /24 around the start */
	assert_string_equal(st.subnets[3].text, "10.2.0.0/24 (range 10.2.0.1-10.2.0.1)");
	p = opn_plan_compute(&st, d, 5, 1, NULL);
	assert_int_equal(find(p, "c0ffee000001")->action, OPN_ADD);
	assert_int_equal(find(p, "c0ffee000002")->action, OPN_ADD);
	assert_int_equal(find(p, "c0ffee000003")->action, OPN_ADD);
	assert_int_equal(find(p, "c0ffee000005")->action, OPN_ADD);
	assert_int_equal(find(p, "c0ffee000004")->action, OPN_CONFLICT);
	assert_string_equal(find(p, "c0ffee000004")->why,
	    "address 192.168.21.5 is outside the network of every dnsmasq DHCPv4 range: "
	    "192.168.20.0/24 (range 192.168.20.100-192.168.20.200 on lan), 10.1.0.0/22 (range "
	    "10.1.0.10-10.1.3.20 on opt1), 172.16.0.0/16 (range 172.16.5.1-172.16.5.9 on opt2), "
	    "10.2.0.0/24 (range 10.2.0.1-10.2.0.1)");
	opn_plan_free(p);
	/* unread ranges (no searchRange): nothing is checked */
	st.ranges_read = 0;
	p = opn_plan_compute(&st, d + 3, 1, 1, NULL);
	assert_int_equal(p->items[0].action, OPN_ADD);
	opn_plan_free(p);
	opn_state_done(&st);
}

#define OWN(uuid, mac12, macc, ip, host, name)                                       \
	"{\"uuid\":\"" uuid "\",\"subnet\":\"" SUBNET_UUID "\",\"ip_address\":\"" ip \
	"\",\"hw_address\":\"" macc "\",\"hostname\":\"" host "\",\"description\":"  \
	"\"shelly-tui:" mac12 " " name "\"}"
#define FOREIGN(uuid, macc, ip, host)                                                \
	"{\"uuid\":\"" uuid "\",\"subnet\":\"192.168.20.0/24\",\"ip_address\":\"" ip \
	"\",\"hw_address\":\"" macc "\",\"hostname\":\"" host "\",\"description\":\"manual\"}"

/* Applies p's writes in order to the addresses st's records hold, as the firewall checks them:
 * fails when a write takes an address another record still holds. Returns the re-adds. */
static size_t
apply_in_order(const struct opn_state *st, const struct opn_plan *p)
{
	const char *held[16], *uuid[16];
	size_t n = 0, readds = 0;
	int seen[16] = {0};

	assert_true(st->nrecords < 16 && p->nitems < 16);
	for (size_t i = 0; i < st->nrecords; i++, n++) {
		held[n] = st->records[i].ip;
		uuid[n] = st->records[i].uuid;
	}
	for (size_t k = 0; k < p->nwrites; k++) {
		const struct opn_item *it = &p->items[p->writes[k]];
		int removing = it->action == OPN_REMOVE || (it->readd && !seen[p->writes[k]]++);
		size_t self = SIZE_MAX;

		readds += it->readd && removing;
		for (size_t j = 0; j < n; j++)
			if (uuid[j] != NULL && strcmp(uuid[j], it->uuid) == 0)
				self = j;
		if (removing) {
			assert_true(self != SIZE_MAX);
			uuid[self] = NULL;
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (j != self && uuid[j] != NULL && strcmp(held[j], it->ip) == 0)
				fail_msg("%s written to %s while record %s holds it", it->device,
				    it->ip, uuid[j]);
		if (self == SIZE_MAX) {
			uuid[n] = it->device; /* a new record, its own key */
			held[n++] = it->ip;
		} else
			held[self] = it->ip;
	}
	return readds;
}

/* Devices that move onto each other's addresses: a chain shifting up, a swap and a cycle of
 * three are written in an order the firewall accepts (each address freed before it is
 * taken), with one record of each cycle removed and added again; every change is written. */
static void
test_moves_order(void **state)
{
	struct opn_device d[] = {
	    {"000000000001", "A", NULL, "192.168.20.40", 0}, /* chain: A .31 -> .40 */
	    {"000000000002", "B", NULL, "192.168.20.31", 0}, /* B .32 -> .31 */
	    {"000000000003", "C", NULL, "192.168.20.32", 0}, /* C .33 -> .32 */
	    {"000000000004", "D", NULL, "192.168.20.35", 0}, /* swap D .34 <-> E .35 */
	    {"000000000005", "E", NULL, "192.168.20.34", 0},
	    {"000000000006", "F", NULL, "192.168.20.37", 0}, /* cycle F .36 -> .37 -> .38 -> .36 */
	    {"000000000007", "G", NULL, "192.168.20.38", 0},
	    {"000000000008", "H", NULL, "192.168.20.36", 0},
	    {"000000000009", "I", NULL, "192.168.20.33", 0}, /* new, on C's old address */
	};
	struct opn_state st;
	struct opn_plan *p;
	size_t writes = 0;

	(void)state;
	kea_state(&st,
	    OWN("u1", "000000000001", "00:00:00:00:00:01", "192.168.20.31", "a", "A") "," OWN(
	        "u2", "000000000002", "00:00:00:00:00:02", "192.168.20.32", "b", "B") "," OWN("u3",
	        "000000000003", "00:00:00:00:00:03", "192.168.20.33", "c",
	        "C") "," OWN("u4", "000000000004", "00:00:00:00:00:04", "192.168.20.34", "d",
	        "D") "," OWN("u5", "000000000005", "00:00:00:00:00:05", "192.168.20.35", "e",
	        "E") "," OWN("u6", "000000000006", "00:00:00:00:00:06", "192.168.20.36", "f",
	        "F") "," OWN("u7", "000000000007", "00:00:00:00:00:07", "192.168.20.37", "g",
	        "G") "," OWN("u8", "000000000008", "00:00:00:00:00:08", "192.168.20.38", "h", "H"));
	p = opn_plan_compute(&st, d, 9, 1, NULL);
	assert_int_equal(opn_plan_count(p, OPN_UPDATE), 8);
	assert_int_equal(opn_plan_count(p, OPN_ADD), 1);
	assert_int_equal(apply_in_order(&st, p), 2);
	for (size_t i = 0; i < p->nitems; i++)
		writes += p->items[i].readd ? 2 : p->items[i].action != OPN_UNCHANGED;
	assert_int_equal(p->nwrites, writes);
	assert_non_null(strstr(find(p, "000000000002")->why, "after A leaves 192.168.20.31"));
	assert_non_null(strstr(find(p, "000000000003")->why, "after B leaves 192.168.20.32"));
	assert_int_equal(find(p, "000000000001")->readd, 0);
	assert_int_equal(find(p, "000000000004")->readd + find(p, "000000000005")->readd, 1);
	opn_plan_free(p);
	opn_state_done(&st);
}

/* A hand-made reservation whose MAC is written as OPNsense also accepts it (dotted, upper
 * case, hyphens, bare) is the device's: left alone at the device's address, a conflict at
 * another, never a second reservation for the MAC. */
static void
test_mac_forms(void **state)
{
	struct opn_device d[] = {
	    {"000000000002", "Hall", NULL, "192.168.20.32", 0},
	    {"000000000003", "Porch", NULL, "192.168.20.33", 0},
	};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	kea_state(&st, FOREIGN("f2", "0000.0000.0002", "192.168.20.32", "hall") "," FOREIGN(
	                   "f3", "0000.0000.0003", "192.168.20.99", "porch"));
	p = opn_plan_compute(&st, d, 2, 1, NULL);
	assert_int_equal(opn_plan_count(p, OPN_ADD), 0);
	assert_int_equal(find(p, "000000000002")->action, OPN_UNCHANGED);
	assert_int_equal(find(p, "000000000003")->action, OPN_CONFLICT);
	assert_non_null(strstr(find(p, "000000000003")->why, "MAC is reserved at 192.168.20.99"));
	opn_plan_free(p);
	opn_state_done(&st);
	kea_state(&st, FOREIGN("f2", "000000000002", "192.168.20.32", "hall"));
	p = opn_plan_compute(&st, d, 1, 1, NULL);
	assert_int_equal(find(p, "000000000002")->action, OPN_UNCHANGED);
	opn_plan_free(p);
	opn_state_done(&st);
}

/* An address whose own record stays (its device is in conflict) is never written for another
 * device, which the firewall would refuse: that device is in conflict too, and so, in turn,
 * is one waiting for its address; every write left is accepted. */
static void
test_kept_address(void **state)
{
	struct opn_device d[] = {
	    {"000000000001", "A", NULL, "192.168.20.31", 0}, /* wants B's address */
	    {"000000000002", "B", NULL, "b.example", 0}, /* no IPv4 now: conflict, record stays */
	    {"000000000003", "C", NULL, "192.168.20.40", 0}, /* wants A's address */
	    {"000000000004", "D", NULL, "192.168.20.50", 0}, /* free address */
	};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	kea_state(
	    &st, OWN("u1", "000000000001", "00:00:00:00:00:01", "192.168.20.40", "a", "A") "," OWN(
	             "u2", "000000000002", "00:00:00:00:00:02", "192.168.20.31", "b", "B"));
	p = opn_plan_compute(&st, d, 4, 1, NULL);
	assert_int_equal(find(p, "000000000002")->action, OPN_CONFLICT);
	assert_int_equal(find(p, "000000000001")->action, OPN_CONFLICT);
	assert_non_null(
	    strstr(find(p, "000000000001")->why, "192.168.20.31 is held by the reservation of B"));
	assert_int_equal(find(p, "000000000003")->action, OPN_CONFLICT);
	assert_non_null(
	    strstr(find(p, "000000000003")->why, "192.168.20.40 is held by the reservation of A"));
	assert_int_equal(find(p, "000000000004")->action, OPN_ADD);
	assert_int_equal(p->nwrites, 1);
	apply_in_order(&st, p);
	opn_plan_free(p);
	opn_state_done(&st);
}

static void
test_plan_actions(void **state)
{
	struct opn_state st;
	struct opn_plan *p;
	const struct opn_item *it;
	struct opn_device d[] = {
	    {"000000000001", "Kitchen", NULL, "192.168.20.31", 0}, /* unchanged */
	    {"000000000002", "Hall", NULL, "192.168.20.42", 0}, /* moved: update */
	    {"000000000003", "Garage", NULL, "192.168.20.33", 0}, /* new: add */
	    {"000000000004", "Porch", NULL, "192.168.20.10", 0}, /* ip of a foreign record */
	    {"000000000005", "Attic", NULL, "192.168.20.35", 0}, /* MAC reserved elsewhere */
	    {"000000000006", "Shed", NULL, "10.9.9.9", 0}, /* outside every subnet */
	    {"000000000007", "!!!", NULL, "192.168.20.37", 0}, /* no host name */
	    {"000000000008", "1234", NULL, "192.168.20.38", 0}, /* digits only */
	    {"000000000009", "Cellar", NULL, NULL, 0}, /* no address */
	    {"00000000000a", "Loft", NULL, "192.168.20.40", 0}, /* same address as ... */
	    {"00000000000b", "Barn", NULL, "192.168.20.40", 0}, /* ... this one */
	    {"00000000000c", "Tv", NULL, "192.168.20.12", 0}, /* foreign, same ip + MAC */
	};

	(void)state;
	kea_state(&st,
	    OWN("o1", "000000000001", "00:00:00:00:00:01", "192.168.20.31", "kitchen",
	        "Kitchen") "," OWN("o2", "000000000002", "00:00:00:00:00:02", "192.168.20.32",
	        "hall", "Hall") "," OWN("o9", "0000000000ff", "00:00:00:00:00:ff", "192.168.20.99",
	        "gone", "Gone") "," FOREIGN("f1", "de:ad:be:ef:00:01", "192.168.20.10",
	        "printer") "," FOREIGN("f2", "00:00:00:00:00:05", "192.168.20.77",
	        "attic-old") "," FOREIGN("f3", "00:00:00:00:00:0C", "192.168.20.12", "tv"));
	p = opn_plan_compute(&st, d, sizeof d / sizeof d[0], 1, NULL);

	assert_int_equal(find(p, "000000000001")->action, OPN_UNCHANGED);
	it = find(p, "000000000002");
	assert_int_equal(it->action, OPN_UPDATE);
	assert_string_equal(it->uuid, "o2");
	assert_non_null(strstr(it->why, "192.168.20.32 -> 192.168.20.42"));
	it = find(p, "000000000003");
	assert_int_equal(it->action, OPN_ADD);
	assert_string_equal(it->subnet, SUBNET_UUID);
	assert_string_equal(it->hostname, "garage");
	it = find(p, "000000000004");
	assert_int_equal(it->action, OPN_CONFLICT);
	assert_non_null(strstr(it->why, "reserved for de:ad:be:ef:00:01"));
	it = find(p, "000000000005");
	assert_int_equal(it->action, OPN_CONFLICT);
	assert_non_null(strstr(it->why, "MAC is reserved at 192.168.20.77"));
	it = find(p, "000000000006");
	assert_int_equal(it->action, OPN_CONFLICT);
	assert_non_null(strstr(it->why, "outside every Kea subnet"));
	assert_non_null(strstr(find(p, "000000000007")->why, "host name"));
	assert_non_null(strstr(find(p, "000000000008")->why, "digits only"));
	assert_non_null(strstr(find(p, "000000000009")->why, "no IPv4 address"));
	assert_non_null(strstr(find(p, "00000000000a")->why, "also registered for device Barn"));
	assert_int_equal(find(p, "00000000000b")->action, OPN_CONFLICT);
	it = find(p, "00000000000c");
	assert_int_equal(it->action, OPN_UNCHANGED);
	assert_string_equal(it->uuid, "f3");

	/* the own record of a device no longer registered is removed; foreign ones never */
	assert_int_equal(opn_plan_count(p, OPN_REMOVE), 1);
	for (size_t i = 0; i < p->nitems; i++) {
		if (p->items[i].action == OPN_REMOVE)
			assert_string_equal(p->items[i].uuid, "o9");
		if (p->items[i].action == OPN_UPDATE || p->items[i].action == OPN_REMOVE)
			assert_true(p->items[i].uuid[0] == 'o');
	}
	assert_int_equal(opn_plan_count(p, OPN_ADD), 1);
	assert_int_equal(opn_plan_count(p, OPN_CONFLICT), 8);
	assert_int_equal(opn_plan_changes(p, OPN_RESERVATION), 3);
	opn_plan_free(p);
	opn_state_done(&st);
}

static void
test_hostnames(void **state)
{
	char out[OPN_HOSTNAME_MAX + 1];
	const char *why = NULL;
	char longname[200];
	struct opn_state st;
	struct opn_plan *p;
	struct opn_device d[] = {
	    {"000000aaaaaa", "Kitchen Relay", NULL, "192.168.20.2", 0},
	    {"000000bbbbbb", "kitchen  relay!", NULL, "192.168.20.3", 0},
	    {"000000cccccc", NULL, "shellyplus1pm-000000cccccc", "192.168.20.4", 0},
	    {"000000dddddd", "printer", NULL, "192.168.20.5", 0},
	};

	(void)state;
	assert_int_equal(opn_hostname_derive("Küche Licht", out, &why), 0);
	assert_string_equal(out, "k-che-licht");
	assert_int_equal(opn_hostname_derive("-a_b.c-", out, &why), 0);
	assert_string_equal(out, "a-b-c");
	assert_int_equal(opn_hostname_derive("\033[31m", out, &why), 0);
	assert_string_equal(out, "31m");
	assert_int_equal(opn_hostname_derive("***", out, &why), -1);
	assert_int_equal(opn_hostname_derive("12-34", out, &why), -1);
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(opn_hostname_derive(longname, out, &why), 0);
	assert_int_equal(strlen(out), OPN_HOSTNAME_MAX);

	/* two devices on one name, and one on a foreign record's name: the MAC tail keeps them
	 * apart (the first by MAC keeps the name, as in the exports); an id serves when there is
	 * no name */
	kea_state(&st, FOREIGN("f1", "de:ad:be:ef:00:01", "192.168.20.9", "printer"));
	p = opn_plan_compute(&st, d, 4, 1, NULL);
	assert_string_equal(find(p, "000000aaaaaa")->hostname, "kitchen-relay");
	assert_string_equal(find(p, "000000bbbbbb")->hostname, "kitchen-relay-bbbbbb");
	assert_string_equal(find(p, "000000cccccc")->hostname, "shellyplus1pm-000000cccccc");
	assert_string_equal(find(p, "000000dddddd")->hostname, "printer-dddddd");
	opn_plan_free(p);
	opn_state_done(&st);

	assert_true(opn_alias_name_valid("shelly_devices"));
	assert_false(opn_alias_name_valid("1abc"));
	assert_false(opn_alias_name_valid("a-b"));
	assert_false(opn_alias_name_valid("abcdefghijabcdefghijabcdefghijabc"));
	assert_false(opn_alias_name_valid(""));
}

/* Every host name is unique, also when the MAC tail is shared or was some device's own name:
 * then a counter follows (the rule the exports follow too). */
static void
test_unique_names(void **state)
{
	struct opn_device plugs[] = {
	    {"3494546a0001", "Plug", NULL, "192.168.20.2", 0},
	    {"c45bbe6a0001", "Plug", NULL, "192.168.20.3", 0},
	};
	struct opn_device kitchens[] = {
	    {"000000000001", "Kitchen", NULL, "192.168.20.11", 0},
	    {"000000000004", "kitchen", NULL, "192.168.20.14", 0},
	    {"00000000000f", "kitchen-000001", NULL, "192.168.20.15", 0},
	};
	struct opn_state st;
	struct opn_plan *p;
	const char *seen[8];
	size_t n = 0;

	(void)state;
	kea_state(&st, "");
	p = opn_plan_compute(&st, plugs, 2, 1, NULL);
	assert_string_equal(find(p, "3494546a0001")->hostname, "plug");
	assert_string_equal(find(p, "c45bbe6a0001")->hostname, "plug-6a0001");
	opn_plan_free(p);
	opn_state_done(&st);

	kea_state(&st, FOREIGN("f1", "de:ad:be:ef:00:01", "192.168.20.9", "kitchen"));
	p = opn_plan_compute(&st, kitchens, 3, 1, NULL);
	for (size_t i = 0; i < p->nitems; i++) {
		const struct opn_item *it = &p->items[i];

		if (it->kind != OPN_RESERVATION || it->action != OPN_ADD)
			continue;
		for (size_t k = 0; k < n; k++)
			if (strcmp(seen[k], it->hostname) == 0)
				fail_msg("two reservations %s", it->hostname);
		assert_true(strcmp(it->hostname, "kitchen") != 0);
		seen[n++] = it->hostname;
	}
	assert_int_equal(n, 3);
	assert_string_equal(find(p, "000000000001")->hostname, "kitchen-000001");
	assert_string_equal(find(p, "000000000004")->hostname, "kitchen-000004");
	assert_string_equal(find(p, "00000000000f")->hostname, "kitchen-000001-00000f");
	opn_plan_free(p);
	opn_state_done(&st);
}

/* A name stays with the device that has it: the device whose own record carries "kitchen"
 * keeps it when a second "Kitchen" (lower MAC) is registered, and the newcomer gets the
 * suffix; with no record yet, the device registered first keeps it (as in the exports). */
static void
test_names_stable(void **state)
{
	struct opn_device d[] = {
	    {"000000000001", "Kitchen", NULL, "192.168.20.31", 2000},
	    {"000000000005", "Kitchen", NULL, "192.168.20.35", 0},
	};
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	kea_state(&st,
	    OWN("u5", "000000000005", "00:00:00:00:00:05", "192.168.20.35", "kitchen", "Kitchen"));
	p = opn_plan_compute(&st, d, 2, 1, NULL);
	assert_int_equal(find(p, "000000000005")->action, OPN_UNCHANGED);
	assert_string_equal(find(p, "000000000005")->hostname, "kitchen");
	assert_int_equal(find(p, "000000000001")->action, OPN_ADD);
	assert_string_equal(find(p, "000000000001")->hostname, "kitchen-000001");
	opn_plan_free(p);
	opn_state_done(&st);

	d[1].first_seen_ms = 1000; /* registered before 000000000001 */
	kea_state(&st, "");
	p = opn_plan_compute(&st, d, 2, 1, NULL);
	assert_string_equal(find(p, "000000000005")->hostname, "kitchen");
	assert_string_equal(find(p, "000000000001")->hostname, "kitchen-000001");
	opn_plan_free(p);
	opn_state_done(&st);
}

/* Names resolvers keep for themselves are never published: the device gets shelly-MAC, as in
 * the exports (one check serves both). */
static void
test_reserved_names(void **state)
{
	static const char *const names[] = {
	    "wpad", "localhost", "ISATAP", "ip6-allnodes", "localdomain", "broadcasthost"};
	static const char *const ips[] = {"192.168.20.41", "192.168.20.42", "192.168.20.43",
	    "192.168.20.44", "192.168.20.45", "192.168.20.46"};
	enum { N = sizeof names / sizeof names[0] };
	struct opn_device d[N];
	struct opn_state st;
	struct opn_plan *p;
	char want[32];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		memset(&d[i], 0, sizeof d[i]);
		snprintf(d[i].mac, sizeof d[i].mac, "0000000000%02zx", i + 1);
		d[i].name = names[i];
		d[i].ip = ips[i];
	}
	kea_state(&st, "");
	p = opn_plan_compute(&st, d, N, 1, NULL);
	for (size_t i = 0; i < N; i++) {
		snprintf(want, sizeof want, "shelly-0000000000%02zx", i + 1);
		assert_string_equal(find(p, d[i].mac)->hostname, want);
	}
	opn_plan_free(p);
	opn_state_done(&st);
	for (size_t i = 0; i < N; i++) {
		const char *why = NULL;
		char out[OPN_HOSTNAME_MAX + 1];

		assert_int_equal(opn_hostname_derive(names[i], out, &why), 0);
		assert_true(hostname_reserved(out));
	}
}

/* Rows a firewall would hold after applying p's adds and updates (25.7 shape). */
static char *
rows_after(const struct opn_plan *p)
{
	struct strbuf sb;
	char mac[18];

	strbuf_init(&sb);
	for (size_t i = 0; i < p->nitems; i++) {
		const struct opn_item *it = &p->items[i];

		if (it->kind != OPN_RESERVATION ||
		    (it->action != OPN_ADD && it->action != OPN_UPDATE &&
		        it->action != OPN_UNCHANGED))
			continue;
		strbuf_appendf(&sb,
		    "%s{\"uuid\":\"n%zu\",\"subnet\":\"%s\",\"%%subnet\":\"x\",\"ip_address\":\"%"
		    "s\","
		    "\"hw_address\":\"%s\",\"hostname\":\"%s\",\"description\":\"%s\"}",
		    sb.len ? "," : "", i, it->subnet, it->ip,
		    opn_mac_format(it->mac, mac, sizeof mac), it->hostname, it->descr);
	}
	return strbuf_steal(&sb);
}

static void
test_idempotent(void **state)
{
	struct opn_device d[] = {
	    {"000000000001", "Kitchen <main>", NULL, "192.168.20.31", 0},
	    {"000000000002", "Kitchen main", NULL, "192.168.20.32", 0},
	    {"000000000003", NULL, NULL, "192.168.20.33", 0},
	};
	struct opn_state st;
	struct opn_plan *p;
	char *rows;

	(void)state;
	kea_state(&st, "");
	p = opn_plan_compute(&st, d, 3, 1, NULL);
	assert_int_equal(opn_plan_count(p, OPN_ADD), 3);
	rows = rows_after(p);
	opn_plan_free(p);
	opn_state_done(&st);
	kea_state(&st, rows);
	free(rows);
	p = opn_plan_compute(&st, d, 3, 1, NULL);
	assert_int_equal(opn_plan_changes(p, OPN_RESERVATION), 0);
	assert_int_equal(opn_plan_count(p, OPN_UNCHANGED), 3);
	opn_plan_free(p);
	opn_state_done(&st);
}

static void
alias_state(struct opn_state *st, const char *item)
{
	char *cause = NULL;

	memset(st, 0, sizeof *st);
	st->backend = OPN_KEA;
	if (item != NULL)
		parse_ok(opn_parse_alias(st, "u-1", item, strlen(item), &cause), &cause);
}

static const struct opn_item *
alias_of(const struct opn_plan *p)
{
	assert_true(p->nitems >= 1);
	assert_int_equal(p->items[p->nitems - 1].kind, OPN_ALIAS);
	return &p->items[p->nitems - 1];
}

static void
test_alias(void **state)
{
	struct opn_device d[] = {
	    {"000000000001", "a", NULL, "192.168.20.31", 0},
	    {"000000000002", "b", NULL, "192.168.20.4", 0},
	    {"000000000003", "c", NULL, NULL, 0},
	};
	/* getItem: option maps, content lists every alias with selected 0 */
	const char *own =
	    "{\"alias\":{\"name\":\"shelly_devices\",\"type\":{\"host\":{\"value\":"
	    "\"Host(s)\",\"selected\":1},\"network\":{\"value\":\"Network(s)\","
	    "\"selected\":0}},\"content\":{\"192.168.20.4\":{\"value\":\"192.168.20.4\","
	    "\"selected\":1},\"192.168.20.31\":{\"value\":\"192.168.20.31\",\"selected\":"
	    "1},\"bogons\":{\"value\":\"bogons\",\"selected\":0}},\"description\":"
	    "\"shelly-tui: Shelly devices\"}}";
	const char *stale =
	    "{\"alias\":{\"type\":\"host\",\"content\":\"192.168.20.4\\n192.168.20.9"
	    "\",\"description\":\"shelly-tui: x\"}}";
	const char *foreign = "{\"alias\":{\"type\":\"host\",\"content\":\"127.0.0.4\","
	                      "\"description\":\"mine\"}}";
	const char *net = "{\"alias\":{\"type\":\"network\",\"content\":\"\","
	                  "\"description\":\"shelly-tui: x\"}}";
	struct opn_state st;
	struct opn_plan *p;
	char *cause = NULL;

	(void)state;
	alias_state(&st, NULL);
	p = opn_plan_compute(&st, d, 3, 0, "shelly_devices");
	assert_int_equal(p->nitems, 1);
	assert_int_equal(alias_of(p)->action, OPN_ADD);
	assert_string_equal(alias_of(p)->content, "192.168.20.4\n192.168.20.31");
	opn_plan_free(p);
	opn_state_done(&st);

	alias_state(&st, own);
	p = opn_plan_compute(&st, d, 3, 0, "shelly_devices");
	assert_int_equal(alias_of(p)->action, OPN_UNCHANGED);
	opn_plan_free(p);
	opn_state_done(&st);

	alias_state(&st, stale);
	p = opn_plan_compute(&st, d, 3, 0, "shelly_devices");
	assert_int_equal(alias_of(p)->action, OPN_UPDATE);
	assert_string_equal(alias_of(p)->why, "+192.168.20.31 -192.168.20.9");
	opn_plan_free(p);
	opn_state_done(&st);

	alias_state(&st, foreign);
	p = opn_plan_compute(&st, d, 3, 0, "shelly_devices");
	assert_int_equal(alias_of(p)->action, OPN_CONFLICT);
	assert_non_null(strstr(alias_of(p)->why, "not created by shelly-tui"));
	opn_plan_free(p);
	opn_state_done(&st);

	alias_state(&st, net);
	p = opn_plan_compute(&st, d, 3, 0, "shelly_devices");
	assert_int_equal(alias_of(p)->action, OPN_CONFLICT);
	opn_plan_free(p);
	opn_state_done(&st);

	alias_state(&st, NULL);
	assert_int_equal(opn_parse_alias(&st, "u", LIT("[]"), &cause), -1);
	assert_non_null(strstr(cause, "[]"));
	free(cause);
}

/*
 * An empty registry (a new database, a fresh volume, the wrong --db) removes nothing: the own
 * records and the alias's addresses stay, each shown as a conflict that says why. One device
 * registered lets the removals go ahead.
 */
static void
test_empty_registry(void **state)
{
	const char *own =
	    "{\"alias\":{\"type\":\"host\",\"content\":\"192.168.20.31\",\"description\":"
	    "\"shelly-tui: x\"}}";
	struct opn_device d[] = {{"000000000009", "z", NULL, "192.168.20.39", 0}};
	struct opn_state st;
	struct opn_plan *p;
	char *cause = NULL;

	(void)state;
	kea_state(&st, "{\"uuid\":\"r1\",\"subnet\":\"" SUBNET_UUID "\",\"ip_address\":"
	               "\"192.168.20.31\",\"hw_address\":\"00:00:00:00:00:01\",\"hostname\":"
	               "\"a\",\"description\":\"shelly-tui:000000000001 a\"}");
	parse_ok(opn_parse_alias(&st, "u-1", own, strlen(own), &cause), &cause);
	p = opn_plan_compute(&st, NULL, 0, 1, "shelly_devices");
	assert_int_equal(p->nitems, 2);
	assert_int_equal(opn_plan_count(p, OPN_REMOVE), 0);
	assert_int_equal(p->nwrites, 0);
	assert_int_equal(p->items[0].action, OPN_CONFLICT);
	assert_non_null(strstr(p->items[0].why, "no device is registered"));
	assert_int_equal(alias_of(p)->action, OPN_CONFLICT);
	assert_non_null(strstr(alias_of(p)->why, "no device is registered"));
	opn_plan_free(p);

	p = opn_plan_compute(&st, d, 1, 1, "shelly_devices");
	assert_int_equal(opn_plan_count(p, OPN_REMOVE), 1);
	assert_int_equal(alias_of(p)->action, OPN_UPDATE);
	opn_plan_free(p);
	opn_state_done(&st);
}

/* setItem posts the whole item as read (name included: OPNsense renames every reference to
 * the alias when the posted name differs, a missing one too), with only the content new. */
/* A device registered by an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 device
 * a.b.c.d: reserved there and in the alias by the IPv4 address; once applied, nothing changes. */
static void
test_mapped_ipv4(void **state)
{
	struct opn_device d[] = {{"000000000034", "Mapped", NULL, "::ffff:192.168.20.34", 0}};
	struct opn_state st;
	struct opn_plan *p;
	char *rows;

	(void)state;
	kea_state(&st, "");
	p = opn_plan_compute(&st, d, 1, 1, "shelly_devices");
	assert_int_equal(find(p, "000000000034")->action, OPN_ADD);
	assert_string_equal(find(p, "000000000034")->ip, "192.168.20.34");
	assert_string_equal(find(p, "000000000034")->subnet, SUBNET_UUID);
	assert_string_equal(alias_of(p)->content, "192.168.20.34");
	rows = rows_after(p);
	opn_plan_free(p);
	opn_state_done(&st);
	kea_state(&st, rows);
	free(rows);
	p = opn_plan_compute(&st, d, 1, 1, NULL);
	assert_int_equal(find(p, "000000000034")->action, OPN_UNCHANGED);
	opn_plan_free(p);
	opn_state_done(&st);
}

static void
test_alias_set_body(void **state)
{
	const char *item =
	    "{\"alias\":{\"enabled\":\"0\",\"name\":\"shelly_devices\",\"type\":{\"host\":"
	    "{\"value\":\"Host(s)\",\"selected\":1},\"port\":{\"value\":\"Port(s)\",\"selected\":"
	    "0}},\"proto\":{\"IPv4\":{\"value\":\"IPv4\",\"selected\":1},\"IPv6\":{\"value\":"
	    "\"IPv6\",\"selected\":1}},\"categories\":{\"c-1\":{\"value\":\"iot\",\"selected\":1}"
	    ",\"c-2\":{\"value\":\"lan\",\"selected\":0}},\"counters\":1,\"content\":{"
	    "\"10.0.0.1\":{\"value\":\"10.0.0.1\",\"selected\":1}},\"description\":"
	    "\"shelly-tui: x \\u001b[31m kept\"}}";
	struct opn_state st;
	cJSON *body, *a;
	char *s;

	(void)state;
	alias_state(&st, item);
	s = opn_alias_set_body(&st.alias, "shelly_devices", "10.0.0.2\n10.0.0.3");
	body = cJSON_Parse(s);
	assert_non_null(body);
	a = cJSON_GetObjectItemCaseSensitive(body, "alias");
	assert_string_equal(json_get_string(a, "name"), "shelly_devices");
	assert_string_equal(json_get_string(a, "type"), "host");
	assert_string_equal(json_get_string(a, "content"), "10.0.0.2\n10.0.0.3");
	assert_string_equal(json_get_string(a, "enabled"), "0");
	assert_string_equal(json_get_string(a, "proto"), "IPv4,IPv6");
	assert_string_equal(json_get_string(a, "categories"), "c-1");
	assert_string_equal(json_get_string(a, "counters"), "1");
	/* sent back as read, not as sanitised for display */
	assert_string_equal(json_get_string(a, "description"), "shelly-tui: x \033[31m kept");
	cJSON_Delete(body);
	free(s);
	opn_state_done(&st);

	/* an alias read without fields still gets its name and type */
	memset(&st, 0, sizeof st);
	s = opn_alias_set_body(&st.alias, "shelly_devices", "");
	assert_string_equal(s, "{\"alias\":{\"name\":\"shelly_devices\",\"type\":\"host\","
	                       "\"content\":\"\"}}");
	free(s);
}

/* The content of a fleet's alias (far longer than a display field) is read whole; an entry
 * too long to compare is refused rather than cut (a cut entry would be rewritten every sync). */
static void
test_alias_large(void **state)
{
	struct opn_device d[300];
	char macs[300][13], ips[300][40], *body, *cause = NULL;
	struct strbuf sb;
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	strbuf_init(&sb);
	strbuf_append(&sb, "{\"alias\":{\"name\":\"shelly_devices\",\"type\":\"host\","
	                   "\"description\":\"shelly-tui: x\",\"content\":{");
	for (int i = 0; i < 300; i++) {
		snprintf(macs[i], sizeof macs[i], "%012d", i + 1);
		snprintf(ips[i], sizeof ips[i], "2001:db8:ffff:ffff:ffff:ffff:ffff:%x", i + 1);
		d[i] = (struct opn_device){.name = "n", .ip = ips[i]};
		memcpy(d[i].mac, macs[i], sizeof d[i].mac);
		strbuf_appendf(&sb, "%s\"%s\":{\"value\":\"%s\",\"selected\":1}", i ? "," : "",
		    ips[i], ips[i]);
	}
	strbuf_append(&sb, "}}}");
	body = strbuf_steal(&sb);
	alias_state(&st, body);
	assert_int_equal(st.alias.ncontent, 300);
	p = opn_plan_compute(&st, d, 300, 0, "shelly_devices");
	assert_int_equal(alias_of(p)->action, OPN_UNCHANGED);
	opn_plan_free(p);
	opn_state_done(&st);
	free(body);

	strbuf_init(&sb);
	strbuf_append(&sb, "{\"alias\":{\"type\":\"host\",\"content\":\"10.0.0.1\\n");
	for (int i = 0; i < 1100; i++)
		strbuf_append_char(&sb, 'a');
	strbuf_append(&sb, "\"}}");
	body = strbuf_steal(&sb);
	memset(&st, 0, sizeof st);
	assert_int_equal(opn_parse_alias(&st, "u", body, strlen(body), &cause), -1);
	assert_non_null(strstr(cause, "longer than"));
	assert_int_equal(st.alias.ncontent, 0);
	free(cause);
	free(body);
	opn_state_done(&st);
}

/* opnsense-pin: curl's sha256//BASE64 form or hex, to the hex the HTTP layer takes. */
static void
test_pin(void **state)
{
	const char *e3 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char hex[65];

	(void)state;
	assert_int_equal(
	    opn_pin_parse("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", hex), 0);
	assert_string_equal(hex, e3);
	assert_int_equal(opn_pin_parse("E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:"
	                               "E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55",
	                     hex),
	    0);
	assert_string_equal(hex, e3);
	assert_int_equal(opn_pin_parse(e3, hex), 0);
	assert_int_equal(
	    opn_pin_parse("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", hex), -1);
	assert_int_equal(
	    opn_pin_parse("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", hex), -1);
	assert_int_equal(
	    opn_pin_parse("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu!U=", hex), -1);
	assert_int_equal(opn_pin_parse("sha1//2jmj7l5rSw0yVb/vlWAYkK/YBwk=", hex), -1);
	assert_int_equal(opn_pin_parse("e3b0", hex), -1);
	assert_int_equal(opn_pin_parse("", hex), -1);
	assert_int_equal(
	    opn_pin_parse(":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex),
	    -1);
}

/* The key a connection saw ("AA:BB:...") as the opnsense-pin an error message offers. */
static void
test_pin_format(void **state)
{
	const char *ea = "eaf554266f45256f8a9816a94476a5e6bd9c1a22c69ae1611966d8ac518db5e1";
	char pin[OPN_PIN_TEXT];

	(void)state;
	assert_int_equal(opn_pin_format("E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:"
	                                "E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55",
	                     pin),
	    0);
	assert_string_equal(pin, "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_int_equal(opn_pin_format(ea, pin), 0);
	assert_string_equal(pin, "sha256//6vVUJm9FJW+KmBapRHal5r2cGiLGmuFhGWbYrFGNteE=");
	assert_int_equal(opn_pin_format(pin, pin), 0); /* its own form too */
	assert_string_equal(pin, "sha256//6vVUJm9FJW+KmBapRHal5r2cGiLGmuFhGWbYrFGNteE=");
	assert_int_equal(opn_pin_format("e3b0", pin), -1);
}

/* Devices registered by an IPv6 address are in the alias (one written form), not reserved. */
static void
test_alias_ipv6(void **state)
{
	struct opn_device d[] = {
	    {"000000000001", "a", NULL, "192.168.20.31", 0},
	    {"000000000002", "b", NULL, "2001:DB8:0::5", 0},
	    {"000000000003", "c", NULL, "[fd00::1]", 0},
	    {"000000000004", "d", NULL, "2001:db8::5", 0},
	    {"000000000005", "e", NULL, "fe80::1%eth0", 0},
	};
	/* the firewall holds the first IPv6 address in another (valid) spelling */
	const char *held = "{\"alias\":{\"type\":\"host\",\"content\":\"192.168.20.31\\n"
	                   "2001:0db8::0005\",\"description\":\"shelly-tui: x\"}}";
	struct opn_state st;
	struct opn_plan *p;

	(void)state;
	alias_state(&st, NULL);
	p = opn_plan_compute(&st, d, 5, 1, "shelly_devices");
	assert_string_equal(alias_of(p)->content, "192.168.20.31\n2001:db8::5\nfd00::1");
	assert_string_equal(alias_of(p)->ip, "3 addresses");
	assert_int_equal(find(p, "000000000002")->action, OPN_CONFLICT);
	assert_string_equal(find(p, "000000000002")->why,
	    "no IPv4 address registered (host 2001:DB8:0::5 is IPv6: it is in the alias, but a "
	    "DHCPv4 reservation needs IPv4)");
	opn_plan_free(p);
	opn_state_done(&st);

	alias_state(&st, held);
	p = opn_plan_compute(&st, d, 5, 0, "shelly_devices");
	assert_int_equal(alias_of(p)->action, OPN_UPDATE);
	assert_string_equal(alias_of(p)->why, "+fd00::1");
	opn_plan_free(p);
	opn_state_done(&st);
}

static void
test_replies(void **state)
{
	char *uuid = NULL, *cause = NULL, *s;
	int en = -1;
	const char *fail1 = "{\"result\":\"failed\",\"validations\":{\"reservation.ip_address\":"
	                    "\"Duplicate entry exists.\"}}";
	const char *fail2 = "{\"result\":\"failed\",\"validations\":{\"host.ip\":[\"a\",\"b\"],"
	                    "\"host.host\":\"c\"}}";
	const char *e500 = "{\"errorMessage\":\"Template generation failed &amp; &lt;x&gt;\","
	                   "\"errorTitle\":\"Error\"}";

	(void)state;
	assert_int_equal(
	    opn_parse_write(LIT("{\"result\":\"saved\",\"uuid\":\"u-9\"}"), &uuid, &cause), 0);
	assert_string_equal(uuid, "u-9");
	free(uuid);
	assert_int_equal(opn_parse_write(LIT("{\"result\":\"deleted\"}"), NULL, &cause), 0);
	assert_int_equal(opn_parse_write(fail1, strlen(fail1), NULL, &cause), -1);
	assert_string_equal(cause, "rejected: reservation.ip_address: Duplicate entry exists.");
	free(cause);
	assert_int_equal(opn_parse_write(fail2, strlen(fail2), NULL, &cause), -1);
	assert_string_equal(cause, "rejected: host.ip: a, b; host.host: c");
	free(cause);
	assert_int_equal(opn_parse_write(LIT("[]"), NULL, &cause), -1);
	assert_non_null(strstr(cause, "no such record"));
	free(cause);
	assert_int_equal(opn_parse_write(LIT("{\"result\":\"failed\"}"), NULL, &cause), -1);
	assert_non_null(strstr(cause, "without validations"));
	free(cause);
	assert_int_equal(opn_parse_write(LIT("{\"status\":\"failed\"}"), NULL, &cause), -1);
	free(cause);
	assert_int_equal(opn_parse_write(LIT("<html>"), NULL, &cause), -1);
	assert_non_null(strstr(cause, "not JSON"));
	free(cause);

	s = opn_parse_error(e500, strlen(e500));
	assert_string_equal(s, "Template generation failed & <x> (Error)");
	free(s);
	s = opn_parse_error("{\"status\":401,\"message\":\"Authentication Failed\"}", 48);
	assert_string_equal(s, "Authentication Failed");
	free(s);
	assert_null(opn_parse_error("nope", 4));

	assert_int_equal(opn_parse_alias_uuid(LIT("[]"), &uuid, &cause), 0);
	assert_null(uuid);
	assert_int_equal(opn_parse_alias_uuid(LIT("{\"uuid\":\"ab-12\"}"), &uuid, &cause), 0);
	assert_string_equal(uuid, "ab-12");
	free(uuid);
	assert_int_equal(opn_parse_alias_uuid(LIT("{\"uuid\":\"../x\"}"), &uuid, &cause), -1);
	free(cause);

	s = "{\"dhcpv4\":{\"general\":{\"enabled\":\"1\"}}}";
	assert_int_equal(opn_parse_enabled(OPN_KEA, s, strlen(s), &en, &cause), 0);
	assert_int_equal(en, 1);
	s = "{\"dnsmasq\":{\"enable\":\"0\"}}";
	assert_int_equal(opn_parse_enabled(OPN_DNSMASQ, s, strlen(s), &en, &cause), 0);
	assert_int_equal(en, 0);
	assert_int_equal(opn_parse_enabled(OPN_KEA, s, strlen(s), &en, &cause), -1);
	free(cause);
	assert_int_equal(opn_parse_status(LIT("{\"status\":\"running\"}"), &s, &cause), 0);
	assert_string_equal(s, "running");
	free(s);
}

static void
test_hostile(void **state)
{
	/* escape sequences from the firewall never reach a plan's strings */
	const char *body = "{\"rows\":[{\"uuid\":\"f\\u001b[2J\",\"subnet\":\"x\",\"ip_address\":"
	                   "\"192.168.20.10\",\"hw_address\":\"de:ad:be:ef:00:01\",\"hostname\":"
	                   "\"\\u001b]0;pwn\\u0007evil\",\"description\":\"\"}]}";
	struct opn_device d[] = {{"000000000001", "a", NULL, "192.168.20.10", 0}};
	struct opn_state st;
	struct opn_plan *p;
	struct strbuf sb;
	char *cause = NULL;

	(void)state;
	memset(&st, 0, sizeof st);
	st.backend = OPN_KEA;
	parse_ok(opn_parse_subnets(&st, SUBNETS, strlen(SUBNETS), &cause), &cause);
	parse_ok(opn_parse_records(&st, body, strlen(body), &cause), &cause);
	p = opn_plan_compute(&st, d, 1, 1, "shelly_devices");
	strbuf_init(&sb);
	opn_plan_format(p, 0, &sb);
	assert_null(strchr(strbuf_str(&sb), '\033'));
	assert_null(strchr(strbuf_str(&sb), '\007'));
	assert_non_null(strstr(strbuf_str(&sb), "conflict"));
	assert_non_null(strstr(strbuf_str(&sb), "1 to add, 0 to update, 0 to remove, 0 unchanged, "
	                                        "1 conflicts"));
	strbuf_done(&sb);
	opn_plan_free(p);
	opn_state_done(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_dnsmasq_rows),
	    cmocka_unit_test(test_dnsmasq_ranges),
	    cmocka_unit_test(test_dnsmasq_second_mac),
	    cmocka_unit_test(test_dnsmasq_keywords),
	    cmocka_unit_test(test_descriptions),
	    cmocka_unit_test(test_alias_ipv6),
	    cmocka_unit_test(test_plan_actions),
	    cmocka_unit_test(test_empty_registry),
	    cmocka_unit_test(test_mac_forms),
	    cmocka_unit_test(test_moves_order),
	    cmocka_unit_test(test_kept_address),
	    cmocka_unit_test(test_hostnames),
	    cmocka_unit_test(test_reserved_names),
	    cmocka_unit_test(test_unique_names),
	    cmocka_unit_test(test_names_stable),
	    cmocka_unit_test(test_idempotent),
	    cmocka_unit_test(test_alias),
	    cmocka_unit_test(test_alias_set_body),
	    cmocka_unit_test(test_mapped_ipv4),
	    cmocka_unit_test(test_alias_large),
	    cmocka_unit_test(test_pin),
	    cmocka_unit_test(test_pin_format),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
