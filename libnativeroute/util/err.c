#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int nr_err_set(struct nr_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void nr_err_clear(struct nr_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
