/* SPDX-License-Identifier: MIT
 * Tests for src/registry/http_body.c: the capped body buffer and the chunked decoder
 * (whole and byte-by-byte input, extensions, trailers, bare LF, malformed framing and
 * chunks that would pass the cap, refused at their size line).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "registry/http_body.h"

static ac_body body;
static ac_chunked ch;

static void setup(void)
{
	body = (ac_body){ .max = 64 };
	ac_chunked_init(&ch);
}

static void teardown(void)
{
	ac_body_fini(&body);
}

TestSuite(http_body, .init = setup, .fini = teardown);

static ac_err feed(const char *s, size_t *used)
{
	return ac_chunked_feed(&ch, (const uint8_t *)s, strlen(s), &body, used);
}

static void expect_body(const char *want)
{
	cr_assert_eq(body.len, strlen(want));
	cr_assert(memcmp(body.p, want, body.len) == 0, "body %.*s", (int)body.len, body.p);
}

Test(http_body, append_stops_at_max)
{
	uint8_t buf[64] = { 0 };
	cr_assert_eq(ac_body_append(&body, buf, 60), AC_OK);
	cr_assert_eq(ac_body_append(&body, buf, 5), AC_ETOOLARGE);
	cr_assert_eq(body.len, 60);
	cr_assert_eq(ac_body_append(&body, buf, 4), AC_OK);
	cr_assert_eq(body.len, 64);
	cr_assert_geq(body.cap, 65, "room for a NUL");
	cr_assert_eq(ac_body_append(&body, buf, 1), AC_ETOOLARGE);
}

Test(http_body, simple_chunks)
{
	static const char in[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	size_t used;
	cr_assert_eq(feed(in, &used), AC_OK);
	cr_assert_eq(used, strlen(in));
	cr_assert(ac_chunked_is_done(&ch));
	expect_body("hello world");
}

Test(http_body, byte_by_byte_gives_the_same_body)
{
	static const char in[] = "3;ext=\"x\"\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n";
	for (size_t i = 0; i < strlen(in); i++) {
		size_t used;
		cr_assert(!ac_chunked_is_done(&ch), "done early at %zu", i);
		cr_assert_eq(ac_chunked_feed(&ch, (const uint8_t *)in + i, 1, &body, &used), AC_OK,
		    "byte %zu", i);
		cr_assert_eq(used, 1);
	}
	cr_assert(ac_chunked_is_done(&ch));
	expect_body("abc0123456789");
}

Test(http_body, bare_lf_and_whitespace_before_the_line_end)
{
	size_t used;
	cr_assert_eq(feed("2 \nab\n1\t;x\r\nc\r\n0\n\n", &used), AC_OK);
	cr_assert(ac_chunked_is_done(&ch));
	expect_body("abc");
}

Test(http_body, bytes_after_the_end_are_not_consumed)
{
	static const char in[] = "1\r\nx\r\n0\r\n\r\nHTTP/1.1 200 OK";
	size_t used;
	cr_assert_eq(feed(in, &used), AC_OK);
	cr_assert_eq(used, strlen("1\r\nx\r\n0\r\n\r\n"));
	expect_body("x");
}

Test(http_body, incomplete_input_is_not_done)
{
	size_t used;
	cr_assert_eq(feed("5\r\nhel", &used), AC_OK);
	cr_assert(!ac_chunked_is_done(&ch));
	cr_assert_eq(feed("lo\r\n0\r\n", &used), AC_OK);
	cr_assert(!ac_chunked_is_done(&ch), "the final empty line is missing");
	cr_assert_eq(feed("\r\n", &used), AC_OK);
	cr_assert(ac_chunked_is_done(&ch));
}

Test(http_body, malformed_framing)
{
	static const char *const bad[] = {
		"x\r\n", "\r\n", ";ext\r\n", "5\r\nhelloXX", "5\rX", "5\r\nhello\rX", "1\r\na\r\n0\r\n\rX",
		"-1\r\n", "0x5\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t used;
		ac_body_fini(&body);
		ac_chunked_init(&ch);
		cr_expect_eq(feed(bad[i], &used), AC_EPROTO, "%s", bad[i]);
		cr_expect_eq(feed("0\r\n\r\n", &used), AC_EPROTO, "stays failed");
		cr_expect(!ac_chunked_is_done(&ch));
	}
}

Test(http_body, a_chunk_past_the_cap_is_refused_at_its_size_line)
{
	size_t used;
	cr_assert_eq(feed("41\r\n", &used), AC_ETOOLARGE); /* 65 > 64, no data sent yet */
	cr_assert_eq(body.len, 0);
}

Test(http_body, chunks_that_add_up_past_the_cap_are_refused)
{
	size_t used;
	cr_assert_eq(feed("20\r\n0123456789abcdef0123456789abcdef\r\n", &used), AC_OK);
	cr_assert_eq(feed("20\r\n0123456789abcdef0123456789abcdef\r\n", &used), AC_OK);
	cr_assert_eq(body.len, 64);
	cr_assert_eq(feed("1\r\n", &used), AC_ETOOLARGE);
}

Test(http_body, enormous_sizes_do_not_overflow)
{
	size_t used;
	cr_assert_eq(feed("FFFFFFFFFFFFFFFFFFFF\r\n", &used), AC_ETOOLARGE);
	ac_chunked_init(&ch);
	cr_assert_eq(feed("FFFFFFFFFFFFFFF\r\n", &used), AC_ETOOLARGE);
}

Test(http_body, fini_of_a_zeroed_body_is_a_noop)
{
	ac_body z = { 0 };
	ac_body_fini(&z);
	ac_body_fini(&z);
}

Test(http_body, content_length_values)
{
	static const struct {
		const char *value;
		bool ok;
		uint64_t len;
	} cases[] = {
		{ "0", true, 0 }, { "4683", true, 4683 }, { " 12\t", true, 12 },
		{ "100000000", true, 100000000 }, { "9999999999999999999", true, 9999999999999999999ull },
		{ "", false, 0 }, { " ", false, 0 }, { "-1", false, 0 }, { "+1", false, 0 },
		{ "1 2", false, 0 }, { "12a", false, 0 }, { "0x10", false, 0 }, { "1,1", false, 0 },
		{ "18446744073709551616", false, 0 }, { "00000000000000000001", false, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t len = 7;
		cr_expect_eq(ac_http_content_length(cases[i].value, &len), cases[i].ok, "'%s'",
		    cases[i].value);
		if (cases[i].ok) {
			cr_expect_eq(len, cases[i].len, "'%s'", cases[i].value);
		}
	}
}
