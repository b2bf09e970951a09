/* A growing text buffer for code that renders text with printf formats
 * (the masquerade rules, the state file). Appends never fail one by one:
 * the first allocation failure marks the buffer, later appends do nothing,
 * and nr_strbuf_finish() reports it once - so a renderer is a plain list of
 * appends with one check at the end. */
#ifndef NR_UTIL_STRBUF_H
#define NR_UTIL_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct nr_strbuf {
	char *s;        /* NUL-terminated once anything was appended; NULL before */
	size_t len;     /* bytes of text, without the NUL */
	size_t cap;
	bool oom;       /* an append could not allocate: the text is incomplete */
};

/* Reserve room for `hint` bytes up front (a guess: the buffer still grows);
 * false (and the buffer marked) when that cannot be allocated. A zeroed
 * struct is a valid empty buffer without this call. */
bool nr_strbuf_reserve(struct nr_strbuf *b, size_t hint);

/* Append formatted text. */
void nr_strbuf_printf(struct nr_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same with a va_list (for a caller's own printf-like wrapper). */
void nr_strbuf_vprintf(struct nr_strbuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Append n bytes of s (no format: the fast path for known strings). */
void nr_strbuf_append(struct nr_strbuf *b, const char *s, size_t n);

/* The text, handed to the caller (free() it) with its length in *len (may
 * be NULL); "" for a buffer nothing was appended to. NULL after an
 * allocation failure: the buffer is freed either way and left empty. */
char *nr_strbuf_finish(struct nr_strbuf *b, size_t *len);

/* Drop the text (a renderer that gives up). */
void nr_strbuf_free(struct nr_strbuf *b);

#endif
