/* The agent API body parser (provision/agentmsg): good bodies, and each kind of bad one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "provision/agentmsg.h"
#include "provision/taskq.h"

static void
ok(enum agentmsg_kind kind, const char *body, struct agentmsg *m)
{
	char *cause = NULL;

	if (agentmsg_parse(kind, body, strlen(body), m, &cause) != 0)
		fail_msg("%s: %s", body, cause);
}

static void
bad(enum agentmsg_kind kind, const char *body, const char *why)
{
	struct agentmsg m;
	char *cause = NULL;

	assert_int_equal(agentmsg_parse(kind, body, strlen(body), &m, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, why) == NULL)
		fail_msg("%s: cause \"%s\" lacks \"%s\"", body, cause, why);
	free(cause);
}

static void
test_good(void **state)
{
	struct agentmsg m;

	(void)state;
	ok(AGENTMSG_REGISTER, "{\"secret\":\"00ff\",\"name\":\"pi 4\",\"extra\":1}", &m);
	assert_string_equal(m.secret, "00ff");
	assert_string_equal(m.name, "pi 4");
	ok(AGENTMSG_HEARTBEAT, "", &m);
	assert_false(m.has_tasks); /* an older agent: all its tasks are renewed */
	ok(AGENTMSG_HEARTBEAT, "{\"tasks\":[]}", &m);
	assert_true(m.has_tasks);
	assert_int_equal(m.ntasks, 0);
	ok(AGENTMSG_HEARTBEAT, "{\"tasks\":[7,9]}", &m);
	assert_int_equal(m.ntasks, 2);
	assert_int_equal(m.tasks[1], 9);
	ok(AGENTMSG_CLAIM, "{}", &m);
	ok(AGENTMSG_APS, "{\"aps\":[{\"ssid\":\"shelly1-AABBCC\",\"rssi\":-40},{\"ssid\":\"x\"}]}",
	    &m);
	assert_int_equal(m.naps, 2);
	assert_int_equal(m.aps[0].rssi, -40);
	assert_string_equal(m.aps[1].ssid, "x");
	ok(AGENTMSG_PROGRESS, "{\"task\":7,\"stage\":\"configured\",\"mac\":\"A1:B2:C3:D4:E5:F6\"}",
	    &m);
	assert_int_equal(m.task, 7);
	assert_string_equal(m.mac, "a1b2c3d4e5f6");
	ok(AGENTMSG_RESULT, "{\"task\":7,\"reason\":\"failed: lost\\u001b[2J\",\"retry\":true}",
	    &m);
	assert_true(m.retry);
	assert_null(strchr(m.reason, '\x1b'));
	ok(AGENTMSG_TASK,
	    "{\"task\":{\"id\":3,\"target\":\"shelly1-AABBCC\",\"network\":\"home\","
	    "\"key\":\"secret12\",\"ap_off\":true,\"attempt\":1}}",
	    &m);
	assert_string_equal(m.key, "secret12");
	assert_true(m.ap_off);
	agentmsg_clear(&m);
	assert_string_equal(m.key, "");
	ok(AGENTMSG_STATE, "{\"state\":\"verifying\",\"stage\":\"not_seen\"}", &m);
	assert_string_equal(m.stage, "not_seen");
	ok(AGENTMSG_REGISTERED, "{\"agent\":\"ag-1\",\"token\":\"abcdef\"}", &m);
}

static void
test_bad(void **state)
{
	char *big;
	struct agentmsg m;
	char *cause = NULL;

	(void)state;
	bad(AGENTMSG_HEARTBEAT, "{\"tasks\":7}", "\"tasks\" must be an array");
	bad(AGENTMSG_HEARTBEAT, "{\"tasks\":[0]}", "integer id");
	bad(AGENTMSG_HEARTBEAT, "{\"tasks\":[\"7\"]}", "integer id");
	bad(AGENTMSG_HEARTBEAT, "{\"tasks\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}",
	    "more than 16 tasks");
	bad(AGENTMSG_REGISTER, "", "register body");
	bad(AGENTMSG_REGISTER, "[1]", "not a JSON object");
	bad(AGENTMSG_REGISTER, "{\"secret\":\"00ff\"", "register body");
	bad(AGENTMSG_REGISTER, "{\"name\":\"pi\"}", "missing \"secret\"");
	bad(AGENTMSG_REGISTER, "{\"secret\":\"XYZ\",\"name\":\"pi\"}", "not allowed");
	bad(AGENTMSG_REGISTER, "{\"secret\":1,\"name\":\"pi\"}", "must be a string");
	bad(AGENTMSG_REGISTER, "{\"secret\":\"00\",\"name\":\"a\\nb\"}", "not allowed");
	bad(AGENTMSG_PROGRESS, "{\"task\":\"7\",\"stage\":\"x\"}", "integer");
	bad(AGENTMSG_PROGRESS, "{\"task\":0,\"stage\":\"x\"}", "integer");
	bad(AGENTMSG_PROGRESS, "{\"task\":1,\"stage\":\"Rm -rf\"}", "not allowed");
	bad(AGENTMSG_PROGRESS, "{\"task\":1,\"stage\":\"x\",\"mac\":\"zz\"}", "MAC");
	bad(AGENTMSG_RESULT, "{\"task\":1,\"reason\":\"x\",\"retry\":\"yes\"}", "true or false");
	bad(AGENTMSG_APS, "{\"aps\":{}}", "array");
	bad(AGENTMSG_APS, "{\"aps\":[[[[[1]]]]]}", "aps body");
	bad(AGENTMSG_APS, "{\"aps\":[{\"ssid\":\"123456789012345678901234567890123\"}]}", "bytes");
	bad(AGENTMSG_TASK, "{\"task\":{\"id\":1,\"target\":\"t\"}}", "network");
	big = malloc(AGENTMSG_MAX_BODY + 2);
	memset(big, ' ', AGENTMSG_MAX_BODY + 1);
	big[AGENTMSG_MAX_BODY + 1] = '\0';
	assert_int_equal(
	    agentmsg_parse(AGENTMSG_CLAIM, big, AGENTMSG_MAX_BODY + 1, &m, &cause), -1);
	assert_non_null(strstr(cause, "over"));
	free(cause);
	free(big);
	/* A NUL inside the body is refused, not cut short. */
	assert_int_equal(agentmsg_parse(AGENTMSG_CLAIM, "{}\0{", 4, &m, &cause), -1);
	free(cause);
}

/*
 * A claim reply for task id carrying c as its config (c is freed: agentmsg_config_free), as
 * the manager sends it; *config is what it added (in the returned document). Caller frees.
 */
static cJSON *
claim_reply(int id, struct devconfig *c, cJSON **config)
{
	cJSON *root = cJSON_CreateObject(), *task = cJSON_AddObjectToObject(root, "task");

	cJSON_AddNumberToObject(task, "id", id);
	cJSON_AddStringToObject(task, "target", "shelly1-AABBCC");
	cJSON_AddStringToObject(task, "network", "home");
	agentmsg_config_add(task, c);
	agentmsg_config_free(c);
	assert_int_equal(c->n, 0);
	*config = cJSON_GetObjectItem(task, "config");
	return root;
}

/* A claim reply's template: checked like a template file, secrets wiped by agentmsg_clear. */
static void
test_config(void **state)
{
	struct agentmsg m;
	struct devconfig c;
	const struct devconfig_entry *e;
	char *cause = NULL, *body;
	cJSON *root, *config;

	(void)state;
	devconfig_init(&c);
	assert_int_equal(devconfig_template_set(&c, "sys.timezone", "Europe/Sofia", &cause), 0);
	assert_int_equal(devconfig_template_set(&c, "switch:0.name", "out ${name}", &cause), 0);
	assert_int_equal(devconfig_template_set(&c, "mqtt.pass", "mq-secret", &cause), 0);
	assert_int_equal(devconfig_template_set(&c, "switch:0.auto_off", "maybe", &cause), -1);
	free(cause);
	cause = NULL;
	root = claim_reply(4, &c, &config);
	body = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	ok(AGENTMSG_TASK, body, &m);
	free(body);
	assert_int_equal(m.config.n, 3);
	e = devconfig_get(&m.config, DCFG_SWITCH_NAME, 0);
	assert_non_null(e);
	assert_string_equal(e->value, "out ${name}"); /* the agent renders per device */
	e = devconfig_get(&m.config, DCFG_MQTT_PASS, -1);
	assert_non_null(e);
	assert_string_equal(e->value, "mq-secret");
	agentmsg_clear(&m);
	assert_int_equal(m.config.n, 0);
	assert_null(m.config.e);

	bad(AGENTMSG_TASK,
	    "{\"task\":{\"id\":1,\"target\":\"t\",\"network\":\"n\",\"config\":[1]}}",
	    "\"config\" must be an object");
	bad(AGENTMSG_TASK,
	    "{\"task\":{\"id\":1,\"target\":\"t\",\"network\":\"n\",\"config\":{\"sys.name\":1}}}",
	    "values must be strings or null");
	bad(AGENTMSG_TASK,
	    "{\"task\":{\"id\":1,\"target\":\"t\",\"network\":\"n\",\"config\":{\"no.such\":\"1\"}}"
	    "}",
	    "\"config\": no.such");
	bad(AGENTMSG_TASK,
	    "{\"task\":{\"id\":1,\"target\":\"t\",\"network\":\"n\","
	    "\"config\":{\"sys.location.lat\":\"91\"}}}",
	    "sys.location.lat");
}

/*
 * A template's null (the field is cleared) reaches the agent as a null, for a string and for a
 * number alike: not "", which would set an empty name (or fail for a number).
 */
static void
test_config_null(void **state)
{
	struct agentmsg m;
	struct devconfig c;
	const struct devconfig_entry *e;
	char *cause = NULL, *body;
	cJSON *root, *config;

	(void)state;
	devconfig_init(&c);
	assert_int_equal(devconfig_template_set(&c, "mqtt.server", NULL, &cause), 0);
	assert_int_equal(devconfig_template_set(&c, "sys.location.lat", NULL, &cause), 0);
	assert_int_equal(devconfig_template_set(&c, "sys.timezone", "", &cause), 0);
	root = claim_reply(5, &c, &config);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(config, "mqtt.server")));
	body = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	ok(AGENTMSG_TASK, body, &m);
	free(body);
	assert_int_equal(m.config.n, 3);
	e = devconfig_get(&m.config, DCFG_MQTT_SERVER, -1);
	assert_non_null(e);
	assert_int_equal(e->state, DEVCONFIG_NULL);
	e = devconfig_get(&m.config, DCFG_SYS_LAT, -1);
	assert_non_null(e);
	assert_int_equal(e->state, DEVCONFIG_NULL);
	e = devconfig_get(&m.config, DCFG_SYS_TIMEZONE, -1); /* an empty string stays one */
	assert_non_null(e);
	assert_int_equal(e->state, DEVCONFIG_VALUE);
	assert_string_equal(e->value, "");
	agentmsg_clear(&m);
}

/* More fields than a claim reply may carry are refused. */
static void
test_config_many(void **state)
{
	char *body = malloc(AGENTMSG_MAX_BODY), *p;

	(void)state;
	p = body +
	    sprintf(body, "{\"task\":{\"id\":1,\"target\":\"t\",\"network\":\"n\",\"config\":{");
	for (int i = 0; i <= AGENTMSG_MAX_FIELDS; i++)
		p += sprintf(p, "%s\"switch:%d.name\":\"x\"", i ? "," : "", i);
	strcpy(p, "}}}");
	bad(AGENTMSG_TASK, body, "more than");
	free(body);
}

/* A task's name and network pass the device check (shelly/sta.h), not an ASCII-only one; a
 * task refused after its id was read keeps the id so that the agent can report it failed. */
static void
test_task_text(void **state)
{
	struct agentmsg m;
	char *cause = NULL;
	const char *bidi = "{\"task\":{\"id\":7,\"target\":\"t\",\"network\":\"n\",\"name\":"
	                   "\"\342\200\256evil\"}}";

	(void)state;
	ok(AGENTMSG_TASK,
	    "{\"task\":{\"id\":3,\"target\":\"t\",\"network\":\"Caf\xc3\xa9 Wohnung\","
	    "\"name\":\"K\303\274che\"}}",
	    &m);
	assert_string_equal(m.name, "K\303\274che");
	assert_string_equal(m.network, "Caf\xc3\xa9 Wohnung");
	agentmsg_clear(&m);
	assert_int_equal(agentmsg_parse(AGENTMSG_TASK, bidi, strlen(bidi), &m, &cause), -1);
	assert_non_null(strstr(cause, "device name"));
	assert_int_equal(m.task, 7);
	free(cause);
	bad(AGENTMSG_TASK, "{\"task\":{\"id\":1,\"target\":\"t\",\"network\":\"a\\u0007b\"}}",
	    "network name");
}

/* A task body with a device password of n characters. */
static char *
task_with_password(size_t n)
{
	char pw[TASKQ_PASS_MAX + 2];
	char *body = malloc(256);

	memset(pw, 'p', n);
	pw[n] = '\0';
	snprintf(body, 256,
	    "{\"task\":{\"id\":5,\"target\":\"t\",\"network\":\"n\",\"password\":\"%s\"}}", pw);
	return body;
}

/*
 * The agent takes every device password the manager queues (TASKQ_PASS_MAX), no longer one,
 * and a WiFi key that is the pre-shared key in hex (64 digits).
 */
static void
test_task_password(void **state)
{
	struct agentmsg m;
	char *body = task_with_password(TASKQ_PASS_MAX);

	(void)state;
	ok(AGENTMSG_TASK, body, &m);
	assert_int_equal(strlen(m.password), TASKQ_PASS_MAX);
	agentmsg_clear(&m);
	free(body);
	body = task_with_password(TASKQ_PASS_MAX + 1);
	bad(AGENTMSG_TASK, body, "password");
	free(body);
	ok(AGENTMSG_TASK,
	    "{\"task\":{\"id\":6,\"target\":\"t\",\"network\":\"n\",\"key\":"
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}",
	    &m);
	assert_int_equal(strlen(m.key), TASKQ_KEY_MAX);
	agentmsg_clear(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_task_text),
	    cmocka_unit_test(test_task_password),
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_config_null),
	    cmocka_unit_test(test_config_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
