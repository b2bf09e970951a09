/* Ending a command: the exit code, and errors reported the same way by
 * every command (stderr for people; with -o json also an error object on
 * stdout). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <nativeroute/error.h>

#include "nrctl.h"

const char *prog = "nrctl";

static void on_closed(struct nr_client *c, void *data)
{
	(void)c;
	(void)data;
}

void finish(struct app *a, int code)
{
	if (code > a->exit_code)
		a->exit_code = code;
	if (a->client) {
		nr_client_close(a->client, on_closed, a);
		a->client = NULL;
	}
	if (!uv_is_closing((uv_handle_t *)&a->sigint))
		uv_close((uv_handle_t *)&a->sigint, NULL);
}

static int exit_code_of(int status)
{
	switch (status) {
	case -EPERM:
	case -EACCES:
		return EXIT_DENIED;
	case -ECONNRESET:
	case -ECONNREFUSED:
	case -ETIMEDOUT:
	case -ENOTCONN:
	case -EPIPE:
	case -EPROTO:
		return EXIT_UNREACHABLE;
	default:
		return EXIT_FAILED;
	}
}

/* Whether text already ends with "(ENAME)": kernel errors arrive that way. */
static bool names_errno(const char *text, const char *name)
{
	size_t lt = strlen(text), ln = strlen(name);

	return lt >= ln + 2 && text[lt - 1] == ')' && text[lt - ln - 2] == '(' &&
	       !strncmp(text + lt - ln - 1, name, ln);
}

/* Report a failed operation and stop. */
static void fail_op(struct app *a, int status, const char *errmsg)
{
	const char *text = errmsg && *errmsg ? errmsg : nr_strerror(status);

	if (names_errno(text, nr_err_name(status)))
		fprintf(stderr, "%s: %s: %s\n", prog, a->cmd->name, text);
	else
		fprintf(stderr, "%s: %s: %s (%s)\n", prog, a->cmd->name, text, nr_err_name(status));
	if (a->json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_obj(&j, NULL);
		json_begin_obj(&j, "error");
		json_i64(&j, "code", status);
		json_str(&j, "name", nr_err_name(status));
		json_str(&j, "message", errmsg && *errmsg ? errmsg : nr_strerror(status));
		json_end_obj(&j);
		json_end_obj(&j);
		json_done(&j);
	}
	finish(a, exit_code_of(status));
}

int started(struct app *a, int rc)
{
	if (rc < 0)
		fail_op(a, rc, nr_last_errmsg());
	return rc;
}

bool failed(struct app *a, int status, const char *errmsg)
{
	if (status >= 0)
		return false;
	fail_op(a, status, errmsg);
	return true;
}

int usage_error(struct app *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	finish(a, EXIT_USAGE);
	return -EINVAL;
}
