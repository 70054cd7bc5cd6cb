/* SPDX-License-Identifier: MIT
 * JSON that the user hands the CLI: whole files or stdin ("-") read into memory, and
 * JSON text turned into msgpack with the parser's "line L col C" on error. Knows no op
 * and never talks to the server.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentcom/json.h"
#include "cli.h"

/* Far above the server's 2 MiB request limit: the server, not the CLI, says too_large. */
#define MAX_INPUT_BYTES ((size_t)16 * 1024 * 1024)

/* All of f into *out with a NUL after the last byte; false when out of memory (*out
 * NULL) or when more than MAX_INPUT_BYTES came (*out kept, *len > MAX_INPUT_BYTES). */
static bool
slurp(FILE *f, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *grown;

	while (buf != NULL && !feof(f) && !ferror(f) && n <= MAX_INPUT_BYTES) {
		if (n == cap) {
			if ((grown = realloc(buf, cap * 2 + 1)) == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		n += fread(buf + n, 1, cap - n, f);
	}
	if (buf != NULL) {
		buf[n] = '\0';
	}
	*out = buf;
	*len = n;
	return buf != NULL;
}

int
ac_cli_read_input(ac_cli *cli, const char *what, const char *path, char **out, size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;
	int rc = AC_CLI_EXIT_OK;

	(void)cli; /* not a usage problem: no synopsis, just why */
	if (f == NULL) {
		fprintf(stderr, "agentcom: %s: cannot open %s: %s\n", what, path, strerror(errno));
		return AC_CLI_EXIT_USAGE;
	}
	if (!slurp(f, &buf, &n)) {
		rc = ac_cli_fail(what);
	} else if (ferror(f) || n > MAX_INPUT_BYTES) {
		fprintf(stderr, "agentcom: %s: %s %s\n", what, is_stdin ? "stdin" : path,
		    ferror(f) ? "cannot be read" : "is too large");
		rc = AC_CLI_EXIT_USAGE;
	}
	if (!is_stdin) {
		fclose(f);
	}
	if (rc != AC_CLI_EXIT_OK) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return AC_CLI_EXIT_OK;
}

int
ac_cli_parse_json(ac_cli *cli, const char *what, const char *text, size_t len,
    uint8_t **mp, size_t *mp_len)
{
	char errbuf[160];
	ac_err err = ac_json_to_msgpack(text, len, mp, mp_len, errbuf, sizeof(errbuf));

	if (err == AC_ENOMEM) {
		return ac_cli_fail(what);
	}
	if (err != AC_OK) {
		return ac_cli_usage_error(cli, "%s: invalid JSON: %s", what, errbuf);
	}
	return AC_CLI_EXIT_OK;
}
