#include "util/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for `more` bytes plus the NUL, doubling so that n appends cost
 * O(total) copies. */
static bool grow(struct nr_strbuf *b, size_t more)
{
	size_t need, cap;
	char *s;

	if (b->oom)
		return false;
	if (more > (size_t)-1 - b->len - 1)
		goto fail;
	need = b->len + more + 1;
	if (b->s && need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	s = realloc(b->s, cap);
	if (!s)
		goto fail;
	if (!b->s)
		s[0] = '\0';
	b->s = s;
	b->cap = cap;
	return true;
fail:
	b->oom = true;
	return false;
}

bool nr_strbuf_reserve(struct nr_strbuf *b, size_t hint)
{
	return grow(b, hint);
}

void nr_strbuf_vprintf(struct nr_strbuf *b, const char *fmt, va_list ap)
{
	size_t room = b->s && !b->oom ? b->cap - b->len : 0;
	va_list again;
	int n;

	if (b->oom)
		return;
	/* Format into the room there is; only if it did not fit, grow once to
	 * the size vsnprintf reported and format again. */
	va_copy(again, ap);
	n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
	if (n < 0) {
		b->oom = true;
	} else if ((size_t)n < room || grow(b, (size_t)n)) {
		if ((size_t)n >= room)
			vsnprintf(b->s + b->len, b->cap - b->len, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void nr_strbuf_printf(struct nr_strbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nr_strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

void nr_strbuf_append(struct nr_strbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

char *nr_strbuf_finish(struct nr_strbuf *b, size_t *len)
{
	char *s;

	if (!b->oom && !b->s)
		grow(b, 0);
	if (b->oom) {
		nr_strbuf_free(b);
		return NULL;
	}
	s = b->s;
	if (len)
		*len = b->len;
	*b = (struct nr_strbuf){ 0 };
	return s;
}

void nr_strbuf_free(struct nr_strbuf *b)
{
	free(b->s);
	*b = (struct nr_strbuf){ 0 };
}
