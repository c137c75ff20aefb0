/*
 * loadgen: an open-loop HTTP load generator at a fixed rate, for bench/intake.sh.
 *
 *   loadgen --port PORT --token TOKEN [--host 127.0.0.1] [--rate 1000] [--seconds 30]
 *           [--connections 32] [--run ID]
 *
 * Creates cases (POST /v1/cases) at a fixed rate over keep-alive connections, each with a
 * realistic Chinese case body and its own Idempotency-Key ("<run>-<n>"). Request n is due at
 * t0 + n / rate; its latency runs from that instant, not from when a connection was free, so
 * a stall of the server counts in full for every request it delays (no coordinated
 * omission). Prints one machine-readable line:
 *
 *   RESULT sent=N ok=N failed=N rate=R p50=MS p90=MS p99=MS p999=MS max=MS
 *
 * (failed: any answer but 2xx, a broken connection, or no answer 10 s after the end) and
 * exits 0 when every request got a 2xx.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "loadgen_schedule.h"

#define DRAIN_SECONDS 10.0 /* after the last due request, how long answers may still come */

typedef enum ConnState { CONN_CONNECTING, CONN_IDLE, CONN_HEAD, CONN_BODY } ConnState;

typedef struct Gen Gen;

typedef struct Conn {
	Gen *gen;
	struct bufferevent *bev;
	ConnState state;
	double due;       /* when the request in flight was due */
	size_t body_left; /* bytes of the answer's body still to read */
	int status;       /* of the answer being read */
	bool close_after; /* the server said Connection: close */
} Conn;

struct Gen {
	struct event_base *base;
	struct event *tick;
	struct sockaddr_in addr;
	const char *host, *token, *run;
	int port;
	double rate, seconds, t0;
	uint64_t total;   /* requests to send: rate * seconds */
	uint64_t next;    /* index of the next request to send */
	uint64_t done;    /* answered or failed */
	uint64_t ok, failed;
	double *latency;  /* ms, one per answered request */
	size_t nlatency;
	Conn *conns;
	int nconns;
};

static const char *const texts[] = {
	"市民来电反映，风光路与解放路交叉口每天早上有人占道摆摊，影响行人和车辆通行。",
	"来电人反映，小区楼下的路灯坏了一个多月，晚上出行很不方便，希望尽快维修。",
	"市民反映，家附近的工地晚上十一点以后还在施工，噪音很大，严重影响休息。",
	"来电人咨询，孩子明年上小学需要准备哪些材料，户口不在本区能不能报名。",
	"市民反映，小区门口的自来水管道破裂，水一直往外冒，已经流了两天了。",
	"来电人反映，在农贸市场买的排骨缺斤少两，怀疑摊主的秤有问题，要求处理。",
	"市民反映，家里的宽带这一周天天断网，报修了三次，师傅来了看看就走了。",
	"来电人反映，公交站台的顶棚破损漏雨，下雨天候车的市民没处躲雨。",
};
static const char *const districts[] = {"驿城区", "上蔡县", "遂平县", "确山县", "高新区", "示范区"};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))
#define NDISTRICTS (sizeof(districts) / sizeof(districts[0]))

static void conn_open(Conn *c);
static void conn_send(Conn *c, uint64_t n);
static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void gen_dispatch(Gen *g);
static void gen_finish_one(Gen *g, Conn *c, bool ok);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 *********************************
 * Connections
 *********************************
 */

static void
conn_open(Conn *c)
{
	Gen *g = c->gen;

	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = bufferevent_socket_new(g->base, -1, BEV_OPT_CLOSE_ON_FREE);
	c->state = CONN_CONNECTING;
	if (!c->bev) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&g->addr, sizeof(g->addr)) != 0)
		conn_event_cb(c->bev, BEV_EVENT_ERROR, c);
}

/* Request n: a case body that differs per request, and the key "<run>-<n>". */
static void
conn_send(Conn *c, uint64_t n)
{
	Gen *g = c->gen;
	char body[1024];
	int len = snprintf(body, sizeof(body),
			   "{\"text\":\"%s（负载测试 %s-%llu）\",\"district\":\"%s\",\"channel\":\"phone\","
			   "\"type\":\"complaint\",\"caller\":{\"name\":\"张先生\",\"phone\":\"13800000000\"}}",
			   texts[n % NTEXTS], g->run, (unsigned long long)n, districts[n % NDISTRICTS]);

	c->due = g->t0 + (double)n / g->rate;
	c->state = CONN_HEAD;
	evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "POST /v1/cases HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
			    "Content-Type: application/json\r\nIdempotency-Key: %s-%llu\r\n"
			    "Content-Length: %d\r\n\r\n%s",
			    g->host, g->port, g->token, g->run, (unsigned long long)n, len, body);
}

/* Parse the head of an answer: status and Content-Length (the server always sends one). */
static bool
conn_parse_head(Conn *c, const char *head)
{
	const char *p;

	if (sscanf(head, "HTTP/1.%*d %d", &c->status) != 1)
		return false;
	c->body_left = 0;
	c->close_after = false;
	for (p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			c->body_left = strtoul(p + 17, NULL, 10);
		else if (strncasecmp(p + 2, "Connection: close", 17) == 0)
			c->close_after = true;
	}
	return true;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	Conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		if (c->state == CONN_HEAD) {
			struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			char head[4096];
			size_t n;

			if (end.pos < 0)
				return;
			n = (size_t)end.pos + 4;
			if (n >= sizeof(head)) {
				conn_event_cb(bev, BEV_EVENT_ERROR, c);
				return;
			}
			evbuffer_remove(in, head, n);
			head[n] = '\0';
			if (!conn_parse_head(c, head)) {
				conn_event_cb(bev, BEV_EVENT_ERROR, c);
				return;
			}
			c->state = CONN_BODY;
		}
		if (c->state != CONN_BODY || evbuffer_get_length(in) < c->body_left)
			return;
		evbuffer_drain(in, c->body_left);
		c->state = CONN_IDLE;
		gen_finish_one(c->gen, c, c->status >= 200 && c->status < 300);
		if (c->close_after) {
			conn_open(c);
			return;
		}
		gen_dispatch(c->gen);
		if (c->state != CONN_HEAD)
			return;
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	Conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->state = CONN_IDLE;
		gen_dispatch(c->gen);
		return;
	}
	if (c->state == CONN_HEAD || c->state == CONN_BODY)
		gen_finish_one(c->gen, c, false);
	conn_open(c); /* the next request gets a fresh connection */
}

/*
 *********************************
 * The schedule
 *********************************
 */

static void
gen_finish_one(Gen *g, Conn *c, bool ok)
{
	g->done++;
	if (ok) {
		g->ok++;
		g->latency[g->nlatency++] = (now_s() - c->due) * 1000.0;
	} else {
		g->failed++;
	}
	if (g->done == g->total)
		event_base_loopexit(g->base, NULL);
}

/* Send every request that is due, on idle connections, oldest first. */
static void
gen_dispatch(Gen *g)
{
	uint64_t due = schedule_due(now_s(), g->t0, g->rate, g->total);

	for (int i = 0; i < g->nconns && g->next < due; i++) {
		if (g->conns[i].state == CONN_IDLE)
			conn_send(&g->conns[i], g->next++);
	}
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	Gen *g = arg;

	(void)fd;
	(void)what;
	gen_dispatch(g);
	if (now_s() > g->t0 + g->seconds + DRAIN_SECONDS)
		event_base_loopexit(g->base, NULL);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
percentile(const double *sorted, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return NAN;
	i = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[i > 0 ? i - 1 : 0];
}

static void
usage(void)
{
	fputs("usage: loadgen --port PORT --token TOKEN [--host 127.0.0.1] [--rate 1000] [--seconds 30]\n"
	      "               [--connections 32] [--run ID]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"host", required_argument, NULL, 'h'}, {"port", required_argument, NULL, 'p'},
		{"token", required_argument, NULL, 't'}, {"rate", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 's'}, {"connections", required_argument, NULL, 'c'},
		{"run", required_argument, NULL, 'u'}, {NULL, 0, NULL, 0},
	};
	Gen g = {.host = "127.0.0.1", .rate = 1000, .seconds = 30, .nconns = 32, .run = "loadgen"};
	struct timeval tv = {0, 1000};
	double elapsed;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': g.host = optarg; break;
		case 'p': g.port = atoi(optarg); break;
		case 't': g.token = optarg; break;
		case 'r': g.rate = atof(optarg); break;
		case 's': g.seconds = atof(optarg); break;
		case 'c': g.nconns = atoi(optarg); break;
		case 'u': g.run = optarg; break;
		default: usage();
		}
	}
	if (g.port <= 0 || !g.token || g.rate <= 0 || g.seconds <= 0 || g.nconns <= 0 ||
	    inet_pton(AF_INET, g.host, &g.addr.sin_addr) != 1)
		usage();
	g.addr.sin_family = AF_INET;
	g.addr.sin_port = htons((uint16_t)g.port);
	g.total = (uint64_t)llround(g.rate * g.seconds);
	g.latency = calloc(g.total ? g.total : 1, sizeof(double));
	g.conns = calloc((size_t)g.nconns, sizeof(Conn));
	g.base = event_base_new();
	if (!g.latency || !g.conns || !g.base) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	for (int i = 0; i < g.nconns; i++) {
		g.conns[i].gen = &g;
		conn_open(&g.conns[i]);
	}
	g.t0 = now_s() + 0.2; /* let the connections open first */
	g.tick = event_new(g.base, -1, EV_PERSIST, tick_cb, &g);
	event_add(g.tick, &tv);
	event_base_dispatch(g.base);
	elapsed = now_s() - g.t0;

	qsort(g.latency, g.nlatency, sizeof(double), cmp_double);
	g.failed += g.total - g.done; /* never answered */
	printf("RESULT sent=%llu ok=%llu failed=%llu rate=%.1f p50=%.3f p90=%.3f p99=%.3f p999=%.3f max=%.3f\n",
	       (unsigned long long)g.next, (unsigned long long)g.ok, (unsigned long long)g.failed,
	       (double)g.ok / (elapsed < g.seconds ? g.seconds : elapsed),
	       percentile(g.latency, g.nlatency, 50), percentile(g.latency, g.nlatency, 90),
	       percentile(g.latency, g.nlatency, 99), percentile(g.latency, g.nlatency, 99.9),
	       g.nlatency ? g.latency[g.nlatency - 1] : NAN);
	for (int i = 0; i < g.nconns; i++)
		if (g.conns[i].bev)
			bufferevent_free(g.conns[i].bev);
	event_free(g.tick);
	event_base_free(g.base);
	free(g.conns);
	free(g.latency);
	return g.failed == 0 ? 0 : 1;
}
