/* util/strbuf: the growing text buffer of the renderers (masquerade rules). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

Test(strbuf, empty_buffer_finishes_as_empty_string)
{
	struct nr_strbuf b = { 0 };
	size_t len = 99;
	char *s = nr_strbuf_finish(&b, &len);

	cr_assert_not_null(s);
	cr_assert_str_eq(s, "");
	cr_assert_eq(len, 0);
	free(s);
}

Test(strbuf, appends_keep_order_across_many_reallocations)
{
	struct nr_strbuf b = { 0 };
	char want[20000] = "";
	size_t wlen = 0, len;
	char *s;

	for (int i = 0; i < 2000; i++) {
		nr_strbuf_printf(&b, "%d,", i);
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen, "%d,", i);
		nr_strbuf_append(&b, "ab", 1);
		want[wlen++] = 'a';
		want[wlen] = '\0';
	}
	s = nr_strbuf_finish(&b, &len);
	cr_assert_eq(len, wlen);
	cr_assert_eq(strlen(s), wlen);
	cr_assert_str_eq(s, want);
	free(s);
}

Test(strbuf, one_append_larger_than_the_buffer_fits_whole)
{
	struct nr_strbuf b = { 0 };
	char big[5000];
	char *s;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nr_strbuf_printf(&b, "<%s>", big);
	s = nr_strbuf_finish(&b, NULL);
	cr_assert_eq(strlen(s), sizeof(big) - 1 + 2);
	cr_assert_eq(s[0], '<');
	cr_assert_eq(s[sizeof(big)], '>');
	free(s);
}

Test(strbuf, reserve_then_printf_uses_the_room)
{
	struct nr_strbuf b = { 0 };
	char *s;

	cr_assert(nr_strbuf_reserve(&b, 100));
	cr_assert_geq(b.cap, 101);
	nr_strbuf_printf(&b, "%s=%u", "mtu", 1450u);
	cr_assert_eq(b.cap >= 101 && b.len == 8, true);
	s = nr_strbuf_finish(&b, NULL);
	cr_assert_str_eq(s, "mtu=1450");
	free(s);
}

Test(strbuf, failed_allocation_sticks_and_finish_returns_null)
{
	struct nr_strbuf b = { 0 };
	size_t len = 7;

	nr_strbuf_printf(&b, "before");
	cr_assert_not(nr_strbuf_reserve(&b, SIZE_MAX - 2)); /* cannot fit the NUL: refused */
	cr_assert(b.oom);
	nr_strbuf_printf(&b, "after");
	nr_strbuf_append(&b, "more", 4);
	cr_assert_null(nr_strbuf_finish(&b, &len));
	cr_assert_eq(len, 7, "len is left alone on failure");
	cr_assert_null(b.s);
	cr_assert_not(b.oom, "the buffer is empty and usable again");
}

/* A caller's own printf-like wrapper (the state file encoder counts its
 * records this way): vprintf must survive the re-format after a grow. */
__attribute__((format(printf, 2, 3)))
static void counted(struct nr_strbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nr_strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

Test(strbuf, vprintf_through_a_wrapper_formats_again_after_growing)
{
	struct nr_strbuf b = { 0 };
	char big[3000];
	char *s;

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	counted(&b, "%s", "head ");
	counted(&b, "%d %s %d", 7, big, 9); /* does not fit the first 256 bytes */
	s = nr_strbuf_finish(&b, NULL);
	cr_assert_eq(strncmp(s, "head 7 yyy", 10), 0);
	cr_assert_eq(strlen(s), 5 + 2 + sizeof(big) - 1 + 2);
	cr_assert_str_eq(s + strlen(s) - 2, " 9");
	free(s);
}
