/* SPDX-License-Identifier: MIT
 * Tests for src/codec/prevalidate.c: well-formed values of every kind pass; truncation,
 * trailing bytes, 0xc1, excess depth and counts the input cannot back are rejected.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "codec/prevalidate.h"

#define PV(bytes, depth) ac_prevalidate((const uint8_t *)(bytes), sizeof(bytes) - 1, (depth))

Test(prevalidate, accepts_every_scalar_kind)
{
	cr_assert_eq(PV("\x00", 0), AC_OK);
	cr_assert_eq(PV("\x7f", 0), AC_OK);
	cr_assert_eq(PV("\xe0", 0), AC_OK);
	cr_assert_eq(PV("\xc0", 0), AC_OK);
	cr_assert_eq(PV("\xc2", 0), AC_OK);
	cr_assert_eq(PV("\xc3", 0), AC_OK);
	cr_assert_eq(PV("\xcc\x01", 0), AC_OK);
	cr_assert_eq(PV("\xcd\x01\x02", 0), AC_OK);
	cr_assert_eq(PV("\xce\x01\x02\x03\x04", 0), AC_OK);
	cr_assert_eq(PV("\xcf\x01\x02\x03\x04\x05\x06\x07\x08", 0), AC_OK);
	cr_assert_eq(PV("\xd3\x01\x02\x03\x04\x05\x06\x07\x08", 0), AC_OK);
	cr_assert_eq(PV("\xca\x00\x00\x00\x00", 0), AC_OK);
	cr_assert_eq(PV("\xcb\x00\x00\x00\x00\x00\x00\x00\x00", 0), AC_OK);
	cr_assert_eq(PV("\xa3" "abc", 0), AC_OK);
	cr_assert_eq(PV("\xd9\x03" "abc", 0), AC_OK);
	cr_assert_eq(PV("\xda\x00\x03" "abc", 0), AC_OK);
	cr_assert_eq(PV("\xdb\x00\x00\x00\x03" "abc", 0), AC_OK);
	cr_assert_eq(PV("\xc4\x02" "ab", 0), AC_OK);
	cr_assert_eq(PV("\xd4\x01\x00", 0), AC_OK);
	cr_assert_eq(PV("\xd8\x01" "0123456789abcdef", 0), AC_OK);
	cr_assert_eq(PV("\xc7\x02\x01" "ab", 0), AC_OK);
	cr_assert_eq(PV("\xc9\x00\x00\x00\x00\x05", 0), AC_OK);
}

Test(prevalidate, accepts_nested_containers_and_counts_depth)
{
	/* {"a": [1, {"b": nil}], "c": {}} has depth 3 */
	static const char v[] = "\x82\xa1" "a" "\x92\x01\x81\xa1" "b" "\xc0\xa1" "c" "\x80";
	cr_assert_eq(ac_prevalidate((const uint8_t *)v, sizeof(v) - 1, 3), AC_OK);
	cr_assert_eq(ac_prevalidate((const uint8_t *)v, sizeof(v) - 1, 2), AC_EBADREQ);
	cr_assert_eq(PV("\x80", 1), AC_OK);
	cr_assert_eq(PV("\x80", 0), AC_EBADREQ, "an empty map still has depth 1");
	cr_assert_eq(PV("\x01", 0), AC_OK, "a scalar has depth 0");
}

Test(prevalidate, rejects_empty_and_truncated_input)
{
	cr_assert_eq(ac_prevalidate((const uint8_t *)"", 0, 20), AC_EBADREQ);
	cr_assert_eq(PV("\xcd\x01", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xa3" "ab", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xd9", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xdb\x00\x00\x00", 20), AC_EBADREQ);
	cr_assert_eq(PV("\x82\xa1" "a" "\x01", 20), AC_EBADREQ);
	cr_assert_eq(PV("\x92\x01", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xd4\x01", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xc7\x02\x01" "a", 20), AC_EBADREQ);
}

Test(prevalidate, rejects_every_truncation_of_a_valid_message)
{
	static const char v[] = "\x83\xa2" "id" "\xa5" "t-001" "\xa4" "tags" "\x92\xa1" "x\xa1" "y"
	    "\xa4" "meta" "\x81\xa1" "k\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00";
	size_t n = sizeof(v) - 1;

	cr_assert_eq(ac_prevalidate((const uint8_t *)v, n, 20), AC_OK);
	for (size_t cut = 0; cut < n; cut++) {
		cr_assert_eq(ac_prevalidate((const uint8_t *)v, cut, 20), AC_EBADREQ, "cut %zu",
		    cut);
	}
}

Test(prevalidate, rejects_trailing_bytes)
{
	cr_assert_eq(PV("\x01\x02", 20), AC_EBADREQ);
	cr_assert_eq(PV("\x80\x00", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xa1" "ab", 20), AC_EBADREQ);
}

Test(prevalidate, rejects_reserved_byte_c1)
{
	cr_assert_eq(PV("\xc1", 20), AC_EBADREQ);
	cr_assert_eq(PV("\x91\xc1", 20), AC_EBADREQ);
	cr_assert_eq(PV("\x81\xa1" "a" "\xc1", 20), AC_EBADREQ);
}

Test(prevalidate, rejects_header_claiming_gigabytes)
{
	cr_assert_eq(PV("\xdd\xff\xff\xff\xff", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xdd\x05\xf5\xe1\x00", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xdf\xff\xff\xff\xff", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xdb\xff\xff\xff\xff", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xc6\xff\xff\xff\xff", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xc9\xff\xff\xff\xff\x01", 20), AC_EBADREQ);
}

Test(prevalidate, rejects_counts_larger_than_remaining_bytes)
{
	cr_assert_eq(PV("\x93\x01\x02", 20), AC_EBADREQ);
	cr_assert_eq(PV("\x93\x01\x02\x03", 20), AC_OK);
	/* a map of 2 needs 4 elements: 3 bytes left is not enough */
	cr_assert_eq(PV("\x82\x01\x02\x03", 20), AC_EBADREQ);
	cr_assert_eq(PV("\xdc\x00\x03\x01\x02", 20), AC_EBADREQ);
}

Test(prevalidate, rejects_depth_1000_nesting)
{
	size_t n = 1001;
	uint8_t *buf = malloc(n);

	cr_assert_not_null(buf);
	memset(buf, 0x91, 1000); /* 1000 nested one-element arrays around 0 */
	buf[1000] = 0x00;
	cr_assert_eq(ac_prevalidate(buf, n, AC_MAX_WIRE_DEPTH), AC_EBADREQ);
	cr_assert_eq(ac_prevalidate(buf + 1000 - 20, 21, AC_MAX_WIRE_DEPTH), AC_OK);
	cr_assert_eq(ac_prevalidate(buf + 1000 - 21, 22, AC_MAX_WIRE_DEPTH), AC_EBADREQ);
	free(buf);
}

Test(prevalidate, accepts_what_msgpack_c_packs)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "big", 3);
	msgpack_pack_array(&pk, 300);
	for (int i = 0; i < 300; i++) {
		msgpack_pack_int64(&pk, (int64_t)i * -1000003);
	}
	msgpack_pack_str_with_body(&pk, "bin", 3);
	msgpack_pack_bin_with_body(&pk, "\x00\x01\x02", 3);
	msgpack_pack_str_with_body(&pk, "f", 1);
	msgpack_pack_float(&pk, 1.5f);
	cr_assert_eq(ac_prevalidate((const uint8_t *)sb.data, sb.size, 20), AC_OK);
	msgpack_sbuffer_destroy(&sb);
}

/* ac_mp_value_len splits concatenated values where each one ends. */
Test(prevalidate, value_len_splits_a_run_of_values)
{
	/* {"a": [1, 2]}, "xyz", 0xcd 0x01 0x00 (uint 16), then a truncated fixarray */
	static const uint8_t run[] = { 0x81, 0xa1, 'a', 0x92, 0x01, 0x02, 0xa3, 'x', 'y', 'z',
		0xcd, 0x01, 0x00, 0x92, 0x01 };
	size_t pos = 0, n;

	cr_assert_eq(ac_mp_value_len(run, sizeof(run), 20, &n), AC_OK);
	cr_assert_eq(n, 6);
	pos += n;
	cr_assert_eq(ac_mp_value_len(run + pos, sizeof(run) - pos, 20, &n), AC_OK);
	cr_assert_eq(n, 4);
	pos += n;
	cr_assert_eq(ac_mp_value_len(run + pos, sizeof(run) - pos, 20, &n), AC_OK);
	cr_assert_eq(n, 3);
	pos += n;
	cr_assert_eq(ac_mp_value_len(run + pos, sizeof(run) - pos, 20, &n), AC_EBADREQ);
	cr_assert_eq(ac_prevalidate(run, 6, 20), AC_OK);
	cr_assert_eq(ac_prevalidate(run, 7, 20), AC_EBADREQ, "trailing bytes still refused");
}
