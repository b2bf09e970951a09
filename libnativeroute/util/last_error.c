#include "util/last_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nativeroute/controller.h"
#include "nativeroute/error.h"

static _Thread_local char nr_last_error_text[NR_ERR_MSG_MAX];

int nr_last_error_set_from(const struct nr_err *err, int code)
{
	if (err && err->code) {
		code = err->code;
		snprintf(nr_last_error_text, sizeof(nr_last_error_text), "%s",
			 err->msg[0] ? err->msg : nr_strerror(code));
	} else {
		snprintf(nr_last_error_text, sizeof(nr_last_error_text), "%s", nr_strerror(code));
	}
	return code;
}

int nr_last_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nr_last_error_text, sizeof(nr_last_error_text), fmt, ap);
	va_end(ap);
	return code;
}

void nr_last_error_clear(void)
{
	nr_last_error_text[0] = '\0';
}

NR_API const char *nr_last_errmsg(void)
{
	return nr_last_error_text;
}
