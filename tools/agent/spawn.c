/* SPDX-License-Identifier: MIT
 * How agentcom-agent starts a process (the task's command, nvidia-smi): with the
 * signal state a fresh program expects rather than the agent's own, which blocks
 * SIGTERM and SIGINT for its watcher thread and ignores SIGPIPE. Starts nothing itself.
 */
#include <signal.h>

#include "agent.h"

void
ac_agent_spawnattr_init(posix_spawnattr_t *at)
{
	sigset_t none, dfl;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	posix_spawnattr_init(at);
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &dfl);
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETPGROUP);
}
