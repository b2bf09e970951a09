#include "json.h"

#include <inttypes.h>

void json_init(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
}

static void item(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (key) {
		fputc('"', j->out);
		fputs(key, j->out);
		fputs("\":", j->out);
	}
}

static void escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

static void open_level(struct json *j, const char *key, char c)
{
	item(j, key);
	fputc(c, j->out);
	if (j->depth < 31)
		j->depth++;
	j->first[j->depth] = true;
}

void json_begin_obj(struct json *j, const char *key) { open_level(j, key, '{'); }
void json_begin_arr(struct json *j, const char *key) { open_level(j, key, '['); }

void json_end_obj(struct json *j)
{
	j->depth--;
	fputc('}', j->out);
}

void json_end_arr(struct json *j)
{
	j->depth--;
	fputc(']', j->out);
}

void json_str(struct json *j, const char *key, const char *val)
{
	item(j, key);
	if (val)
		escaped(j->out, val);
	else
		fputs("null", j->out);
}

void json_opt_str(struct json *j, const char *key, const char *val)
{
	json_str(j, key, val && *val ? val : NULL);
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	item(j, key);
	fprintf(j->out, "%" PRIu64, val);
}

void json_i64(struct json *j, const char *key, int64_t val)
{
	item(j, key);
	fprintf(j->out, "%" PRId64, val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	item(j, key);
	fputs(val ? "true" : "false", j->out);
}

void json_done(struct json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
	j->first[0] = true;
}
