/* SPDX-License-Identifier: MIT
 * The CLI's output helpers: untrusted text made printable, one msgpack value as a cell,
 * a generic indented printer for whole replies, ISO times and aligned tables. Writes
 * only to the FILE it is given and knows nothing about ops.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentcom/json.h"
#include "cli.h"
#include "codec/mpw.h"

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

void
ac_cli_print_text(FILE *f, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		fputc(is_control((unsigned char)p[i]) ? '?' : p[i], f);
	}
}

static void
copy_text(char *buf, size_t cap, const char *p, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	for (size_t i = 0; i < n; i++) {
		buf[i] = is_control((unsigned char)p[i]) ? '?' : p[i];
	}
	buf[n] = '\0';
}

void
ac_cli_format_value(const msgpack_object *o, char *buf, size_t cap)
{
	switch (o == NULL ? MSGPACK_OBJECT_NIL : o->type) {
	case MSGPACK_OBJECT_NIL:
		snprintf(buf, cap, "-");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		snprintf(buf, cap, "%s", o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(buf, cap, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(buf, cap, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		snprintf(buf, cap, "%g", o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		if (o->via.str.size == 0) {
			snprintf(buf, cap, "-");
		} else {
			copy_text(buf, cap, o->via.str.ptr, o->via.str.size);
		}
		break;
	case MSGPACK_OBJECT_BIN:
		snprintf(buf, cap, "<%" PRIu32 " bytes>", o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		snprintf(buf, cap, "[%" PRIu32 "]", o->via.array.size);
		break;
	case MSGPACK_OBJECT_MAP:
		snprintf(buf, cap, "{%" PRIu32 "}", o->via.map.size);
		break;
	default:
		snprintf(buf, cap, "<ext>");
		break;
	}
}

/* --- the generic printer: YAML-like "key: value" lines --- */

static void print_value(FILE *f, const msgpack_object *o, int indent);

static bool
is_nested(const msgpack_object *o)
{
	return (o->type == MSGPACK_OBJECT_MAP && o->via.map.size > 0) ||
	    (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size > 0);
}

/* A value that fits on its line; strings in full, empty containers as {} and []. */
static void
print_scalar(FILE *f, const msgpack_object *o)
{
	char buf[64];

	if (o->type == MSGPACK_OBJECT_STR && o->via.str.size > 0) {
		ac_cli_print_text(f, o->via.str.ptr, o->via.str.size);
	} else if (o->type == MSGPACK_OBJECT_MAP || o->type == MSGPACK_OBJECT_ARRAY) {
		fputs(o->type == MSGPACK_OBJECT_MAP ? "{}" : "[]", f);
	} else {
		ac_cli_format_value(o, buf, sizeof(buf));
		fputs(buf, f);
	}
	fputc('\n', f);
}

static bool
is_skipped(const msgpack_object *k, const char *name)
{
	return name != NULL && k->type == MSGPACK_OBJECT_STR &&
	    k->via.str.size == strlen(name) && memcmp(k->via.str.ptr, name, k->via.str.size) == 0;
}

/* The pairs of map o at indent. With is_inline the first key goes on the current line,
 * right after an array's "- ". */
static void
print_pairs(FILE *f, const msgpack_object *o, int indent, bool is_inline, const char *skip)
{
	char key[256];

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		if (is_skipped(&kv->key, skip)) {
			continue;
		}
		if (!is_inline) {
			fprintf(f, "%*s", indent, "");
		}
		is_inline = false;
		if (kv->key.type == MSGPACK_OBJECT_STR) {
			ac_cli_print_text(f, kv->key.via.str.ptr, kv->key.via.str.size);
		} else {
			ac_cli_format_value(&kv->key, key, sizeof(key));
			fputs(key, f);
		}
		fputc(':', f);
		print_value(f, &kv->val, indent);
	}
}

static void
print_items(FILE *f, const msgpack_object *o, int indent)
{
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *item = &o->via.array.ptr[i];
		fprintf(f, "%*s-", indent, "");
		if (item->type == MSGPACK_OBJECT_MAP && is_nested(item)) {
			fputc(' ', f);
			print_pairs(f, item, indent + 2, true, NULL);
		} else {
			print_value(f, item, indent);
		}
	}
}

/* Whatever follows "key:" or "-": the rest of the line, or nested lines below it. */
static void
print_value(FILE *f, const msgpack_object *o, int indent)
{
	if (!is_nested(o)) {
		fputc(' ', f);
		print_scalar(f, o);
	} else if (o->type == MSGPACK_OBJECT_MAP) {
		fputc('\n', f);
		print_pairs(f, o, indent + 2, false, NULL);
	} else {
		fputc('\n', f);
		print_items(f, o, indent + 2);
	}
}

void
ac_cli_print_map(FILE *f, const msgpack_object *o, const char *skip)
{
	if (o->type == MSGPACK_OBJECT_MAP) {
		print_pairs(f, o, 0, false, skip);
	} else {
		print_scalar(f, o);
	}
}

void
ac_cli_format_time_ms(int64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, cap, "-");
	}
}

void
ac_cli_print_json_value(FILE *f, const msgpack_object *o)
{
	char *json = NULL;
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_object(&w, o);
	if (w.err != AC_OK || ac_msgpack_to_json(ac_mpw_data(&w), ac_mpw_len(&w), 0, &json) != AC_OK) {
		fputs("<cannot show as JSON>", f);
	} else {
		fputs(json, f); /* JSON escapes every control character: safe as it is */
	}
	free(json);
	ac_mpw_fini(&w);
}

static bool
is_key(const msgpack_object *k, const char *name, size_t len)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
	    memcmp(k->via.str.ptr, name, len) == 0;
}

const msgpack_object *
ac_cli_map_get(const msgpack_object *o, const char *key)
{
	size_t len = strcspn(key, ".");
	const msgpack_object *found = NULL;

	for (uint32_t i = 0; o != NULL && o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++) {
		if (is_key(&o->via.map.ptr[i].key, key, len)) {
			found = &o->via.map.ptr[i].val;
			break;
		}
	}
	return found != NULL && key[len] == '.' ? ac_cli_map_get(found, key + len + 1) : found;
}

/* --- aligned tables --- */

void
ac_cli_table_init(ac_cli_table *t, size_t col_count)
{
	memset(t, 0, sizeof(*t));
	t->col_count = col_count;
}

void
ac_cli_table_add(ac_cli_table *t, const char *cell)
{
	if (t->is_failed) {
		return;
	}
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **cells = realloc(t->cells, cap * sizeof(*cells));
		if (cells == NULL) {
			t->is_failed = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	if ((t->cells[t->count] = strdup(cell)) == NULL) {
		t->is_failed = true;
		return;
	}
	t->count++;
}

bool
ac_cli_table_print(const ac_cli_table *t, FILE *f)
{
	size_t *width;

	if (t->is_failed || (width = calloc(t->col_count, sizeof(*width))) == NULL) {
		return false;
	}
	for (size_t i = 0; i < t->count; i++) {
		size_t n = strlen(t->cells[i]);
		if (n > width[i % t->col_count]) {
			width[i % t->col_count] = n;
		}
	}
	for (size_t i = 0; i < t->count; i++) {
		size_t col = i % t->col_count;
		if (col + 1 == t->col_count || i + 1 == t->count) {
			fprintf(f, "%s\n", t->cells[i]);
		} else {
			fprintf(f, "%-*s  ", (int)width[col], t->cells[i]);
		}
	}
	free(width);
	return true;
}

/* Characters (UTF-8 lead bytes) in s. */
static size_t
count_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += ((unsigned char)*s & 0xc0) != 0x80;
	}
	return n;
}

/* Cuts s after its first keep characters and appends "..." (s has room: it had more
 * than keep + 3 characters, each at least one byte). */
static void
cut_chars(char *s, size_t keep)
{
	size_t i = 0;

	for (size_t n = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == keep) {
			break;
		}
	}
	memcpy(s + i, "...", 4);
}

void
ac_cli_table_fit(ac_cli_table *t, size_t width, size_t min_width)
{
	size_t used = 0, last = t->col_count - 1, room;

	for (size_t col = 0; col < last; col++) {
		size_t w = 0;
		for (size_t i = col; i < t->count; i += t->col_count) {
			size_t n = strlen(t->cells[i]);
			w = n > w ? n : w;
		}
		used += w + 2;
	}
	room = width > used ? width - used : 0;
	room = room < min_width ? min_width : room;
	room = room < 4 ? 4 : room;
	for (size_t i = last; i < t->count; i += t->col_count) {
		if (count_chars(t->cells[i]) > room) {
			cut_chars(t->cells[i], room - 3);
		}
	}
}

void
ac_cli_table_fini(ac_cli_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->cells[i]);
	}
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
