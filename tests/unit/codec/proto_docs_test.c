/* SPDX-License-Identifier: MIT
 * Keeps proto/ops.md in step with the op table (src/codec/ops.c): every op has one
 * "## `op`" section whose request table (the table under its "Request:" line) lists
 * exactly the fields of the op's schema, each with its msgpack type and whether it is
 * required, and the document has no section for an op the table lacks. Reads the file
 * at $AGENTCOM_SOURCE_ROOT/proto/ops.md (set by tests/meson.build), else ../proto/ops.md
 * or proto/ops.md (a run by hand from the build directory or the source root).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "codec/ops.h"

#define HEADER "| field | type | required | limits |"
#define CELL_MAX 96
#define ROWS_MAX 64

/* ops.md split into NUL-terminated lines (they point into text). */
typedef struct doc {
	char *text;
	char **lines;
	size_t count;
} doc;

/* One row of a request table: the name in backticks of the first cell (empty when the
 * cell has none, e.g. "*(none)*"), and the type and required cells, trimmed. */
typedef struct row {
	char name[CELL_MAX];
	char type[CELL_MAX];
	char required[CELL_MAX];
} row;

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void doc_load(doc *d)
{
	const char *root = getenv("AGENTCOM_SOURCE_ROOT");
	char path[1024];
	size_t cap = 1;

	if (root != NULL && root[0] != '\0') {
		snprintf(path, sizeof(path), "%s/proto/ops.md", root);
		d->text = read_all(path);
	} else { /* run by hand: from the build directory, or from the source root */
		snprintf(path, sizeof(path), "%s", "../proto/ops.md");
		if ((d->text = read_all(path)) == NULL) {
			snprintf(path, sizeof(path), "%s", "proto/ops.md");
			d->text = read_all(path);
		}
	}
	cr_assert_not_null(d->text, "cannot read %s (set AGENTCOM_SOURCE_ROOT)", path);
	for (const char *p = d->text; *p; p++) {
		cap += *p == '\n';
	}
	d->lines = calloc(cap, sizeof(*d->lines));
	cr_assert_not_null(d->lines);
	d->count = 0;
	for (char *p = d->text, *nl; p != NULL; p = nl != NULL ? nl + 1 : NULL) {
		if ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
		}
		if (nl != NULL && nl > p && nl[-1] == '\r') {
			nl[-1] = '\0';
		}
		d->lines[d->count++] = p;
	}
}

static void doc_free(doc *d)
{
	free(d->lines);
	free(d->text);
}

/* The op name of a "## `name`" heading line, copied into out; false for other lines. */
static bool heading_op(const char *line, char *out, size_t cap)
{
	const char *end;

	if (strncmp(line, "## `", 4) != 0 || (end = strchr(line + 4, '`')) == NULL ||
	    (size_t)(end - (line + 4)) >= cap) {
		return false;
	}
	memcpy(out, line + 4, (size_t)(end - (line + 4)));
	out[end - (line + 4)] = '\0';
	return true;
}

/* Index of the heading line of op's section, -1 when absent; *count how many there are. */
static long find_section(const doc *d, const char *op, int *count)
{
	char name[CELL_MAX];
	long at = -1;

	*count = 0;
	for (size_t i = 0; i < d->count; i++) {
		if (heading_op(d->lines[i], name, sizeof(name)) && strcmp(name, op) == 0) {
			at = at < 0 ? (long)i : at;
			(*count)++;
		}
	}
	return at;
}

/* The line after the last one of the section starting at line start. */
static size_t section_end(const doc *d, size_t start)
{
	size_t i = start + 1;

	while (i < d->count && strncmp(d->lines[i], "# ", 2) != 0 &&
	    strncmp(d->lines[i], "## ", 3) != 0) {
		i++;
	}
	return i;
}

/* Copies s[0..len) trimmed of blanks into out. */
static void copy_trimmed(const char *s, size_t len, char *out, size_t cap)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
		len--;
	}
	len = len < cap - 1 ? len : cap - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

/* Splits a table line "| a | b | c |" into cells (a "\|" stays inside its cell).
 * Returns the number of cells, at most max. */
static int split_cells(const char *line, char cells[][CELL_MAX], int max)
{
	const char *p = strchr(line, '|');
	int n = 0;

	while (p != NULL && n < max) {
		const char *q = p + 1;
		while (*q != '\0' && !(*q == '|' && q[-1] != '\\')) {
			q++;
		}
		if (*q == '\0') {
			break; /* the text after the last pipe is not a cell */
		}
		copy_trimmed(p + 1, (size_t)(q - p - 1), cells[n++], CELL_MAX);
		p = q;
	}
	return n;
}

/* Reads the request table of the section [start, end): the table that follows its
 * "Request:" line, blank lines allowed between. Returns the number of rows, or -1
 * when there is no "Request:" line or no table with the exact header under it. */
static int request_rows(const doc *d, size_t start, size_t end, row *rows, int max)
{
	char cells[4][CELL_MAX];
	size_t i = start;
	int n = 0;

	while (i < end && strcmp(d->lines[i], "Request:") != 0) {
		i++;
	}
	for (i++; i < end && d->lines[i][0] == '\0'; i++) {
	}
	if (i + 1 >= end || strcmp(d->lines[i], HEADER) != 0 || strncmp(d->lines[i + 1], "|-", 2) != 0) {
		return -1;
	}
	for (i += 2; i < end && d->lines[i][0] == '|' && n < max; i++, n++) {
		const char *tick, *end_tick;
		memset(&rows[n], 0, sizeof(rows[n]));
		if (split_cells(d->lines[i], cells, 4) != 4) {
			cr_expect(false, "malformed request row: %s", d->lines[i]);
			return -1;
		}
		tick = strchr(cells[0], '`');
		end_tick = tick != NULL ? strchr(tick + 1, '`') : NULL;
		if (end_tick != NULL) {
			copy_trimmed(tick + 1, (size_t)(end_tick - tick - 1), rows[n].name, CELL_MAX);
		}
		snprintf(rows[n].type, CELL_MAX, "%s", cells[1]);
		snprintf(rows[n].required, CELL_MAX, "%s", cells[2]);
	}
	return n;
}

/* The type column's text for a field type; NULL for AC_FT_ANY, whose shape the op's
 * handler checks (any text is accepted there). */
static const char *type_text(ac_ftype t)
{
	static const char *const names[] = {
		[AC_FT_STR] = "str",
		[AC_FT_ID] = "str",
		[AC_FT_UINT] = "uint",
		[AC_FT_INT] = "int",
		[AC_FT_REAL] = "float",
		[AC_FT_FLAG] = "bool",
		[AC_FT_CHOICE] = "str",
		[AC_FT_STRS] = "array of str",
		[AC_FT_OBJ] = "map",
		[AC_FT_OBJS] = "array of map",
		[AC_FT_MAP] = "map",
		[AC_FT_ANY] = NULL,
	};
	return names[t];
}

static const ac_field *schema_field(const ac_schema *s, const char *name)
{
	for (uint16_t i = 0; i < s->count; i++) {
		if (strcmp(s->fields[i].name, name) == 0) {
			return &s->fields[i];
		}
	}
	return NULL;
}

Test(proto_docs, every_op_has_exactly_one_section)
{
	size_t n;
	const ac_op_desc *ops = ac_ops_all(&n);
	doc d;

	doc_load(&d);
	for (size_t i = 0; i < n; i++) {
		int count;
		find_section(&d, ops[i].name, &count);
		cr_expect_eq(count, 1, "proto/ops.md has %d sections \"## `%s`\" (want 1)", count,
		    ops[i].name);
	}
	doc_free(&d);
}

Test(proto_docs, request_tables_list_exactly_the_schema_fields)
{
	size_t n;
	const ac_op_desc *ops = ac_ops_all(&n);
	row rows[ROWS_MAX];
	doc d;

	doc_load(&d);
	for (size_t i = 0; i < n; i++) {
		const ac_schema *s = ops[i].schema;
		int count, nrows;
		long at = find_section(&d, ops[i].name, &count);

		if (at < 0) {
			continue; /* reported by every_op_has_exactly_one_section */
		}
		nrows = request_rows(&d, (size_t)at, section_end(&d, (size_t)at), rows, ROWS_MAX);
		cr_expect_geq(nrows, 0, "%s: no \"Request:\" line with a table \"%s\" under it",
		    ops[i].name, HEADER);
		for (uint16_t f = 0; nrows >= 0 && f < s->count; f++) {
			const ac_field *fd = &s->fields[f];
			const char *want = type_text(fd->type);
			int found = 0;
			for (int r = 0; r < nrows; r++) {
				if (strcmp(rows[r].name, fd->name) != 0) {
					continue;
				}
				found++;
				cr_expect(want == NULL || strcmp(rows[r].type, want) == 0,
				    "%s.%s: type is \"%s\", the schema says \"%s\"", ops[i].name, fd->name,
				    rows[r].type, want != NULL ? want : "");
				cr_expect_str_eq(rows[r].required, fd->required ? "yes" : "no",
				    "%s.%s: required is \"%s\", the schema says \"%s\"", ops[i].name,
				    fd->name, rows[r].required, fd->required ? "yes" : "no");
			}
			cr_expect_eq(found, 1, "%s: field %s has %d rows in its request table (want 1)",
			    ops[i].name, fd->name, found);
		}
		for (int r = 0; r < nrows; r++) {
			cr_expect(rows[r].name[0] == '\0' || schema_field(s, rows[r].name) != NULL,
			    "%s: the request table documents %s, which the schema lacks", ops[i].name,
			    rows[r].name);
		}
	}
	doc_free(&d);
}

Test(proto_docs, documents_no_op_the_table_lacks)
{
	char name[CELL_MAX];
	int sections = 0;
	doc d;

	doc_load(&d);
	for (size_t i = 0; i < d.count; i++) {
		if (heading_op(d.lines[i], name, sizeof(name))) {
			sections++;
			cr_expect_not_null(ac_op_lookup(name, strlen(name)),
			    "proto/ops.md documents op %s, which src/codec/ops.c does not have", name);
		}
	}
	cr_expect_gt(sections, 0, "proto/ops.md has no \"## `op`\" sections");
	doc_free(&d);
}
