/* Unit tests of the login and password bodies (core/user_input, API.md section 19). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/user_input.h"

/* user_input_parse of the JSON text; err filled on false. */
static bool
parse_user(const char *text, UserInput *in, ApiError *err)
{
	json_object *b = json_tokener_parse(text);
	bool ok;

	assert_non_null(b);
	ok = user_input_parse(b, in, err);
	json_object_put(b);
	return ok;
}

static void
test_user_with_login_and_password(void **state)
{
	UserInput in;
	ApiError err;
	json_object *b = json_tokener_parse(
		"{\"name\": \"王\", \"role\": \"operator\", \"login\": \"wang.op-1_\", \"password\": \"ten chars!\"}");

	(void)state;
	assert_true(user_input_parse(b, &in, &err));
	assert_string_equal(in.login, "wang.op-1_");
	assert_string_equal(in.password, "ten chars!");
	json_object_put(b);
}

static void
test_user_login_shape(void **state)
{
	static const char *bad[] = {
		"{\"name\": \"x\", \"role\": \"admin\", \"login\": \"ab\"}",
		"{\"name\": \"x\", \"role\": \"admin\", \"login\": \"Upper\"}",
		"{\"name\": \"x\", \"role\": \"admin\", \"login\": \"has space\"}",
		"{\"name\": \"x\", \"role\": \"admin\", \"login\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"name\": \"x\", \"role\": \"admin\", \"login\": \"中文名\"}",
		"{\"name\": \"x\", \"role\": \"admin\", \"login\": 7}",
	};
	UserInput in;
	ApiError err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(parse_user(bad[i], &in, &err));
		assert_string_equal(err.field, "login");
		assert_string_equal(err.code, "invalid_field");
	}
	assert_true(parse_user("{\"name\": \"x\", \"role\": \"admin\", \"login\": \"abc\"}", &in, &err));
	assert_null(in.password);
}

static void
test_user_password_bounds(void **state)
{
	UserInput in;
	ApiError err;

	(void)state;
	/* 10 characters, counted as characters: ten Chinese characters are 30 bytes */
	assert_true(parse_user("{\"name\": \"x\", \"role\": \"admin\", \"login\": \"abc\", \"password\": \"一二三四五六七八九十\"}",
			       &in, &err));
	assert_false(parse_user("{\"name\": \"x\", \"role\": \"admin\", \"login\": \"abc\", \"password\": \"一二三四五六七八九\"}",
				&in, &err));
	assert_string_equal(err.field, "password");
	/* an embedded NUL would cut the password short in crypt_r */
	assert_false(parse_user("{\"name\": \"x\", \"role\": \"admin\", \"login\": \"abc\", \"password\": \"abcdefghij\\u0000k\"}",
				&in, &err));
	assert_string_equal(err.field, "password");
	assert_false(parse_user("{\"name\": \"x\", \"role\": \"admin\", \"password\": \"abcdefghijk\"}", &in, &err));
	assert_string_equal(err.code, "missing_field");
	assert_string_equal(err.field, "login");
}

static void
test_login_body(void **state)
{
	UserCredentials cred;
	ApiError err;
	json_object *b = json_tokener_parse("{\"login\": \"Whatever Shape\", \"password\": \"x\"}");

	(void)state;
	/* any shape of login is looked up (and answers 401), only types and sizes are refused */
	assert_true(user_login_parse(b, &cred, &err));
	assert_string_equal(cred.login, "Whatever Shape");
	assert_null(cred.new_password);
	json_object_put(b);
	b = json_tokener_parse("{\"login\": \"abc\"}");
	assert_false(user_login_parse(b, &cred, &err));
	assert_string_equal(err.field, "password");
	json_object_put(b);
	b = json_tokener_parse("{\"login\": \"abc\", \"password\": \"abcdefghijk\", \"otp\": 1}");
	assert_false(user_login_parse(b, &cred, &err));
	assert_string_equal(err.field, "otp");
	json_object_put(b);
}

static void
test_password_change_body(void **state)
{
	UserCredentials cred;
	const char *password;
	ApiError err;
	json_object *b = json_tokener_parse("{\"old\": \"o\", \"new\": \"new password\"}");

	(void)state;
	assert_true(user_password_change_parse(b, &cred, &err));
	assert_string_equal(cred.password, "o");
	assert_string_equal(cred.new_password, "new password");
	json_object_put(b);
	b = json_tokener_parse("{\"old\": \"o\", \"new\": \"short\"}");
	assert_false(user_password_change_parse(b, &cred, &err));
	assert_string_equal(err.field, "new");
	json_object_put(b);
	b = json_tokener_parse("{\"password\": 12}");
	assert_false(user_password_parse(b, &password, &err));
	assert_string_equal(err.field, "password");
	json_object_put(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_with_login_and_password),
		cmocka_unit_test(test_user_login_shape),
		cmocka_unit_test(test_user_password_bounds),
		cmocka_unit_test(test_login_body),
		cmocka_unit_test(test_password_change_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
