/* test_client_args: the client's option parser (client/args.c): long and
 * short forms, inline values, flags, positionals anywhere, global options
 * after the command, "--", and the errors a user sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The client is its own program: its files are compiled into the test. */
#include "../../client/args.c"

static const OptSpec cmd_opts[] = {
	{"text", 0, "TEXT", "text"},
	{"q", 'q', "TEXT", "query"},
	{"urgent", 0, NULL, "flag"},
	{NULL, 0, NULL, NULL},
};

static const OptSpec global_opts[] = {
	{"json", 0, NULL, "json"},
	{"url", 0, "URL", "url"},
	{"help", 'h', NULL, "help"},
	{NULL, 0, NULL, NULL},
};

static int
parse(Args *a, Args *g, char **argv, bool stop, char *err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	args_init(a, cmd_opts);
	args_init(g, global_opts);
	return args_parse(a, g, argc, argv, stop, err, 128);
}

static void
test_forms_and_positionals(void **state)
{
	char *argv[] = {"12", "--text", "a b", "-q", "中文", "--urgent", "--url=http://x:1", "34",
			"--json", NULL};
	char err[128];
	Args a, g;

	(void)state;
	assert_int_equal(parse(&a, &g, argv, false, err), 9);
	assert_string_equal(args_get(&a, "text"), "a b");
	assert_string_equal(args_get(&a, "q"), "中文");
	assert_true(args_has(&a, "urgent"));
	assert_string_equal(args_get(&g, "url"), "http://x:1");
	assert_true(args_has(&g, "json"));
	assert_false(args_has(&g, "help"));
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "12");
	assert_string_equal(a.pos[1], "34");
}

static void
test_dash_values_and_double_dash(void **state)
{
	char *argv[] = {"--text", "-", "-qx", "--", "--urgent", "-", NULL};
	char err[128];
	Args a, g;

	(void)state;
	assert_int_equal(parse(&a, &g, argv, false, err), 6);
	assert_string_equal(args_get(&a, "text"), "-");	/* "-": read stdin */
	assert_string_equal(args_get(&a, "q"), "x");
	assert_false(args_has(&a, "urgent"));	/* after "--" it is a positional */
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "--urgent");
	assert_string_equal(a.pos[1], "-");
}

/* Global options before the command: parsing stops at the command name. */
static void
test_stop_at_command(void **state)
{
	char *argv[] = {"--json", "show", "--url", "u"};
	char err[128];
	Args g;

	(void)state;
	args_init(&g, global_opts);
	assert_int_equal(args_parse(&g, NULL, 4, argv, true, err, sizeof(err)), 1);
	assert_true(args_has(&g, "json"));
	assert_false(args_has(&g, "url"));
	assert_int_equal(g.npos, 0);
}

static void
test_errors(void **state)
{
	char *unknown[] = {"--nope", NULL};
	char *missing[] = {"--text", NULL};
	char *flag_value[] = {"--urgent=yes", NULL};
	char err[128];
	Args a, g;

	(void)state;
	assert_int_equal(parse(&a, &g, unknown, false, err), -1);
	assert_string_equal(err, "unknown option '--nope'");
	assert_int_equal(parse(&a, &g, missing, false, err), -1);
	assert_string_equal(err, "option --text needs a value (TEXT)");
	assert_int_equal(parse(&a, &g, flag_value, false, err), -1);
	assert_string_equal(err, "option --urgent takes no value");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms_and_positionals),
		cmocka_unit_test(test_dash_values_and_double_dash),
		cmocka_unit_test(test_stop_at_command),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
