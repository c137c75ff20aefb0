/*
 * args: a small declarative option parser (see args.h).
 */
#include "args.h"

#include <string.h>

static int find_long(const OptSpec *spec, const char *name, size_t len);
static int find_short(const OptSpec *spec, char letter);
static int take_option(Args *a, Args *global, int argc, char **argv, int i, char *err,
		       size_t errlen);

/*
 *********************************
 * Public functions
 *********************************
 */

void
args_init(Args *a, const OptSpec *spec)
{
	memset(a, 0, sizeof(*a));
	a->spec = spec;
}

int
args_parse(Args *a, Args *global, int argc, char **argv, bool stop_at_positional, char *err,
	   size_t errlen)
{
	bool options_done = false;
	int i = 0;

	while (i < argc) {
		const char *arg = argv[i];
		bool positional = options_done || arg[0] != '-' || strcmp(arg, "-") == 0;

		if (!positional && strcmp(arg, "--") == 0) {
			options_done = true;
			i++;
			continue;
		}
		if (positional && stop_at_positional)
			break;
		if (positional) {
			if (a->npos == ARGS_MAX_POS) {
				snprintf(err, errlen, "too many arguments at '%s'", arg);
				return -1;
			}
			a->pos[a->npos++] = arg;
			i++;
			continue;
		}
		i = take_option(a, global, argc, argv, i, err, errlen);
		if (i < 0)
			return -1;
	}
	return i;
}

const char *
args_get(const Args *a, const char *name)
{
	int k = find_long(a->spec, name, strlen(name));

	return k < 0 ? NULL : a->value[k];
}

bool
args_has(const Args *a, const char *name)
{
	return args_get(a, name) != NULL;
}

void
args_print_options(const OptSpec *spec, FILE *out)
{
	int width = 0;
	char form[64];

	for (const OptSpec *o = spec; o->name; o++) {
		int n = snprintf(form, sizeof(form), "--%s%s%s", o->name, o->value ? " " : "",
				 o->value ? o->value : "");

		if (o->letter)
			n += 4;
		if (n > width)
			width = n;
	}
	for (const OptSpec *o = spec; o->name; o++) {
		char shortform[8] = "";

		if (o->letter)
			snprintf(shortform, sizeof(shortform), "-%c, ", o->letter);
		snprintf(form, sizeof(form), "%s--%s%s%s", shortform, o->name, o->value ? " " : "",
			 o->value ? o->value : "");
		fprintf(out, "  %-*s  %s\n", width, form, o->help);
	}
}

/*
 *********************************
 * Helpers
 *********************************
 */

static int
find_long(const OptSpec *spec, const char *name, size_t len)
{
	for (int k = 0; spec && spec[k].name; k++) {
		if (strlen(spec[k].name) == len && strncmp(spec[k].name, name, len) == 0)
			return k;
	}
	return -1;
}

static int
find_short(const OptSpec *spec, char letter)
{
	for (int k = 0; spec && spec[k].name; k++) {
		if (spec[k].letter == letter)
			return k;
	}
	return -1;
}

/* Take the option at argv[i] (and its value) into a or global; returns the
 * index after it, or -1 with a message in err. */
static int
take_option(Args *a, Args *global, int argc, char **argv, int i, char *err, size_t errlen)
{
	const char *arg = argv[i];
	const char *inline_value = NULL;
	Args *owner = a;
	int k;

	if (arg[1] == '-') {
		const char *eq = strchr(arg + 2, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);

		inline_value = eq ? eq + 1 : NULL;
		k = find_long(a->spec, arg + 2, len);
		if (k < 0 && global && (k = find_long(global->spec, arg + 2, len)) >= 0)
			owner = global;
	} else {
		inline_value = arg[2] ? arg + 2 : NULL;
		k = find_short(a->spec, arg[1]);
		if (k < 0 && global && (k = find_short(global->spec, arg[1])) >= 0)
			owner = global;
	}
	if (k < 0) {
		snprintf(err, errlen, "unknown option '%s'", arg);
		return -1;
	}
	if (owner->spec[k].value == NULL) {
		if (inline_value) {
			snprintf(err, errlen, "option --%s takes no value", owner->spec[k].name);
			return -1;
		}
		owner->value[k] = "";
		return i + 1;
	}
	if (inline_value == NULL) {
		if (i + 1 >= argc) {
			snprintf(err, errlen, "option --%s needs a value (%s)", owner->spec[k].name,
				 owner->spec[k].value);
			return -1;
		}
		inline_value = argv[++i];
	}
	owner->value[k] = inline_value;
	return i + 1;
}
