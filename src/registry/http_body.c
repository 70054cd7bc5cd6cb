/* SPDX-License-Identifier: MIT
 * The capped body buffer, Content-Length parsing and the chunked decoder of
 * http_body.h. The decoder is a byte-at-a-time state machine (one step function per
 * state, in a table) except for chunk data, which is copied in bulk. It never buffers
 * framing, so a hostile peer can cost time (bounded by the prober's deadline) but
 * not memory.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/http_body.h"

#define MAX_SIZE_DIGITS 15 /* 15 hex digits stay below 2^60: no overflow */

enum {
	ST_SIZE,        /* hex digits of a chunk size */
	ST_EXT,         /* chunk extension or whitespace up to the line end */
	ST_SIZE_LF,     /* CR seen on a size line */
	ST_DATA,        /* remain data bytes */
	ST_DATA_CR,     /* CRLF after the data */
	ST_DATA_LF,
	ST_TRAILER,     /* start of a trailer line (or the final empty line) */
	ST_TRAILER_LINE,
	ST_END_LF,      /* CR of the final empty line seen */
	ST_DONE,
	ST_FAILED,
};

ac_err ac_body_append(ac_body *b, const uint8_t *data, size_t n)
{
	if (n > b->max - b->len) {
		return AC_ETOOLARGE;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1) {
			cap *= 2;
		}
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			return AC_ENOMEM;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n > 0) {
		memcpy(b->p + b->len, data, n);
	}
	b->len += n;
	return AC_OK;
}

void ac_body_fini(ac_body *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

bool ac_http_content_length(const char *value, uint64_t *len)
{
	const char *s = value + strspn(value, " \t");
	size_t digits = strspn(s, "0123456789");
	if (digits == 0 || digits > 19 || s[digits + strspn(s + digits, " \t")] != '\0') {
		return false;
	}
	*len = strtoull(s, NULL, 10); /* 19 digits always fit */
	return true;
}

void ac_chunked_init(ac_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = ST_SIZE;
}

bool ac_chunked_is_done(const ac_chunked *c)
{
	return c->state == ST_DONE;
}

static int hex_digit(uint8_t ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') {
		return (ch | 0x20) - 'a' + 10;
	}
	return -1;
}

/* The size line ended: a zero size starts the trailer section, any other the data. */
static int end_size_line(ac_chunked *c, const ac_body *b, ac_err *err)
{
	if (c->remain == 0) {
		return ST_TRAILER;
	}
	if (c->remain > b->max - b->len) {
		*err = AC_ETOOLARGE;
		return ST_FAILED;
	}
	return ST_DATA;
}

/* One step per framing byte: returns the next state, or ST_FAILED with *err set. */
typedef int (*step_fn)(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err);

static int step_size(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	int v = hex_digit(ch);
	if (v >= 0 && c->digits < MAX_SIZE_DIGITS) {
		c->digits++;
		c->remain = c->remain << 4 | (uint64_t)v;
		return ST_SIZE;
	}
	if (v < 0 && c->digits > 0) {
		if (ch == ';' || ch == ' ' || ch == '\t') {
			return ST_EXT;
		}
		if (ch == '\r') {
			return ST_SIZE_LF;
		}
		if (ch == '\n') {
			return end_size_line(c, b, err);
		}
	}
	*err = v >= 0 ? AC_ETOOLARGE : AC_EPROTO;
	return ST_FAILED;
}

static int step_ext(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	if (ch == '\r') {
		return ST_SIZE_LF;
	}
	return ch == '\n' ? end_size_line(c, b, err) : ST_EXT;
}

static int step_size_lf(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	if (ch == '\n') {
		return end_size_line(c, b, err);
	}
	*err = AC_EPROTO;
	return ST_FAILED;
}

static int step_data_cr(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	(void)b;
	c->digits = 0;
	c->remain = 0;
	if (ch == '\r' || ch == '\n') {
		return ch == '\r' ? ST_DATA_LF : ST_SIZE;
	}
	*err = AC_EPROTO;
	return ST_FAILED;
}

static int step_data_lf(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	(void)c;
	(void)b;
	if (ch == '\n') {
		return ST_SIZE;
	}
	*err = AC_EPROTO;
	return ST_FAILED;
}

static int step_trailer(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	(void)c;
	(void)b;
	(void)err;
	if (ch == '\r') {
		return ST_END_LF;
	}
	return ch == '\n' ? ST_DONE : ST_TRAILER_LINE;
}

static int step_trailer_line(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	(void)c;
	(void)b;
	(void)err;
	return ch == '\n' ? ST_TRAILER : ST_TRAILER_LINE;
}

static int step_end_lf(ac_chunked *c, uint8_t ch, const ac_body *b, ac_err *err)
{
	(void)c;
	(void)b;
	if (ch == '\n') {
		return ST_DONE;
	}
	*err = AC_EPROTO;
	return ST_FAILED;
}

static const step_fn steps[] = {
	[ST_SIZE] = step_size,
	[ST_EXT] = step_ext,
	[ST_SIZE_LF] = step_size_lf,
	[ST_DATA_CR] = step_data_cr,
	[ST_DATA_LF] = step_data_lf,
	[ST_TRAILER] = step_trailer,
	[ST_TRAILER_LINE] = step_trailer_line,
	[ST_END_LF] = step_end_lf,
};

ac_err ac_chunked_feed(ac_chunked *c, const uint8_t *in, size_t len, ac_body *body,
    size_t *used)
{
	ac_err err = AC_OK;
	size_t i = 0;
	while (i < len && c->state != ST_DONE && c->state != ST_FAILED) {
		if (c->state == ST_DATA) {
			size_t n = len - i < c->remain ? len - i : (size_t)c->remain;
			if ((err = ac_body_append(body, in + i, n)) != AC_OK) {
				c->state = ST_FAILED;
				break;
			}
			i += n;
			c->remain -= n;
			c->state = c->remain == 0 ? ST_DATA_CR : ST_DATA;
			continue;
		}
		c->state = (uint8_t)steps[c->state](c, in[i++], body, &err);
	}
	*used = i;
	if (c->state == ST_FAILED && err == AC_OK) {
		err = AC_EPROTO; /* fed again after a failure */
	}
	return err;
}
