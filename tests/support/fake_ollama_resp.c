/* SPDX-License-Identifier: MIT
 * The fake Ollama's responses (fake_ollama_resp.h): JSON bodies shaped like Ollama's
 * and the HTTP framing of each fault, written as raw bytes with open_memstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_ollama_resp.h"

#define HUGE_CHUNK (64 * 1024)
#define HUGE_CHUNKS 80 /* 5 MiB */

static const char details[] =
    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"qwen2\","
    "\"families\":[\"qwen2\"],\"parameter_size\":\"7.6B\",\"quantization_level\":\"Q4_K_M\"}";

/* ---- bodies ---- */

static void put_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

/* Real shapes: /api/tags entries carry size/digest/details, /api/ps entries add
 * expires_at and size_vram. */
char *fake_resp_list(const char *const *names, const uint64_t *vram, size_t n, bool is_ps)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		return NULL;
	}
	fputs("{\"models\":[", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		put_json_str(f, names[i]);
		fputs(",\"model\":", f);
		put_json_str(f, names[i]);
		fprintf(f, ",\"modified_at\":\"2024-05-01T10:00:00.123456789+02:00\","
		    "\"size\":4683087332,\"digest\":\"845dbda0ea48ed749caafd9e6037047aa19acfcfd"
		    "82e704d7ca97d631a0b697e\",%s", details);
		if (is_ps) {
			fprintf(f, ",\"expires_at\":\"2024-05-01T10:05:00.5+02:00\","
			    "\"size_vram\":%llu", vram != NULL ? (unsigned long long)vram[i] : 0ull);
		}
		fputc('}', f);
	}
	fputs("]}", f);
	fclose(f);
	return buf;
}

static char *format_response(const char *status, const char *extra, const char *body)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		return NULL;
	}
	fprintf(f, "HTTP/1.1 %s\r\nContent-Type: application/json; charset=utf-8\r\n"
	    "Date: Wed, 01 May 2024 08:00:00 GMT\r\n%s", status, extra);
	if (body != NULL) {
		fprintf(f, "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
	}
	fclose(f);
	return buf;
}

/* body framed as chunks of piece bytes, with an extension on the first and a
 * trailer after the last. */
static char *format_chunked(const char *body, size_t piece)
{
	char *buf = NULL;
	size_t len = 0, n = strlen(body);
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		return NULL;
	}
	fputs("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", f);
	for (size_t i = 0; i < n; i += piece) {
		size_t k = n - i < piece ? n - i : piece;
		fprintf(f, i == 0 ? "%zx;name=value\r\n" : "%zX\r\n", k);
		fwrite(body + i, 1, k, f);
		fputs("\r\n", f);
	}
	fputs("0\r\nX-Trailer: done\r\n\r\n", f);
	fclose(f);
	return buf;
}

/* 5 MiB of JSON whitespace before {}, in 64 KiB chunks. */
static char *format_chunked_huge(void)
{
	size_t n = (size_t)HUGE_CHUNK * HUGE_CHUNKS;
	char *body = malloc(n + 3);
	if (body == NULL) {
		return NULL;
	}
	memset(body, ' ', n);
	memcpy(body + n, "{}", 3);
	char *r = format_chunked(body, HUGE_CHUNK);
	free(body);
	return r;
}

char *fake_resp_build(fake_mode mode, const char *path, const char *body, bool *close_after)
{
	*close_after = mode != FAKE_HANG && mode != FAKE_HUGE;
	if (body == NULL && mode != FAKE_HANG && mode != FAKE_CLOSE) {
		return format_response("404 Not Found", "", "404 page not found");
	}
	switch (mode) { /* one response shape per fault: a table of cases, not a dispatch */
	case FAKE_OK: return format_response("200 OK", "", body);
	case FAKE_500: return format_response("500 Internal Server Error", "", "{\"error\":\"boom\"}");
	case FAKE_HANG: return strdup("");
	case FAKE_CLOSE: return NULL;
	case FAKE_GARBAGE: return format_response("200 OK", "", "<html>not json</html>");
	case FAKE_NO_MODELS: return format_response("200 OK", "", "{}");
	case FAKE_CHUNKED: return format_chunked(body, 7);
	case FAKE_HUGE:
		return format_response("200 OK", "Content-Length: 100000000\r\n\r\n{\"models\":[", NULL);
	case FAKE_CHUNKED_HUGE: return format_chunked_huge();
	case FAKE_PS_404:
		return strcmp(path, "/api/ps") == 0 ?
		    format_response("404 Not Found", "", "404 page not found") :
		    format_response("200 OK", "", body);
	case FAKE_NO_LENGTH: break;
	}
	char *r = NULL;
	return asprintf(&r, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n%s", body) < 0 ?
	    NULL : r;
}
