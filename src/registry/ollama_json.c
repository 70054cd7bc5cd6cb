/* SPDX-License-Identifier: MIT
 * A small recursive-descent JSON reader for Ollama's list bodies (/api/tags, /api/ps).
 * Every byte is validated (grammar, escapes, UTF-8, depth), but only models[].name and
 * models[].size_vram are kept; everything else is skipped without allocating. Chosen
 * over linking src/client/json.c, which lives in the client library, not in the core.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec/utf8.h"
#include "registry/ollama_json.h"

#define KEY_MAX 32 /* longer keys can never be one we look for */

typedef struct jp {
	const char *p, *end;
	unsigned depth;
	ac_err err; /* first failure: AC_EPROTO or AC_ENOMEM */
	ac_ollama_models *out;
} jp;

/* Called once per member with p at the value, which it must consume. */
typedef bool (*member_fn)(jp *j, const char *key, void *ctx);
/* Called once per array element with p at the element, which it must consume. */
typedef bool (*element_fn)(jp *j, void *ctx);

static bool fail(jp *j, ac_err e)
{
	if (j->err == AC_OK) {
		j->err = e;
	}
	return false;
}

static void skip_ws(jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
		j->p++;
	}
}

/* Skips whitespace; true (and consumes it) when the next byte is c. */
static bool eat(jp *j, char c)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
		return (c | 0x20) - 'a' + 10;
	}
	return -1;
}

/* The four hex digits at p (known to be valid) as a number. */
static unsigned hex4(const char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		v = v << 4 | (unsigned)hex_val(p[i]);
	}
	return v;
}

/* p at '"': validates the string and sets [*s, *e) to its raw content. */
static bool scan_string(jp *j, const char **s, const char **e)
{
	if (j->p >= j->end || *j->p != '"') {
		return fail(j, AC_EPROTO);
	}
	const char *q = ++j->p;
	while (q < j->end && *q != '"') {
		if ((unsigned char)*q < 0x20) {
			return fail(j, AC_EPROTO);
		}
		if (*q++ != '\\') {
			continue;
		}
		if (q >= j->end) {
			return fail(j, AC_EPROTO);
		}
		if (*q == 'u') {
			if (j->end - q < 5 || hex_val(q[1]) < 0 || hex_val(q[2]) < 0 ||
			    hex_val(q[3]) < 0 || hex_val(q[4]) < 0) {
				return fail(j, AC_EPROTO);
			}
			q += 5;
		} else if (*q != '\0' && strchr("\"\\/bfnrt", *q) != NULL) {
			q++;
		} else {
			return fail(j, AC_EPROTO);
		}
	}
	if (q >= j->end || !ac_utf8_valid(j->p, (size_t)(q - j->p))) {
		return fail(j, AC_EPROTO);
	}
	*s = j->p;
	*e = q;
	j->p = q + 1;
	return true;
}

static size_t put_utf8(char *d, unsigned cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* s at "\u" of a validated string: decodes one escape, pairing surrogates; a lone
 * surrogate becomes U+FFFD so the output stays valid UTF-8. */
static size_t decode_u(const char **s, const char *e, char *d)
{
	unsigned cp = hex4(*s + 2);
	*s += 6;
	if (cp >= 0xd800 && cp <= 0xdbff && e - *s >= 6 && (*s)[0] == '\\' && (*s)[1] == 'u') {
		unsigned lo = hex4(*s + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*s += 6;
			return put_utf8(d, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
		}
	}
	if (cp >= 0xd800 && cp <= 0xdfff) {
		cp = 0xfffd;
	}
	return put_utf8(d, cp);
}

/* Decodes the validated raw content [s, e) into d, which has room for e - s bytes
 * (no escape decodes to more bytes than it spells). Returns the bytes written. */
static size_t decode_string(const char *s, const char *e, char *d)
{
	static const char plain[] = "\"\\/\b\f\n\r\t";
	static const char named[] = "\"\\/bfnrt";
	size_t n = 0;
	while (s < e) {
		if (*s != '\\') {
			d[n++] = *s++;
		} else if (s[1] == 'u') {
			n += decode_u(&s, e, d + n);
		} else {
			d[n++] = plain[strchr(named, s[1]) - named];
			s += 2;
		}
	}
	return n;
}

/* Validates a number; *u is its value when it is a non-negative integer that fits. */
static bool scan_number(jp *j, uint64_t *u, bool *is_uint)
{
	const char *q = j->p;
	bool neg = q < j->end && *q == '-', ok = true;
	uint64_t v = 0;
	q += neg;
	if (q >= j->end || *q < '0' || *q > '9') {
		return fail(j, AC_EPROTO);
	}
	if (*q == '0') {
		q++;
	} else {
		for (; q < j->end && *q >= '0' && *q <= '9'; q++) {
			unsigned dgt = (unsigned)(*q - '0');
			ok = ok && v <= (UINT64_MAX - dgt) / 10;
			v = v * 10 + dgt;
		}
	}
	bool is_int = true;
	if (q < j->end && *q == '.') {
		is_int = false;
		if (++q >= j->end || *q < '0' || *q > '9') {
			return fail(j, AC_EPROTO);
		}
		while (q < j->end && *q >= '0' && *q <= '9') {
			q++;
		}
	}
	if (q < j->end && (*q == 'e' || *q == 'E')) {
		is_int = false;
		q++;
		if (q < j->end && (*q == '+' || *q == '-')) {
			q++;
		}
		if (q >= j->end || *q < '0' || *q > '9') {
			return fail(j, AC_EPROTO);
		}
		while (q < j->end && *q >= '0' && *q <= '9') {
			q++;
		}
	}
	j->p = q;
	*is_uint = ok && is_int && !neg;
	*u = v;
	return true;
}

static bool skip_value(jp *j);

static bool skip_member(jp *j, const char *key, void *ctx)
{
	(void)key;
	(void)ctx;
	return skip_value(j);
}

static bool skip_element(jp *j, void *ctx)
{
	(void)ctx;
	return skip_value(j);
}

/* p at '{': walks the members, handing each value to fn. Keys longer than KEY_MAX
 * bytes are passed as "" (they never match). */
static bool parse_members(jp *j, member_fn fn, void *ctx)
{
	char key[KEY_MAX + 1];
	const char *s, *e;
	if (++j->depth > AC_OLLAMA_JSON_MAX_DEPTH) {
		return fail(j, AC_EPROTO);
	}
	j->p++;
	if (eat(j, '}')) {
		j->depth--;
		return true;
	}
	do {
		skip_ws(j);
		if (!scan_string(j, &s, &e) || !eat(j, ':')) {
			return fail(j, AC_EPROTO);
		}
		size_t n = e - s <= KEY_MAX ? decode_string(s, e, key) : 0;
		key[n] = '\0';
		skip_ws(j);
		if (!fn(j, key, ctx)) {
			return false;
		}
	} while (eat(j, ','));
	j->depth--;
	return eat(j, '}') || fail(j, AC_EPROTO);
}

/* p at '[': walks the elements, handing each to fn. */
static bool parse_elements(jp *j, element_fn fn, void *ctx)
{
	if (++j->depth > AC_OLLAMA_JSON_MAX_DEPTH) {
		return fail(j, AC_EPROTO);
	}
	j->p++;
	if (eat(j, ']')) {
		j->depth--;
		return true;
	}
	do {
		skip_ws(j);
		if (!fn(j, ctx)) {
			return false;
		}
	} while (eat(j, ','));
	j->depth--;
	return eat(j, ']') || fail(j, AC_EPROTO);
}

static bool skip_literal(jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) {
		return fail(j, AC_EPROTO);
	}
	j->p += n;
	return true;
}

/* p at the first byte of a value (whitespace skipped). */
static bool skip_value(jp *j)
{
	const char *s, *e;
	uint64_t u;
	bool is_uint;
	if (j->p >= j->end) {
		return fail(j, AC_EPROTO);
	}
	switch (*j->p) { /* the JSON grammar's first-byte table, not a message dispatch */
	case '{': return parse_members(j, skip_member, NULL);
	case '[': return parse_elements(j, skip_element, NULL);
	case '"': return scan_string(j, &s, &e);
	case 't': return skip_literal(j, "true");
	case 'f': return skip_literal(j, "false");
	case 'n': return skip_literal(j, "null");
	default: return scan_number(j, &u, &is_uint);
	}
}

/* Makes room for need items of item bytes in p (capacity *cap items); returns the
 * possibly moved buffer, or NULL (p untouched and still owned) when out of memory. */
static void *grow(jp *j, void *p, uint32_t *cap, size_t need, size_t item)
{
	if (need <= *cap) {
		return p;
	}
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		n *= 2;
	}
	void *q = n <= UINT32_MAX ? realloc(p, n * item) : NULL;
	if (q == NULL) {
		fail(j, AC_ENOMEM);
		return NULL;
	}
	*cap = (uint32_t)n;
	return q;
}

static bool append_name(jp *j, const char *s, const char *e)
{
	ac_ollama_models *m = j->out;
	char *text = grow(j, m->text, &m->text_cap, (size_t)m->text_len + (size_t)(e - s) + 1, 1);
	if (text == NULL) {
		return false;
	}
	m->text = text;
	ac_ollama_name *names = grow(j, m->names, &m->cap, (size_t)m->count + 1, sizeof(*names));
	if (names == NULL) {
		return false;
	}
	m->names = names;
	uint32_t n = (uint32_t)decode_string(s, e, m->text + m->text_len);
	m->names[m->count++] = (ac_ollama_name){ m->text_len, n };
	m->text[m->text_len + n] = '\0';
	m->text_len += n + 1;
	return true;
}

typedef struct model_ctx {
	bool has_name;
} model_ctx;

static bool model_member(jp *j, const char *key, void *ctx)
{
	model_ctx *mc = ctx;
	const char *s, *e;
	uint64_t v;
	bool is_uint;
	if (strcmp(key, "name") == 0 && !mc->has_name && j->p < j->end && *j->p == '"') {
		mc->has_name = true;
		return scan_string(j, &s, &e) && append_name(j, s, e);
	}
	if (strcmp(key, "size_vram") == 0 && j->p < j->end && (*j->p == '-' ||
	    (*j->p >= '0' && *j->p <= '9'))) {
		if (!scan_number(j, &v, &is_uint)) {
			return false;
		}
		uint64_t sum = j->out->vram_bytes + (is_uint ? v : 0);
		j->out->vram_bytes = sum < j->out->vram_bytes ? UINT64_MAX : sum;
		return true;
	}
	return skip_value(j);
}

static bool model_element(jp *j, void *ctx)
{
	model_ctx mc = { false };
	(void)ctx;
	if (j->p < j->end && *j->p == '{') {
		return parse_members(j, model_member, &mc);
	}
	return skip_value(j);
}

static bool top_member(jp *j, const char *key, void *ctx)
{
	bool *has_models = ctx;
	if (strcmp(key, "models") == 0 && !*has_models && j->p < j->end && *j->p == '[') {
		*has_models = true;
		return parse_elements(j, model_element, NULL);
	}
	return skip_value(j);
}

ac_err ac_ollama_models_parse(ac_ollama_models *out, const char *json, size_t len)
{
	jp j = { .p = json, .end = json + len, .out = out };
	bool has_models = false, is_object;
	memset(out, 0, sizeof(*out));
	if (len >= UINT32_MAX) {
		return AC_EPROTO;
	}
	skip_ws(&j);
	is_object = j.p < j.end && *j.p == '{';
	if (is_object ? !parse_members(&j, top_member, &has_models) : !skip_value(&j)) {
		return j.err;
	}
	skip_ws(&j);
	if (j.p != j.end) {
		return AC_EPROTO;
	}
	return has_models ? AC_OK : AC_ENOTFOUND;
}

void ac_ollama_models_fini(ac_ollama_models *m)
{
	free(m->text);
	free(m->names);
	memset(m, 0, sizeof(*m));
}
