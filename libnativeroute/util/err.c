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

int nr_err_prefix(struct nr_err *err, int code, const char *fmt, ...)
{
	char inner[NR_ERR_MSG_MAX], head[NR_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return code;
	/* copy first: the new text is built from the old one */
	snprintf(inner, sizeof(inner), "%s", err->msg);
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	{ /* head + inner, truncated to fit (memcpy: no truncation warnings) */
		size_t h = strnlen(head, sizeof(err->msg) - 1);
		size_t i = strnlen(inner, sizeof(err->msg) - 1 - h);

		memcpy(err->msg, head, h);
		memcpy(err->msg + h, inner, i);
		err->msg[h + i] = '\0';
	}
	if (!err->code)
		err->code = code;
	return err->code;
}

void nr_err_clear(struct nr_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
