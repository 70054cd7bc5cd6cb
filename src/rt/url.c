/* SPDX-License-Identifier: MIT
 * URL string helpers (no I/O).
 */
#include <stdio.h>
#include <string.h>

#include "rt/url.h"

char *ac_url_with_port(const char *url, int port, char *out, size_t cap)
{
	const char *host = strstr(url, "://");
	const char *colon, *rest, *bracket;

	snprintf(out, cap, "%s", url);
	if (host == NULL) {
		return out;
	}
	host += 3;
	rest = host + strcspn(host, "/");
	colon = memrchr(host, ':', (size_t)(rest - host));
	bracket = memrchr(host, ']', (size_t)(rest - host));
	if (colon == NULL || (bracket != NULL && bracket > colon)) {
		return out;
	}
	snprintf(out, cap, "%.*s:%d%s", (int)(colon - url), url, port, rest);
	return out;
}
