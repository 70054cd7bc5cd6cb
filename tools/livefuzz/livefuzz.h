/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz: a protocol fuzzer for a running agentcomd. Shared between its files:
 * options, the per-request random generator, the request tree (lf_node) with its arena
 * and encoder, the per-thread protocol state, the run's counters, and each file's entry
 * points. Tool-internal names use the lf_ prefix (as agentcom-bench uses bench_). Each
 * lf_worker belongs to one thread; only lf_run is shared, through atomics and its lock.
 */
#ifndef AGENTCOM_LIVEFUZZ_H
#define AGENTCOM_LIVEFUZZ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "agentcom/errors.h"
#include "codec/arena.h"

#define LF_AGENTS 3       /* agents each thread says hello for and drives */
#define LF_TASK_RING 256  /* task ids each thread remembers from replies */
#define LF_MAX_OPS 40     /* room in the per-op counters */
#define LF_MAX_THREADS 64
/* Encoded requests larger than this are not sent (counted as skipped): a mutation can
 * blow a tree up far past the server's 2 MiB limit, and one such drop is enough. */
#define LF_BUF_LIMIT (2621440u)

/* --- options (main.c) --- */
typedef struct lf_opts {
	const char *url;
	const char *token;    /* admin token ("" for a server started with --insecure) */
	const char *save_dir; /* where failing requests are written; NULL: nowhere */
	long long threads;
	long long seconds;    /* run length; 0 with --requests */
	long long requests;   /* total over all threads; 0 with --seconds */
	long long pad_rate;   /* percent of requests padded to 2^k - 4 bytes */
	long long deadline_ms; /* a reply must arrive within this (plus the request's wait) */
	uint64_t seed;
	bool has_seed;        /* --seed given; else main draws one from the clock */
} lf_opts;

/* --- random numbers (node.c): xorshift64, one generator per request --- */
typedef struct lf_rng {
	uint64_t s;
} lf_rng;

/* Seeds r for the n-th request of thread `thread` of a run with seed: the same three
 * numbers always give the same stream, whatever the server answered before. */
void lf_rng_seed(lf_rng *r, uint64_t seed, unsigned thread, uint64_t n);
uint64_t lf_rng_next(lf_rng *r);
/* A number in [0, n); 0 when n is 0. */
uint32_t lf_below(lf_rng *r, uint32_t n);
/* True pct times out of 100. */
bool lf_coin(lf_rng *r, int pct);

/* --- allocation (node.c): every node of one request lives in its generator's arena
 * (codec/arena.h), reset between requests. --- */
/* len zeroed bytes from a, valid until its next reset. Exits the process when the heap
 * is exhausted (a fuzzer without memory has nothing left to report). */
void *lf_alloc(ac_arena *a, size_t len);

/* --- the request tree (node.c) --- */
typedef enum lf_type {
	LF_NIL, LF_BOOL, LF_UINT, LF_INT, LF_F64, LF_F32, LF_STR, LF_BIN, LF_ARR, LF_MAP, LF_EXT
} lf_type;

typedef struct lf_node lf_node;
struct lf_node {
	lf_type type;
	bool b;
	uint64_t u;
	int64_t i;
	double d;      /* LF_F64, LF_F32 */
	char *s;       /* LF_STR, LF_BIN, LF_EXT bytes (len of them) */
	uint32_t len;
	int8_t ext;    /* LF_EXT type */
	lf_node **kids; /* LF_ARR: count items; LF_MAP: count entries as key, value pairs */
	uint32_t count;
	uint32_t cap;  /* items (arrays) or entries (maps) kids has room for */
};

/* One request's generator: its random stream and the arena its nodes live in. */
typedef struct lf_gen {
	lf_rng r;
	ac_arena a;
} lf_gen;

/* Constructors: the node lives in g's arena until its reset. Strings are copied. */
lf_node *lf_node_new(lf_gen *g, lf_type type);
lf_node *lf_nil(lf_gen *g);
lf_node *lf_bool(lf_gen *g, bool b);
lf_node *lf_uint(lf_gen *g, uint64_t u);
lf_node *lf_int(lf_gen *g, int64_t i);
lf_node *lf_f64(lf_gen *g, double d);
lf_node *lf_strn(lf_gen *g, const char *p, size_t len);
lf_node *lf_str(lf_gen *g, const char *s);
/* A string of len bytes, each ch. */
lf_node *lf_fill(lf_gen *g, char ch, uint32_t len);
lf_node *lf_container(lf_gen *g, lf_type type, uint32_t cap);
lf_node *lf_arr(lf_gen *g);
lf_node *lf_map(lf_gen *g);
void lf_push(lf_gen *g, lf_node *arr, lf_node *v);
void lf_put(lf_gen *g, lf_node *map, const char *key, lf_node *v);
/* An array of n strings. */
lf_node *lf_strs(lf_gen *g, uint32_t n, const char *const *v);
/* Whether x is the string key. */
bool lf_is_key(const lf_node *x, const char *key);
/* The index of map's entry with string key `key`, or -1. */
int lf_find(const lf_node *map, const char *key);
/* Swaps map entries i and j. */
void lf_swap(lf_node *map, uint32_t i, uint32_t j);

/* --- encoder (encode.c) --- */
typedef struct lf_buf {
	uint8_t *p;
	size_t len, cap;
	bool is_over; /* a write would have passed LF_BUF_LIMIT: the bytes are incomplete */
} lf_buf;

/* Append len bytes (one byte). Past LF_BUF_LIMIT, or when the heap is out, nothing is
 * written and is_over is set: such a request is counted as skipped, never sent. */
void lf_buf_put(lf_buf *b, const void *p, size_t len);
void lf_buf_byte(lf_buf *b, uint8_t v);
/* Frees b's bytes; a zeroed buffer is a no-op. */
void lf_buf_fini(lf_buf *b);
/* Appends x as msgpack. wide_pct of the values use a non-minimal encoding (uint 64,
 * str 32, array 32, map 32), which a decoder must accept as well. */
void lf_encode(lf_gen *g, lf_buf *b, const lf_node *x, int wide_pct);

/* --- counters, shared by every thread (report.c prints them) --- */
typedef struct lf_stats {
	_Atomic uint64_t sent, replies, ok, errors;
	_Atomic uint64_t malformed;    /* replies that broke the envelope (incl. unknown codes) */
	_Atomic uint64_t unknown_code; /* error codes not in include/agentcom/errors.h */
	_Atomic uint64_t missing;      /* no reply within the deadline, or the send failed */
	_Atomic uint64_t oversize_sent, oversize_dropped;
	_Atomic uint64_t skipped;      /* encoded past LF_BUF_LIMIT, not sent */
	_Atomic uint64_t padded;       /* sent padded to exactly 2^k - 4 bytes */
	_Atomic uint64_t valid;        /* sent without any mutation */
	_Atomic uint64_t valid_rejected; /* ... and refused as malformed or unauthorised */
	_Atomic uint64_t slowest_ms;   /* the slowest reply, its requested wait taken off */
	_Atomic uint64_t by_code[AC_ERR_COUNT];
	_Atomic uint64_t by_op[LF_MAX_OPS], ok_by_op[LF_MAX_OPS];
} lf_stats;

/* One run: options, counters and the stop flags every thread reads. */
typedef struct lf_run {
	const lf_opts *opts;
	lf_stats st;
	atomic_bool is_stopping;    /* a thread found the server down, or setup failed */
	atomic_bool is_server_down; /* a liveness ping after a missing reply got no answer */
	atomic_bool is_setup_failed;
	_Atomic int64_t last_done_ms; /* when some thread last finished a request */
	atomic_int running;         /* threads not yet returned from lf_worker_main */
	pthread_mutex_t log_lock;   /* guards the three counts below and stderr's line order */
	unsigned failures_shown, notes_shown, saved;
} lf_run;

/* --- per-thread protocol state (worker.c) --- */
typedef struct lf_agent {
	char id[64];
	char token[128];
	uint64_t task, generation; /* its current assignment, when has_task */
	bool has_task;
} lf_agent;

typedef struct lf_worker {
	lf_run *run;       /* borrowed; outlives the thread */
	unsigned index;    /* thread number, part of every request's seed */
	uint64_t quota;    /* requests to send; 0: until the run's end time */
	int64_t end_ms;    /* monotonic end of the run; 0 with a quota */
	lf_gen g;
	nng_socket sock;   /* REQ, opened by lf_wire_open */
	lf_agent agents[LF_AGENTS];
	uint64_t tasks[LF_TASK_RING]; /* ids seen in replies */
	unsigned task_count;
	char cursor[160];  /* the last task.list "next" */
	char token_ids[32][80];
	unsigned token_count;
	char endpoint_ids[16][320];
	unsigned endpoint_count;
	uint64_t n;        /* requests composed so far */
} lf_worker;

/* The request being sent and what the checks need to know about it. */
typedef struct lf_req {
	int op;        /* index into lf_ops; -1 for whole-message specials */
	int agent;     /* agent slot whose id it carries; -1 if none */
	int mutations; /* 0: a valid request */
	bool is_padded; /* padded to exactly 2^k - 4 bytes */
	int64_t wait_ms; /* how long the server may hold it on purpose (wait_ms, fetch_wait_ms) */
	lf_buf buf;
} lf_req;

/* --- the op table and request builders (build_ops.c, build_task.c) --- */
typedef void (*lf_build_fn)(lf_worker *w, lf_node *m, int agent);
typedef struct lf_op {
	const char *name;
	int weight;       /* relative share of requests */
	bool is_agent_op; /* carries agent_id; sent with that agent's token 60 % of the time */
	lf_build_fn build;
} lf_op;
extern const lf_op lf_ops[];
extern const int lf_op_count;

/* The index of op `name` in lf_ops, or -1. */
int lf_op_find(const char *name);
/* Warns on stderr about ops the server knows and lf_ops does not (not fuzzed until
 * they get a builder) and the reverse. */
void lf_ops_check(void);
/* A valid request for lf_ops[op] without its token; *agent is the slot it speaks for
 * (-1 if none) and *token (borrowed) the token it should carry. */
lf_node *lf_build(lf_worker *w, int op, int *agent, const char **token);
/* task.submit fields into m (full: every optional field may appear). */
void lf_build_submit_fields(lf_worker *w, lf_node *m, bool full);
/* The three targets of DESIGN §5.2. */
extern const char *const lf_targets[3];
/* A metadata-like map nested up to depth. */
lf_node *lf_build_meta(lf_gen *g, int depth);
/* task.list's filters, limit and cursor. */
void lf_build_list(lf_worker *w, lf_node *m, int agent);
/* A task id from the thread's ring, 5 % of the time (or with an empty ring) made up. */
uint64_t lf_some_task(lf_worker *w);

/* --- hostile values (values.c), in g's arena --- */
/* A short string that is not valid UTF-8 (or holds a NUL). */
lf_node *lf_value_bad_utf8(lf_gen *g);
/* A string of a length at or just past one of the protocol's limits (33 B..1.9 MB). */
lf_node *lf_value_big_str(lf_gen *g);
/* An edge integer (2^63, 2^64 - 1, INT64_MIN, past 32 bits...), a NaN, infinity or
 * float 32, or a random number. */
lf_node *lf_value_huge_num(lf_gen *g);
/* Any scalar or an empty container: nil, bool, number, "", bin, ext, bad UTF-8. */
lf_node *lf_value_scalar(lf_gen *g);
/* Leaf wrapped in depth arrays or single-key maps. */
lf_node *lf_value_deep(lf_gen *g, int depth, lf_node *leaf);
/* An array of one of a few boundary sizes, every item `item`. */
lf_node *lf_value_big_list(lf_gen *g, lf_node *item);

/* --- mutations (mutate.c, bytes.c) --- */
/* One structural mutation somewhere in root (a map). */
void lf_mutate(lf_worker *w, lf_node *root);
/* One byte-level mutation of an encoded request. */
void lf_mutate_bytes(lf_gen *g, lf_buf *b);
/* A whole hostile message (empty, not a map, two maps, ...) into b. */
void lf_special(lf_worker *w, lf_buf *b);
/* A ping just over the server's size limit into b. */
void lf_oversize(lf_worker *w, lf_buf *b);
/* Encodes m into b padded to 2^k - 4 bytes (nng then sizes the buffer exactly, so a
 * read past the request's end leaves it), token first and the op's fields last. True
 * when the size was hit exactly. */
bool lf_pad(lf_gen *g, lf_node *m, lf_buf *b);

/* --- replies (check.c, harvest.c) --- */
typedef enum lf_verdict {
	LF_REPLY_OK,           /* a well-formed success */
	LF_REPLY_ERROR,        /* a well-formed error reply with a documented code */
	LF_REPLY_MALFORMED,    /* not one map with ok, or a broken error map */
	LF_REPLY_UNKNOWN_CODE, /* an error code errors.h does not have */
} lf_verdict;

/* A checked reply. The decoded tree borrows the reply's bytes, which must outlive it. */
typedef struct lf_reply {
	msgpack_unpacked u;
	const msgpack_object *root; /* the reply map; NULL when malformed */
	ac_err code;       /* LF_REPLY_ERROR */
	char code_name[64];
	char message[256];
	char field[128];
	char why[96];      /* LF_REPLY_MALFORMED: what was wrong */
} lf_reply;

/* Checks reply p[0..len) against the envelope of DESIGN §4 and fills *r, which the
 * caller then frees with lf_reply_fini (even on a malformed verdict). */
lf_verdict lf_check_reply(lf_reply *r, const uint8_t *p, size_t len);
void lf_reply_fini(lf_reply *r);
/* The uint at key in map m (ac_mp_get of codec/schema.h finds it); false if absent. */
bool lf_mp_u64(const msgpack_object *m, const char *key, uint64_t *out);
/* Copies a string value into out (cap bytes, NUL-terminated); false if absent, not a
 * string, or too long. */
bool lf_mp_str(const msgpack_object *m, const char *key, char *out, size_t cap);
/* Adds id to the thread's ring of task ids (harvest.c). */
void lf_remember_task(lf_worker *w, uint64_t id);
/* Learns from a success reply to req: task ids, assignments, cursors, token and
 * endpoint ids for later requests. */
void lf_harvest(lf_worker *w, const lf_req *req, const msgpack_object *root);
/* Learns from an error reply: a fenced op refused drops the agent's assignment. */
void lf_harvest_error(lf_worker *w, const lf_req *req, ac_err code);

/* --- the wire (wire.c) --- */
/* Opens w->sock (REQ, no resends) and dials the run's URL in the background. nng code. */
int lf_wire_open(lf_worker *w);
/* Sends req and waits up to timeout_ms for the reply. 0 with *reply (caller frees with
 * nng_msg_free), else the nng code. */
int lf_wire_call(nng_socket s, const lf_buf *req, int64_t timeout_ms, nng_msg **reply);
/* Outcome of a request over the size limit, sent on a raw SP/TCP connection. */
typedef enum lf_oversize_result {
	LF_OVERSIZE_DROPPED,  /* the server closed the connection without a reply */
	LF_OVERSIZE_ANSWERED, /* it sent something back */
	LF_OVERSIZE_KEPT,     /* the connection stayed open past the deadline */
	LF_OVERSIZE_UNSENT,   /* not a tcp:// URL, or the connection failed */
} lf_oversize_result;
lf_oversize_result lf_wire_oversize(const char *url, const lf_buf *req, int64_t deadline_ms);
/* Whether a ping on a new connection gets any reply within timeout_ms. */
bool lf_wire_alive(const char *url, const char *token, int timeout_ms);

/* --- output (report.c) --- */
/* A failure (or, with is_note, something worth a look) about req: one line on stderr
 * with the request's hex, at most a few dozen per run; with --save-dir, the request's
 * bytes are written there too. Any thread. */
void lf_report(lf_run *run, const lf_worker *w, const lf_req *req, bool is_note,
    const char *kind, const uint8_t *reply, size_t reply_len, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* One progress line on stderr. */
void lf_report_progress(const lf_run *run, int64_t elapsed_ms);
/* The summary at the end on stdout; returns the exit status (0 pass, 1 fail). */
int lf_report_summary(const lf_run *run, bool is_server_up, bool is_stuck);
/* Raises *v to x when larger. */
void lf_atomic_max(_Atomic uint64_t *v, uint64_t x);

/* --- the thread (worker.c) --- */
/* Thread body: setup (agent tokens, hello), then requests until the quota, the end
 * time or a stop; decrements run->running when it returns. arg is an lf_worker, which
 * the thread owns until then. */
void *lf_worker_main(void *arg);

#endif
