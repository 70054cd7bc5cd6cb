/* SPDX-License-Identifier: MIT
 * `agentcom call JSON`: the escape hatch. Sends any request written as JSON (or read
 * from stdin with "-") and prints the reply as JSON, whatever the op; it knows no op.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
ac_cli_cmd_call(ac_cli *cli)
{
	const char *text = cli->args[0];
	size_t text_len = strlen(text);
	char *owned = NULL;
	uint8_t *mp = NULL;
	size_t mp_len = 0;
	int rc;

	if (strcmp(text, "-") == 0) {
		if ((rc = ac_cli_read_input(cli, "call", "-", &owned, &text_len)) != AC_CLI_EXIT_OK) {
			return rc;
		}
		text = owned;
	}
	rc = ac_cli_parse_json(cli, "call", text, text_len, &mp, &mp_len);
	if (rc == AC_CLI_EXIT_OK) {
		cli->is_json = true; /* the reply, error or not, always goes out as JSON */
		rc = ac_cli_run(cli, mp, mp_len, NULL);
	}
	free(mp);
	free(owned);
	return rc;
}
