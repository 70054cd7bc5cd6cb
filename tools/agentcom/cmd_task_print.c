/* SPDX-License-Identifier: MIT
 * Human views of a task record (DESIGN §3): the multi-line view of `agentcom get`, one
 * table per field, and the one-row form of `agentcom list`. Reads the task map as the
 * server sent it, omits what is absent, and makes all server text printable; it sends
 * nothing and knows no op.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

#define LABEL_WIDTH 14 /* "verification: " */
#define VIEW_WIDTH 100 /* wrapped text ends before this column */
#define DESC_CELL_MAX 1024 /* bytes of description kept for a list row; cut to fit later */

typedef void (*field_fn)(FILE *f, const msgpack_object *task, const msgpack_object *v);

/* One line (or block) of the view: label, the task key it shows, how. */
typedef struct view_field {
	const char *label;
	const char *key;
	field_fn print;
} view_field;

static bool
is_str(const msgpack_object *o, const char *s)
{
	return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* Absent for the view: missing, nil, "" or an empty array or map. */
static bool
is_absent(const msgpack_object *o)
{
	return o == NULL || o->type == MSGPACK_OBJECT_NIL ||
	    (o->type == MSGPACK_OBJECT_STR && o->via.str.size == 0) ||
	    (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 0) ||
	    (o->type == MSGPACK_OBJECT_MAP && o->via.map.size == 0);
}

/* A scalar: strings in full (made printable), anything else as a table cell. */
static void
put_value(FILE *f, const msgpack_object *o)
{
	char buf[64];

	if (o != NULL && o->type == MSGPACK_OBJECT_STR) {
		ac_cli_print_text(f, o->via.str.ptr, o->via.str.size);
	} else {
		ac_cli_format_value(o, buf, sizeof(buf));
		fputs(buf, f);
	}
}

static void
put_time(FILE *f, const msgpack_object *o)
{
	char buf[64];

	if (o != NULL && (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
		ac_cli_format_time_ms(o->via.i64, buf, sizeof(buf));
		fputs(buf, f);
	} else {
		put_value(f, o);
	}
}

/* The start of a continuation line of a field's value. */
static void
indent(FILE *f)
{
	fprintf(f, "\n%*s", LABEL_WIDTH, "");
}

static size_t
count_chars(const char *p, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		n += ((unsigned char)p[i] & 0xc0) != 0x80;
	}
	return n;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Text word-wrapped to end before VIEW_WIDTH; the text's own newlines are kept (with
 * no trailing blanks on an empty line), runs of blanks become one space, and a word
 * longer than a line gets a line of its own. */
static void
put_wrapped(FILE *f, const char *p, size_t len)
{
	size_t i = 0, col = 0, room = VIEW_WIDTH - LABEL_WIDTH;
	bool is_line_start = false; /* after a newline of the text: indent before a word */

	while (len > 0 && (p[len - 1] == '\n' || is_blank(p[len - 1]))) {
		len--; /* newlines at either end would leave empty lines */
	}
	while (i < len && (p[i] == '\n' || is_blank(p[i]))) {
		i++;
	}
	while (i < len) {
		size_t j = i, n;
		if (p[i] == '\n' || is_blank(p[i])) {
			if (p[i++] == '\n') {
				fputc('\n', f);
				is_line_start = true;
				col = 0;
			}
			continue;
		}
		while (j < len && p[j] != '\n' && !is_blank(p[j])) {
			j++;
		}
		n = count_chars(p + i, j - i);
		if (is_line_start || (col > 0 && col + 1 + n > room)) {
			fprintf(f, "%s%*s", is_line_start ? "" : "\n", LABEL_WIDTH, "");
			is_line_start = false;
			col = 0;
		}
		fputs(col > 0 ? " " : "", f);
		col += col > 0;
		ac_cli_print_text(f, p + i, j - i);
		col += n;
		i = j;
	}
}

/* --- the field printers: each writes the value part of its line, no newline --- */

static void
field_value(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	put_value(f, v);
}

static void
field_time(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	put_time(f, v);
}

static void
field_wrapped(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	if (v->type == MSGPACK_OBJECT_STR) {
		put_wrapped(f, v->via.str.ptr, v->via.str.size);
	} else {
		put_value(f, v);
	}
}

/* complexity: "standard", "standard (explicit)" when the submitter chose it. */
static void
field_tier(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	put_value(f, ac_cli_map_get(v, "effective_tier"));
	if (is_str(ac_cli_map_get(v, "source"), "explicit")) {
		fputs(" (explicit)", f);
	}
}

/* retry_count: "1/3", against max_retries. */
static void
field_retries(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	put_value(f, v);
	fputc('/', f);
	put_value(f, ac_cli_map_get(task, "max_retries"));
}

/* An array of strings as "a, b, c". */
static void
field_list(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	if (v->type != MSGPACK_OBJECT_ARRAY) {
		put_value(f, v);
		return;
	}
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		fputs(i > 0 ? ", " : "", f);
		put_value(f, &v->via.array.ptr[i]);
	}
}

/* An array as one line per item; maps through item_fn. */
static void
put_lines(FILE *f, const msgpack_object *v, void (*item_fn)(FILE *, const msgpack_object *))
{
	if (v->type != MSGPACK_OBJECT_ARRAY) {
		put_value(f, v);
		return;
	}
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		if (i > 0) {
			indent(f);
		}
		item_fn(f, &v->via.array.ptr[i]);
	}
}

/* " (text)" when key of map o is present. */
static void
put_paren(FILE *f, const msgpack_object *o, const char *key)
{
	const msgpack_object *v = ac_cli_map_get(o, key);

	if (!is_absent(v)) {
		fputs(" (", f);
		put_value(f, v);
		fputc(')', f);
	}
}

/* file_hints item: "src/a.c (why)". */
static void
put_hint(FILE *f, const msgpack_object *o)
{
	put_value(f, ac_cli_map_get(o, "path"));
	put_paren(f, o, "reason");
}

/* verification_steps item: "test: make check (what it proves)". */
static void
put_step(FILE *f, const msgpack_object *o)
{
	put_value(f, ac_cli_map_get(o, "type"));
	fputs(": ", f);
	put_value(f, ac_cli_map_get(o, "target"));
	put_paren(f, o, "description");
}

/* history item: "2026-11-26T23:50:01Z  queued  submitted". */
static void
put_event(FILE *f, const msgpack_object *o)
{
	const msgpack_object *detail = ac_cli_map_get(o, "detail");

	put_time(f, ac_cli_map_get(o, "at_ms"));
	fputs("  ", f);
	put_value(f, ac_cli_map_get(o, "event"));
	if (!is_absent(detail)) {
		fputs("  ", f);
		put_value(f, detail);
	}
}

static void
put_scalar_item(FILE *f, const msgpack_object *o)
{
	put_value(f, o);
}

static void
field_items(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	put_lines(f, v, put_scalar_item);
}

static void
field_hints(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	put_lines(f, v, put_hint);
}

static void
field_steps(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	put_lines(f, v, put_step);
}

/* The server keeps history newest first (DESIGN §3), which is the order shown. */
static void
field_history(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	put_lines(f, v, put_event);
}

/* routing_decision: "tier complex, target claude, endpoint claude_api, model claude
 * [FALLBACK from standard: no_healthy_ollama_endpoints]"; parts that are absent are
 * left out (a sidecar decision has no endpoint and no model). */
static void
field_routing(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	static const char *const parts[][2] = { { "tier", "effective_tier" },
		{ "target", "target_type" }, { "endpoint", "selected_endpoint" },
		{ "model", "selected_model" } };
	const msgpack_object *used = ac_cli_map_get(v, "fallback_used");
	bool is_first = true;

	(void)task;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const msgpack_object *p = ac_cli_map_get(v, parts[i][1]);
		if (!is_absent(p)) {
			fprintf(f, "%s%s ", is_first ? "" : ", ", parts[i][0]);
			put_value(f, p);
			is_first = false;
		}
	}
	if (used != NULL && used->type == MSGPACK_OBJECT_BOOLEAN && used->via.boolean) {
		fputs(is_first ? "[FALLBACK from " : " [FALLBACK from ", f);
		put_value(f, ac_cli_map_get(v, "fallback_from_tier"));
		fputs(": ", f);
		put_value(f, ac_cli_map_get(v, "fallback_reason"));
		fputc(']', f);
	}
}

static void
field_json(FILE *f, const msgpack_object *task, const msgpack_object *v)
{
	(void)task;
	ac_cli_print_json_value(f, v);
}

/* The view, in the order of the brief: identity and state, the spec, the outcome. */
static const view_field view_fields[] = {
	{ "id", "id", field_value },
	{ "status", "status", field_value },
	{ "priority", "priority", field_value },
	{ "generation", "generation", field_value },
	{ "tier", "complexity", field_tier },
	{ "assigned_to", "assigned_to", field_value },
	{ "retries", "retry_count", field_retries },
	{ "reclaims", "reclaim_count", field_value },
	{ "created", "created_at_ms", field_time },
	{ "updated", "updated_at_ms", field_time },
	{ "description", "description", field_wrapped },
	{ "repo", "repo", field_value },
	{ "branch", "branch", field_value },
	{ "capabilities", "needed_capabilities", field_list },
	{ "targets", "targets", field_list },
	{ "model", "model", field_value },
	{ "file_hints", "file_hints", field_hints },
	{ "criteria", "success_criteria", field_items },
	{ "verification", "verification_steps", field_steps },
	{ "metadata", "metadata", field_json },
	{ "routing", "routing_decision", field_routing },
	{ "pending", "pending_reason", field_value },
	{ "last_error", "last_error", field_wrapped },
	{ "result", "result", field_json },
	{ "history", "history", field_history },
};

void
ac_cli_print_task(FILE *f, const msgpack_object *task)
{
	for (size_t i = 0; i < sizeof(view_fields) / sizeof(view_fields[0]); i++) {
		const view_field *vf = &view_fields[i];
		const msgpack_object *v = ac_cli_map_get(task, vf->key);
		if (is_absent(v)) {
			continue;
		}
		fprintf(f, "%s:%*s", vf->label, LABEL_WIDTH - 1 - (int)strlen(vf->label), "");
		vf->print(f, task, v);
		fputc('\n', f);
	}
}

/* --- list rows --- */

void
ac_cli_task_header(ac_cli_table *t)
{
	static const char *const header[AC_CLI_TASK_COLUMNS] = { "ID", "STATUS", "PRIO", "TIER",
		"GEN", "AGENT", "AGE", "DESCRIPTION" };

	for (size_t i = 0; i < AC_CLI_TASK_COLUMNS; i++) {
		ac_cli_table_add(t, header[i]);
	}
}

/* "3s", "5m", "2h", "4d": the largest unit that is at least 1. */
static void
format_age(const msgpack_object *created, int64_t now_ms, char *buf, size_t cap)
{
	int64_t s;

	if (created == NULL || (created->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    created->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
		snprintf(buf, cap, "-");
		return;
	}
	s = (now_ms - created->via.i64) / 1000;
	s = s < 0 ? 0 : s; /* the server's clock may run a little ahead of ours */
	if (s < 60) {
		snprintf(buf, cap, "%" PRId64 "s", s);
	} else if (s < 3600) {
		snprintf(buf, cap, "%" PRId64 "m", s / 60);
	} else if (s < 86400) {
		snprintf(buf, cap, "%" PRId64 "h", s / 3600);
	} else {
		snprintf(buf, cap, "%" PRId64 "d", s / 86400);
	}
}

/* The description on one line: runs of blanks and newlines become one space (none at
 * either end), other control characters '?'; cut at a character boundary when longer
 * than the buffer. */
static void
format_oneline(const msgpack_object *o, char *buf, size_t cap)
{
	size_t out = 0;
	uint32_t i = 0;

	if (o == NULL || o->type != MSGPACK_OBJECT_STR) {
		ac_cli_format_value(o, buf, cap);
		return;
	}
	for (; i < o->via.str.size && out < cap - 1; i++) {
		unsigned char c = (unsigned char)o->via.str.ptr[i];
		if (c == '\n' || is_blank((char)c)) {
			c = ' ';
		} else if (c < 0x20 || c == 0x7f) {
			c = '?';
		}
		if (c != ' ' || (out > 0 && buf[out - 1] != ' ')) {
			buf[out++] = (char)c;
		}
	}
	if (i < o->via.str.size) {
		/* cut short: drop the last character, which the cut may have split */
		while (out > 0 && ((unsigned char)buf[out - 1] & 0xc0) == 0x80) {
			out--;
		}
		out -= out > 0;
	}
	while (out > 0 && buf[out - 1] == ' ') {
		out--;
	}
	buf[out] = '\0';
}

void
ac_cli_task_row(ac_cli_table *t, const msgpack_object *task, int64_t now_ms)
{
	static const char *const keys[] = { "id", "status", "priority",
		"complexity.effective_tier", "generation", "assigned_to" };
	char cell[DESC_CELL_MAX];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ac_cli_format_value(ac_cli_map_get(task, keys[i]), cell, 256);
		ac_cli_table_add(t, cell);
	}
	format_age(ac_cli_map_get(task, "created_at_ms"), now_ms, cell, sizeof(cell));
	ac_cli_table_add(t, cell);
	format_oneline(ac_cli_map_get(task, "description"), cell, sizeof(cell));
	ac_cli_table_add(t, cell);
}
