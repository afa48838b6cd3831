/*
 * Drives the webhook dispatcher against the Node receiver (receiver.js)
 * on loopback with an in-memory source, and checks what arrived:
 *   in-order delivery; 500 then 200 gives two receipts and no more; a
 *   receiver down then back gets everything; a hung receiver does not
 *   delay another endpoint; stop within 1 s; private addresses refused,
 *   a name resolving to 127.0.0.1 included, unless allowed.
 *   driver RECEIVER_JS        exit 0 when every scenario passes
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "hooks/dispatch.h"
#include "hooks/sign.h"
#include "util/log.h"

#define MAXD 64

struct item {
	int64_t id, endpoint;
	char url[256];
	int allow_private;
	int attempts, state; /* 0 pending, 1 leased, 2 delivered, 3 failed */
	int64_t due_ms, first_ms;
	char error[256];
};

static struct {
	pthread_mutex_t lock;
	struct item it[MAXD];
	int n;
} mem = {PTHREAD_MUTEX_INITIALIZER, {{0}}, 0};

static char secret[HOOK_SECRET_SIZE];
static int failures;

#define CHECK(c, ...)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			failures++;                                                                \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

static int m_claim(void *ctx, struct hook_delivery *out, int max, int64_t now)
{
	int n = 0, i, j;

	(void)ctx;
	pthread_mutex_lock(&mem.lock);
	for (i = 0; i < mem.n && n < max; i++) {
		struct item *x = &mem.it[i];
		int head = 1;

		for (j = 0; j < i; j++)
			if (mem.it[j].endpoint == x->endpoint && mem.it[j].state < 2)
				head = 0;
		if (!head || x->state != 0 || x->due_ms > now)
			continue;
		x->state = 1;
		out[n].id = x->id;
		out[n].endpoint_id = x->endpoint;
		out[n].url = strdup(x->url);
		out[n].secret = strdup(secret);
		if (asprintf(&out[n].msg_id, "msg_%" PRId64, x->id) < 0)
			abort();
		if (asprintf(&out[n].body,
		             "{\"type\":\"token.ready\",\"data\":{\"n\":%" PRId64 "}}", x->id) < 0)
			abort();
		out[n].body_len = strlen(out[n].body);
		out[n].attempts = x->attempts;
		out[n].first_try_ms = x->first_ms;
		out[n].allow_private = x->allow_private;
		n++;
	}
	pthread_mutex_unlock(&mem.lock);
	return n;
}

static void m_record(void *ctx, const struct hook_delivery *d, const struct hook_attempt *a)
{
	(void)ctx;
	pthread_mutex_lock(&mem.lock);
	struct item *x = &mem.it[d->id - 1];
	x->attempts = a->attempt;
	x->first_ms = a->first_try_ms;
	x->state = a->outcome == HOOK_DELIVERED ? 2 : a->outcome == HOOK_FAILED ? 3 : 0;
	x->due_ms = a->next_ms;
	snprintf(x->error, sizeof(x->error), "%s", a->error != NULL ? a->error : "");
	pthread_mutex_unlock(&mem.lock);
}

static void m_release(void *ctx, const struct hook_delivery *d)
{
	(void)ctx;
	pthread_mutex_lock(&mem.lock);
	mem.it[d->id - 1].state = 0;
	pthread_mutex_unlock(&mem.lock);
}

static int64_t add(int64_t endpoint, const char *url, int allow_private)
{
	struct item *x;

	pthread_mutex_lock(&mem.lock);
	x = &mem.it[mem.n];
	memset(x, 0, sizeof(*x));
	x->id = ++mem.n;
	x->endpoint = endpoint;
	x->allow_private = allow_private;
	snprintf(x->url, sizeof(x->url), "%s", url);
	pthread_mutex_unlock(&mem.lock);
	return x->id;
}

static int state_of(int64_t id)
{
	int s;

	pthread_mutex_lock(&mem.lock);
	s = mem.it[id - 1].state;
	pthread_mutex_unlock(&mem.lock);
	return s;
}

/* ---- the receiver ---- */

static pid_t receiver(const char *js, int port, int *got_port)
{
	int fds[2];
	char arg[16], line[64];
	pid_t pid;
	FILE *f;

	if (pipe(fds) != 0)
		abort();
	snprintf(arg, sizeof(arg), "%d", port);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execlp("node", "node", js, arg, secret, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "listening %d", got_port) != 1) {
		printf("receiver did not start\n");
		exit(1);
	}
	fclose(f);
	return pid;
}

static size_t collect(char *p, size_t s, size_t n, void *u)
{
	return fwrite(p, s, n, u);
}

/* The receiver's records for paths starting with prefix. */
static json_t *receipts(int port, const char *prefix)
{
	char url[64], *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	CURL *e = curl_easy_init();
	json_t *all, *mine = json_array(), *r;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/_log", port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_perform(e);
	curl_easy_cleanup(e);
	fclose(f);
	all = json_loads(text != NULL ? text : "[]", 0, NULL);
	free(text);
	json_array_foreach(all, i, r)
	{
		const char *p = json_string_value(json_object_get(r, "path"));
		if (p != NULL && strncmp(p, prefix, strlen(prefix)) == 0)
			json_array_append(mine, r);
	}
	json_decref(all);
	return mine;
}

static int wait_state(int64_t id, int want, int64_t ms)
{
	int64_t end = mono_ms() + ms;

	while (mono_ms() < end) {
		if (state_of(id) == want)
			return 1;
		usleep(20000);
	}
	return state_of(id) == want;
}

int main(int argc, char **argv)
{
	static const char *resolve[] = {NULL, NULL};
	struct hook_source src = {m_claim, m_record, m_release, NULL};
	struct hook_dispatcher_config cfg;
	struct hook_dispatcher *d;
	char why[256], url[256], res[128];
	int port, port2, i;
	int64_t ids[20], t0;
	pid_t p1, p2;
	json_t *r;

	if (argc != 2) {
		fprintf(stderr, "usage: driver RECEIVER_JS\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	hook_secret_new(secret);
	p1 = receiver(argv[1], 0, &port);
	p2 = receiver(argv[1], 0, &port2);
	kill(p2, SIGKILL); /* the second receiver starts down */
	waitpid(p2, NULL, 0);
	snprintf(res, sizeof(res), "hooks.test:%d:127.0.0.1", port);
	resolve[0] = res;
	memset(&cfg, 0, sizeof(cfg));
	cfg.poll_ms = 50;
	cfg.backoff.base_ms = 100;
	cfg.backoff.cap_ms = 400;
	cfg.resolve = resolve;
	if (hook_dispatcher_start(&d, &src, &cfg, why, sizeof(why)) != 0) {
		printf("start: %s\n", why);
		return 1;
	}

	/* A hung endpoint first, then in-order, 500-then-200, private. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hang/h", port);
	add(1, url, 1);
	add(1, url, 1);
	t0 = mono_ms();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok/a", port);
	for (i = 0; i < 20; i++)
		ids[i] = add(2, url, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/fail-first/b", port);
	int64_t fb = add(3, url, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok/p", port);
	int64_t priv = add(4, url, 0);
	snprintf(url, sizeof(url), "http://hooks.test:%d/ok/n", port);
	int64_t named = add(5, url, 0);
	snprintf(url, sizeof(url), "http://hooks.test:%d/ok/m", port);
	int64_t named_ok = add(6, url, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok/c", port2);
	int64_t down[5];
	for (i = 0; i < 5; i++)
		down[i] = add(7, url, 1);
	hook_dispatcher_kick(d);

	CHECK(wait_state(ids[19], 2, 3000), "in-order endpoint not done");
	CHECK(mono_ms() - t0 < 3000, "a hung endpoint delayed another: %" PRId64 " ms",
	      mono_ms() - t0);
	r = receipts(port, "/ok/a/");
	r = json_array_size(r) ? r : (json_decref(r), receipts(port, "/ok/a"));
	CHECK(json_array_size(r) == 20, "in-order: %zu receipts", json_array_size(r));
	for (i = 0; i < (int)json_array_size(r); i++) {
		char want[32];
		json_t *x = json_array_get(r, (size_t)i);
		snprintf(want, sizeof(want), "msg_%" PRId64, ids[i]);
		CHECK(strcmp(json_string_value(json_object_get(x, "id")), want) == 0,
		      "order: %s at %d", json_string_value(json_object_get(x, "id")), i);
		CHECK(json_is_true(json_object_get(x, "verified")), "not verified");
	}
	json_decref(r);

	CHECK(wait_state(fb, 2, 3000), "500-then-200 not delivered");
	usleep(600000);
	r = receipts(port, "/fail-first/b");
	CHECK(json_array_size(r) == 2, "500-then-200: %zu receipts", json_array_size(r));
	json_decref(r);

	CHECK(wait_state(priv, 0, 2000) && strstr(mem.it[priv - 1].error, "loopback") != NULL,
	      "private literal: state %d, \"%s\"", state_of(priv), mem.it[priv - 1].error);
	CHECK(strstr(mem.it[named - 1].error, "127.0.0.1 is a loopback") != NULL,
	      "name resolving to loopback: \"%s\"", mem.it[named - 1].error);
	CHECK(wait_state(named_ok, 2, 2000), "allowed name not delivered");
	r = receipts(port, "/ok/p");
	CHECK(json_array_size(r) == 0, "private got %zu", json_array_size(r));
	json_decref(r);
	r = receipts(port, "/ok/n");
	CHECK(json_array_size(r) == 0, "refused name got %zu", json_array_size(r));
	json_decref(r);

	/* The down receiver comes back on its port and gets everything, in order. */
	CHECK(state_of(down[0]) != 2 && mem.it[down[0] - 1].attempts >= 2, "down: %d attempts",
	      mem.it[down[0] - 1].attempts);
	p2 = receiver(argv[1], port2, &port2);
	CHECK(wait_state(down[4], 2, 3000), "down-then-back not delivered");
	r = receipts(port2, "/ok/c");
	CHECK(json_array_size(r) == 5, "down-then-back: %zu receipts", json_array_size(r));
	json_decref(r);

	/* Stop with the hung transfer still in flight. */
	t0 = mono_ms();
	hook_dispatcher_stop(d);
	CHECK(mono_ms() - t0 < 1000, "stop took %" PRId64 " ms", mono_ms() - t0);
	kill(p1, SIGTERM);
	kill(p2, SIGTERM);
	waitpid(p1, NULL, 0);
	waitpid(p2, NULL, 0);
	curl_global_cleanup();
	printf("%s\n", failures ? "hooks driver: FAILED" : "hooks driver: ok");
	return failures ? 1 : 0;
}
