/* SPDX-License-Identifier: MIT
 * AC_ASSERT: invariant checks enabled in every build. A failed check is a bug in
 * agentcom (never bad input): it logs file:line and aborts.
 */
#ifndef AC_RT_ASSERT_H
#define AC_RT_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define AC_ASSERT(cond)                                                              \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__,  \
			    __LINE__, #cond);                                        \
			abort();                                                     \
		}                                                                    \
	} while (0)

#endif
