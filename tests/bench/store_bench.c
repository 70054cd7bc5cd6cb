/* SPDX-License-Identifier: MIT
 * Store benchmark (not a test): put throughput under durability full at batch sizes
 * 1, 16 and 256, then the restart target of DESIGN §10: fill 1 000 000 live rows of
 * about 400 bytes, close, and time ac_store_open + ac_store_load_live, first with the
 * file evicted from the page cache, then warm. Usage: store_bench [dir] [rows].
 * It owns its data directory (a fresh one under /tmp unless dir is given) and removes
 * the database files when done.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt/clock.h"
#include "rt/log.h"
#include "store/store.h"

#define RECORD_LEN 400
#define FILL_BATCH 10000
#define PUT_SECONDS 2

typedef struct bench {
	char dir[512];
	char db_path[600];
	uint64_t next_id;
	uint8_t record[RECORD_LEN];
	char agent[32];
	char key[48];
	bool owns_dir; /* created by us under /tmp: removed at the end */
} bench;

typedef struct load_count {
	uint64_t rows;
	uint64_t bytes;
} load_count;

static bool count_row(void *ctx, const ac_task_row *row)
{
	load_count *c = ctx;

	c->rows++;
	c->bytes += row->record_len;
	return true;
}

/* A record that looks like a task's msgpack map: field names, a prompt, numbers. */
static void make_record(bench *b, uint64_t id)
{
	int n = snprintf((char *)b->record, sizeof b->record,
	    "\x8c\xa2id\xcf%08llx\xa6status\x02\xa8priority\x01\xa6prompt\xda"
	    "Summarise the attached report %llu and list the three main risks; ",
	    (unsigned long long)id, (unsigned long long)id);

	for (size_t i = (size_t)n; i < sizeof b->record; i++) {
		b->record[i] = (uint8_t)('a' + (id * 31 + i * 7) % 26);
	}
}

static ac_task_row make_row(bench *b, uint64_t id, int64_t now_ms)
{
	make_record(b, id);
	snprintf(b->agent, sizeof b->agent, "agent-%llu", (unsigned long long)(id % 64));
	snprintf(b->key, sizeof b->key, "submit-%llu", (unsigned long long)id);
	return (ac_task_row){ .id = id, .status = (int)(id % 3), .priority = (int)(id % 4),
		.assigned_to = id % 3 == 0 ? NULL : b->agent,
		.idempotency_key = id % 4 == 0 ? b->key : NULL, .created_at_ms = now_ms,
		.updated_at_ms = now_ms, .is_terminal = false, .record = b->record,
		.record_len = sizeof b->record };
}

/* One batch of count fresh rows plus the id high-water mark, committed. */
static ac_err put_batch(ac_store *s, bench *b, int count)
{
	int64_t now = ac_clock_wall_ms();
	ac_err err = ac_store_begin(s);

	for (int i = 0; i < count && err == AC_OK; i++) {
		ac_task_row r = make_row(b, b->next_id++, now);
		err = ac_store_put_task(s, &r);
	}
	err = err == AC_OK ? ac_store_set_next_id(s, b->next_id) : err;
	if (err != AC_OK) {
		ac_store_rollback(s);
		return err;
	}
	return ac_store_commit(s);
}

static void remove_db(const bench *b)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char path[640];

	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(path, sizeof path, "%s%s", b->db_path, suffixes[i]);
		unlink(path);
	}
}

static int bench_puts(bench *b, int batch)
{
	ac_store *s = NULL;
	uint64_t commits = 0;
	int64_t start, elapsed_us;

	remove_db(b);
	b->next_id = 1;
	if (ac_store_open(b->dir, AC_DURABILITY_FULL, &s) != AC_OK) {
		return 1;
	}
	start = ac_clock_mono_us();
	do {
		if (put_batch(s, b, batch) != AC_OK) {
			ac_store_close(s);
			return 1;
		}
		commits++;
		elapsed_us = ac_clock_mono_us() - start;
	} while (elapsed_us < PUT_SECONDS * 1000000LL);
	ac_store_close(s);
	printf("put  durability=full batch=%-4d  %9.0f ops/s  %7.0f commits/s  (%llu commits)\n",
	    batch, (double)commits * batch * 1e6 / (double)elapsed_us,
	    (double)commits * 1e6 / (double)elapsed_us, (unsigned long long)commits);
	return 0;
}

static int fill(bench *b, uint64_t rows)
{
	ac_store *s = NULL;
	int64_t start = ac_clock_mono_us();
	int rc = 0;

	remove_db(b);
	b->next_id = 1;
	if (ac_store_open(b->dir, AC_DURABILITY_FULL, &s) != AC_OK) {
		return 1;
	}
	while (rc == 0 && b->next_id <= rows) {
		uint64_t left = rows - b->next_id + 1;
		int n = left < FILL_BATCH ? (int)left : FILL_BATCH;
		rc = put_batch(s, b, n) == AC_OK ? 0 : 1;
	}
	ac_store_close(s);
	printf("fill %llu rows of %d bytes in batches of %d: %.1f s\n", (unsigned long long)rows,
	    RECORD_LEN, FILL_BATCH, (double)(ac_clock_mono_us() - start) / 1e6);
	return rc;
}

/* Drops the file's clean pages from the OS page cache so the next open reads the
 * disk (no root needed, unlike /proc/sys/vm/drop_caches). */
static void evict(const bench *b)
{
	int fd = open(b->db_path, O_RDONLY);

	if (fd >= 0) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

static int time_restart(bench *b, const char *label)
{
	ac_store *s = NULL;
	load_count c = { 0, 0 };
	int64_t t0 = ac_clock_mono_us(), t1, t2;
	ac_err err = ac_store_open(b->dir, AC_DURABILITY_FULL, &s);

	t1 = ac_clock_mono_us();
	err = err == AC_OK ? ac_store_load_live(s, count_row, &c) : err;
	t2 = ac_clock_mono_us();
	ac_store_close(s);
	if (err != AC_OK) {
		return 1;
	}
	printf("restart %-5s open %7.1f ms  load_live %7.1f ms  total %7.1f ms  "
	       "(%llu rows, %.1f MB of records)\n",
	    label, (double)(t1 - t0) / 1e3, (double)(t2 - t1) / 1e3, (double)(t2 - t0) / 1e3,
	    (unsigned long long)c.rows, (double)c.bytes / 1e6);
	return 0;
}

static int setup_dir(bench *b, const char *dir)
{
	if (dir != NULL && dir[0] != '\0') {
		snprintf(b->dir, sizeof b->dir, "%s", dir);
	} else {
		snprintf(b->dir, sizeof b->dir, "/tmp/ac_store_bench_XXXXXX");
		if (mkdtemp(b->dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		b->owns_dir = true;
	}
	snprintf(b->db_path, sizeof b->db_path, "%s/agentcom.db", b->dir);
	return 0;
}

int main(int argc, char **argv)
{
	static bench b;
	uint64_t rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	struct stat sb;
	int rc;

	ac_log_set_level(AC_LOG_WARN);
	if (setup_dir(&b, argc > 1 ? argv[1] : NULL) != 0) {
		return 1;
	}
	rc = bench_puts(&b, 1) || bench_puts(&b, 16) || bench_puts(&b, 256) || fill(&b, rows);
	if (rc == 0 && stat(b.db_path, &sb) == 0) {
		printf("database file %.1f MB\n", (double)sb.st_size / 1e6);
	}
	if (rc == 0) {
		evict(&b);
		rc = time_restart(&b, "cold") || time_restart(&b, "warm");
	}
	remove_db(&b);
	if (b.owns_dir) {
		rmdir(b.dir);
	}
	if (rc != 0) {
		fprintf(stderr, "store_bench: failed (see the store's log lines above)\n");
	}
	return rc;
}
