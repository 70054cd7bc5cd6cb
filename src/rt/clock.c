/* SPDX-License-Identifier: MIT
 * Wall and monotonic clocks in milliseconds (and microseconds for durations).
 */
#include <time.h>

#include "rt/clock.h"

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ac_clock_wall_ms(void)
{
	return read_ns(CLOCK_REALTIME) / 1000000;
}

int64_t ac_clock_mono_ms(void)
{
	return read_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t ac_clock_mono_us(void)
{
	return read_ns(CLOCK_MONOTONIC) / 1000;
}
