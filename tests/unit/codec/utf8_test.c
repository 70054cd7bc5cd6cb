/* SPDX-License-Identifier: MIT
 * Tests for src/codec/utf8.c: RFC 3629 boundaries and every class of invalid input.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "codec/utf8.h"

#define VALID(s) cr_assert(ac_utf8_valid((s), sizeof(s) - 1), "%s", #s)
#define INVALID(s) cr_assert_not(ac_utf8_valid((s), sizeof(s) - 1), "%s", #s)

Test(utf8, accepts_ascii_nul_and_empty)
{
	cr_assert(ac_utf8_valid("", 0));
	cr_assert(ac_utf8_valid(NULL, 0));
	VALID("hello, world: a long enough ascii run to use the 8-byte path");
	VALID("a\0b");
}

Test(utf8, accepts_boundary_code_points)
{
	VALID("\xc2\x80");         /* U+0080 */
	VALID("\xdf\xbf");         /* U+07FF */
	VALID("\xe0\xa0\x80");     /* U+0800 */
	VALID("\xed\x9f\xbf");     /* U+D7FF */
	VALID("\xee\x80\x80");     /* U+E000 */
	VALID("\xef\xbf\xbf");     /* U+FFFF */
	VALID("\xf0\x90\x80\x80"); /* U+10000 */
	VALID("\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	VALID("gr\xc3\xbc\xc3\x9f dich, \xe6\x97\xa5\xe6\x9c\xac, \xf0\x9f\x98\x80!");
}

Test(utf8, rejects_overlong_forms)
{
	INVALID("\xc0\x80");         /* NUL in 2 bytes */
	INVALID("\xc1\xbf");         /* U+007F in 2 bytes */
	INVALID("\xe0\x80\x80");     /* 3-byte overlong */
	INVALID("\xe0\x9f\xbf");     /* U+07FF in 3 bytes */
	INVALID("\xf0\x80\x80\x80"); /* 4-byte overlong */
	INVALID("\xf0\x8f\xbf\xbf"); /* U+FFFF in 4 bytes */
}

Test(utf8, rejects_surrogates)
{
	INVALID("\xed\xa0\x80"); /* U+D800 */
	INVALID("\xed\xbf\xbf"); /* U+DFFF */
	INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* CESU-8 pair */
}

Test(utf8, rejects_above_u10ffff)
{
	INVALID("\xf4\x90\x80\x80"); /* U+110000 */
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xf7\xbf\xbf\xbf");
	INVALID("\xf8\x88\x80\x80\x80"); /* 5-byte form */
	INVALID("\xfc\x84\x80\x80\x80\x80");
	INVALID("\xfe");
	INVALID("\xff");
}

Test(utf8, rejects_truncated_sequences)
{
	INVALID("\xc3");
	INVALID("\xe6\x97");
	INVALID("\xf0\x9f\x98");
	INVALID("abcdefgh\xf0\x9f\x98"); /* after an 8-byte ASCII run */
	cr_assert_not(ac_utf8_valid("\xc3\xbc", 1));
}

Test(utf8, rejects_bad_continuation_bytes)
{
	INVALID("\x80");
	INVALID("\xbf");
	INVALID("a\x80z");
	INVALID("\xc3\x28");
	INVALID("\xe6\x97\x28");
	INVALID("\xf0\x9f\x98\x28");
	INVALID("\xe6\xc3\xbc");
}
