/* Unit tests of the shell's pure parts: configuration, the error JSON, tokens, SHA-256, body parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core/api_error.h"
#include "core/json_body.h"
#include "core/json_strict.h"
#include "core/ratelimit.h"
#include "core/utf8.h"
#include "core/sha256.h"
#include "core/user_input.h"
#include "token.h"

static void
test_config_defaults_and_bounds(void **state)
{
	Config cfg;
	char err[256];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.port, 8080);
	assert_int_equal(cfg.max_body, 65536);
	assert_string_equal(cfg.timezone, "Asia/Shanghai");
	assert_false(config_check(&cfg, err, sizeof(err)));  /* db is required */
	assert_non_null(strstr(err, "db"));
	assert_true(config_set(&cfg, "port", "9090", err, sizeof(err)));
	assert_int_equal(cfg.port, 9090);
	assert_false(config_set(&cfg, "port", "0", err, sizeof(err)));
	assert_false(config_set(&cfg, "port", "65536", err, sizeof(err)));
	assert_false(config_set(&cfg, "port", "80x", err, sizeof(err)));
	assert_false(config_set(&cfg, "port", "", err, sizeof(err)));
	assert_int_equal(cfg.port, 9090);
	assert_false(config_set(&cfg, "pool_size", "65", err, sizeof(err)));
	assert_non_null(strstr(err, "pool_size"));
	assert_false(config_set(&cfg, "nonsense", "1", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown"));
	assert_false(config_set(&cfg, "listen", "", err, sizeof(err)));
	assert_true(config_set(&cfg, "db", "host=x password=secret", err, sizeof(err)));
	assert_true(config_check(&cfg, err, sizeof(err)));
	assert_false(config_set(&cfg, "log_level", "loud", err, sizeof(err)) && config_check(&cfg, err, sizeof(err)));
}

static void
test_config_env_and_file(void **state)
{
	Config cfg;
	char err[256], path[] = "/tmp/hotline-test-config-XXXXXX", described[2048];
	char *env_ok[] = {"HOTLINE_PORT=7000", "HOTLINE_URL=http://x", "PATH=/bin", NULL};
	char *env_bad[] = {"HOTLINE_POOL_SIZE=0", NULL};
	FILE *f;
	int fd;

	(void)state;
	config_defaults(&cfg);
	assert_true(config_load_env(&cfg, env_ok, err, sizeof(err)));  /* the client's HOTLINE_URL is ignored */
	assert_int_equal(cfg.port, 7000);
	assert_false(config_load_env(&cfg, env_bad, err, sizeof(err)));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# comment\n\n  port = 7100 \ndb = dbname=x password=hunter2\n", f);
	fclose(f);
	assert_true(config_load_file(&cfg, path, err, sizeof(err)));
	assert_int_equal(cfg.port, 7100);
	assert_string_equal(cfg.db, "dbname=x password=hunter2");
	config_describe(&cfg, described, sizeof(described));
	assert_null(strstr(described, "hunter2"));  /* secrets never reach the log */
	assert_non_null(strstr(described, "port=7100"));
	f = fopen(path, "w");
	fputs("port 7100\n", f);
	fclose(f);
	assert_false(config_load_file(&cfg, path, err, sizeof(err)));
	assert_non_null(strstr(err, ":1:"));
	remove(path);
}

/* The usage text lists every setting (each name=value of config_describe), with its bounds. */
static void
test_config_usage_lists_every_setting(void **state)
{
	Config cfg;
	char described[4096], *text = NULL, *save = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	config_usage(out);
	fclose(out);
	config_defaults(&cfg);
	config_describe(&cfg, described, sizeof(described));
	for (char *pair = strtok_r(described, " ", &save); pair; pair = strtok_r(NULL, " ", &save)) {
		char line[80];

		*strchr(pair, '=') = '\0';
		snprintf(line, sizeof(line), "\n  %s ", pair);
		assert_non_null(strstr(text, line));
	}
	assert_non_null(strstr(text, "\n  intake_transactions    1..64, default 4\n"));
	assert_non_null(strstr(text, "\n  intake_batch_max       1..256, default 32\n"));
	free(text);
}

static void
test_error_json(void **state)
{
	ApiError err;
	json_object *j;

	(void)state;
	assert_false(api_error_set(&err, 422, "invalid_field", "text", "text must be 1 to %d characters", 4000));
	j = api_error_to_json(&err);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			    "{\"error\":{\"code\":\"invalid_field\",\"message\":\"text must be 1 to 4000 characters\","
			    "\"field\":\"text\"}}");
	json_object_put(j);
	api_error_set(&err, 401, "unauthorized", NULL, "no token");
	j = api_error_to_json(&err);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"no token\"}}");
	json_object_put(j);
}

static void
test_sha256_vectors(void **state)
{
	char hex[65];
	char million[1000];

	(void)state;
	sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', sizeof(million));
	sha256_hex(million, 64, hex);  /* exactly one block of data: padding goes to a second block */
	assert_string_equal(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void
test_tokens(void **state)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], h[TOKEN_HASH_HEX + 3];

	(void)state;
	assert_true(token_generate(a));
	assert_true(token_generate(b));
	assert_int_equal(strlen(a), TOKEN_LEN);
	assert_true(token_well_formed(a));
	assert_string_not_equal(a, b);
	token_hash_literal(a, h);
	assert_int_equal(strlen(h), TOKEN_HASH_HEX + 2);
	assert_memory_equal(h, "\\x", 2);
	assert_null(strstr(h, a + 3));  /* the stored form does not contain the token */
	assert_false(token_well_formed("hl_short"));
	assert_false(token_well_formed(NULL));
	b[10] = 'G';
	assert_false(token_well_formed(b));
	assert_true(token_equal_ct("abcdef", "abcdef", 6));
	assert_false(token_equal_ct("abcdef", "abcdeg", 6));
}

static void
test_json_body(void **state)
{
	json_object *o = NULL;
	ApiError err;
	char deep[64];

	(void)state;
	assert_true(json_body_parse("{\"a\": 1}\n", 9, &o, &err));
	json_object_put(o);
	assert_false(json_body_parse("{\"a\": 1", 7, &o, &err));
	assert_string_equal(err.code, "bad_json");
	assert_false(json_body_parse("[1]", 3, &o, &err));
	assert_false(json_body_parse("{} x", 4, &o, &err));
	assert_false(json_body_parse("{\"a\": \"\xC0\xAF\"}", 11, &o, &err));  /* overlong UTF-8 */
	assert_false(json_body_parse("{\"a\":\0}", 7, &o, &err));
	memset(deep, '[', sizeof(deep));
	deep[0] = '{';
	assert_false(json_body_parse(deep, sizeof(deep), &o, &err));
	assert_null(o);
}

static void
test_user_input(void **state)
{
	UserInput in;
	ApiError err;
	json_object *b;

	(void)state;
	b = json_tokener_parse("{\"name\": \"李四\", \"role\": \"department\", \"department\": \"housing\"}");
	assert_true(user_input_parse(b, &in, &err));
	assert_int_equal(in.role, ROLE_DEPARTMENT);
	json_object_put(b);
	b = json_tokener_parse("{\"name\": \"李四\", \"role\": \"department\"}");
	assert_false(user_input_parse(b, &in, &err));
	assert_string_equal(err.field, "department");
	json_object_put(b);
	b = json_tokener_parse("{\"name\": \"x\", \"role\": \"king\"}");
	assert_false(user_input_parse(b, &in, &err));
	assert_string_equal(err.field, "role");
	json_object_put(b);
	b = json_tokener_parse("{\"name\": \"x\", \"role\": \"admin\", \"extra\": 1}");
	assert_false(user_input_parse(b, &in, &err));
	assert_string_equal(err.field, "extra");
	json_object_put(b);
	b = json_tokener_parse("{\"role\": \"admin\"}");
	assert_false(user_input_parse(b, &in, &err));
	assert_string_equal(err.code, "missing_field");
	json_object_put(b);
}

static void
test_json_strict(void **state)
{
	static const char *const refused[] = {
		"{'a': 1}", "{\"a\": NaN}", "{\"a\": Infinity}", "{\"a\": 01}", "{\"a\": 1.}", "{\"a\": .5}",
		"{\"a\": +1}", "{\"a\": 1e}", "{\"a\": \"x\ty\"}", "{\"a\": 1, \"a\": 2}",
		"{\"a\": 1, \"\\u0061\": 2}", "{\"a\": \"\\x\"}", "{\"a\": \"\\ud800\"}", "{\"a\": 1,}",
		"{\"a\" 1}", "{a: 1}", "{\"a\": tru}", "{} {}", "{\"a\": [1,]}", "{\"a\": 1} // c",
		"{\"\\u0000note\": \"x\", \"\": 0e38}", /* fuzz: json-c would read both keys as "" */
	};
	static const char *const accepted[] = {
		"{}", " {\"a\": [1, -0.5e+3, true, false, null, \"\\u00e9\\ud83d\\ude00\"]}\n",
		"{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}", "{\"\u4e2d\": 0}",
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (json_strict_check(refused[i], strlen(refused[i]), 15, &why))
			fail_msg("accepted %s", refused[i]);
		assert_non_null(why);
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		if (!json_strict_check(accepted[i], strlen(accepted[i]), 15, &why))
			fail_msg("refused %s: %s", accepted[i], why);
	assert_true(json_strict_check("[[[1]]]", 7, 3, &why));
	assert_false(json_strict_check("[[[[1]]]]", 9, 3, &why));
}

static void
test_utf8_prefix_and_error_cut(void **state)
{
	char longkey[200];
	ApiError err;

	(void)state;
	assert_int_equal(utf8_prefix("abc", 10), 3);
	assert_int_equal(utf8_prefix("\xe4\xb8\xad\xe6\x96\x87", 4), 3); /* cut inside 文 */
	assert_int_equal(utf8_prefix("\xe4\xb8\xad\xe6\x96\x87", 6), 6);
	longkey[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(longkey, "\xe5\xad\x97"); /* 字 x 40 = 120 bytes */
	api_error_set(&err, 422, "invalid_field", longkey, "unknown field %s%s", longkey, longkey);
	assert_true(utf8_validate(err.field, strlen(err.field), NULL));
	assert_true(utf8_validate(err.message, strlen(err.message), NULL));
	assert_true(strlen(err.field) > 50);
}

static void
test_ratelimit(void **state)
{
	RateLimiter *rl = ratelimit_new(2, 4, 2);
	int allowed = 0;

	(void)state;
	assert_non_null(rl);
	for (int i = 0; i < 10; i++)
		allowed += ratelimit_allow(rl, 7, 100.0);
	assert_int_equal(allowed, 4);                 /* the burst */
	assert_false(ratelimit_allow(rl, 7, 100.4));  /* 0.8 of a token */
	assert_true(ratelimit_allow(rl, 7, 100.5));   /* one token after half a second */
	assert_true(ratelimit_allow(rl, 8, 100.5));   /* another key has its own bucket */
	assert_true(ratelimit_allow(rl, 9, 100.6));   /* a full table forgets, never blocks */
	ratelimit_free(rl);
}

static void
test_ratelimit_refund(void **state)
{
	RateLimiter *rl = ratelimit_new(1, 2, 8);

	(void)state;
	assert_true(ratelimit_allow(rl, 7, 100.0));
	assert_true(ratelimit_allow(rl, 7, 100.0));
	assert_false(ratelimit_allow(rl, 7, 100.0));
	ratelimit_refund(rl, 7);                      /* the attempt did not count */
	assert_true(ratelimit_allow(rl, 7, 100.0));
	ratelimit_refund(rl, 7);
	ratelimit_refund(rl, 7);
	ratelimit_refund(rl, 7);                      /* never above the burst */
	assert_true(ratelimit_allow(rl, 7, 100.0));
	assert_true(ratelimit_allow(rl, 7, 100.0));
	assert_false(ratelimit_allow(rl, 7, 100.0));
	ratelimit_refund(rl, 99);                     /* an unknown key: nothing happens */
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults_and_bounds),
		cmocka_unit_test(test_config_usage_lists_every_setting),
		cmocka_unit_test(test_config_env_and_file),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_user_input),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_utf8_prefix_and_error_cut),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ratelimit_refund),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
