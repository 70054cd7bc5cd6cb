/* SPDX-License-Identifier: MIT
 * Clocks: wall time for timestamps that leave the process (created_at_ms, ts_ms),
 * monotonic time for deadlines and durations. Both in milliseconds.
 */
#ifndef AC_RT_CLOCK_H
#define AC_RT_CLOCK_H

#include <stdint.h>

/* Milliseconds since 1970 (CLOCK_REALTIME). Any thread. */
int64_t ac_clock_wall_ms(void);

/* Milliseconds on CLOCK_MONOTONIC; only differences mean anything. Any thread. */
int64_t ac_clock_mono_ms(void);

/* Microseconds on CLOCK_MONOTONIC, for measuring short durations. Any thread. */
int64_t ac_clock_mono_us(void);

#endif
