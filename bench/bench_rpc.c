/* RPC benchmarks against a running nativerouted, each next to a baseline
 * measured in the same run: a raw Unix-socket echo server (ping-pong of
 * messages of the same size) shows what the transport alone costs.
 *
 *   bench_rpc SOCKET NODE     node.get NODE: pipelined requests/s (window 64),
 *                             sequential round trip p50/p99, and 64
 *                             concurrent clients x 500 requests (errors counted)
 *
 * Plain blocking sockets and msgpack-c: this is what any client does. */
#include <errno.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 64
#define PIPELINED 200000
#define SEQUENTIAL 20000
#define CLIENTS 64
#define PER_CLIENT 500

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "connect %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void write_all(int fd, const void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n <= 0) {
			perror("write");
			exit(1);
		}
		off += (size_t)n;
	}
}

/* [0, id, "node.get", [{"name": NODE}]] */
static void encode_get(msgpack_sbuffer *sb, uint32_t id, const char *node)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint32(&pk, id);
	msgpack_pack_str_with_body(&pk, "node.get", 8);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, node, strlen(node));
}

/* Read responses until `want` have arrived; count those with an error. */
struct reader {
	int fd;
	msgpack_unpacker up;
	size_t errors;
	size_t last_len;
};

static void reader_init(struct reader *r, int fd)
{
	r->fd = fd;
	r->errors = 0;
	msgpack_unpacker_init(&r->up, 1 << 16);
}

static size_t read_responses(struct reader *r, size_t want)
{
	msgpack_unpacked msg;
	size_t got = 0;

	msgpack_unpacked_init(&msg);
	while (got < want) {
		ssize_t n;

		while (msgpack_unpacker_next(&r->up, &msg) == MSGPACK_UNPACK_SUCCESS) {
			const msgpack_object *o = &msg.data;

			if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 4 &&
			    o->via.array.ptr[2].type != MSGPACK_OBJECT_NIL)
				r->errors++;
			got++;
		}
		if (got >= want)
			break;
		msgpack_unpacker_reserve_buffer(&r->up, 1 << 16);
		n = read(r->fd, msgpack_unpacker_buffer(&r->up), msgpack_unpacker_buffer_capacity(&r->up));
		if (n <= 0) {
			fprintf(stderr, "read: %s\n", n ? strerror(errno) : "connection closed");
			exit(1);
		}
		msgpack_unpacker_buffer_consumed(&r->up, (size_t)n);
	}
	msgpack_unpacked_destroy(&msg);
	return got;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- the baseline: an echo server on a Unix socket ------------------------- */

static pid_t echo_server(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 128) < 0) {
		perror("echo server");
		exit(1);
	}
	pid = fork();
	if (pid == 0) {
		for (;;) {
			int c = accept(lfd, NULL, NULL);
			char buf[1 << 16];
			ssize_t n;

			if (c < 0)
				continue;
			if (fork() == 0) {
				while ((n = read(c, buf, sizeof(buf))) > 0)
					write_all(c, buf, (size_t)n);
				_exit(0);
			}
			close(c);
		}
	}
	close(lfd);
	return pid;
}

/* Ping-pong of `len`-byte messages: sequential round trips and a pipelined
 * stream with the same window as the RPC run. */
static void baseline(const char *path, size_t len, double *rps, double *p50, double *p99)
{
	int fd = dial(path);
	char *msg = calloc(1, len), *back = malloc(len * WINDOW);
	double *rtt = calloc(SEQUENTIAL, sizeof(*rtt)), t0;

	for (size_t i = 0; i < SEQUENTIAL; i++) {
		double t = now();

		write_all(fd, msg, len);
		for (size_t got = 0; got < len;)
			got += (size_t)read(fd, back, len - got);
		rtt[i] = now() - t;
	}
	qsort(rtt, SEQUENTIAL, sizeof(*rtt), cmp_double);
	*p50 = rtt[SEQUENTIAL / 2] * 1e6;
	*p99 = rtt[SEQUENTIAL * 99 / 100] * 1e6;
	t0 = now();
	for (size_t done = 0; done < PIPELINED; done += WINDOW) {
		for (int w = 0; w < WINDOW; w++)
			write_all(fd, msg, len);
		for (size_t got = 0; got < len * WINDOW;) {
			ssize_t n = read(fd, back, len * WINDOW - got);

			if (n <= 0)
				exit(1);
			got += (size_t)n;
		}
	}
	*rps = PIPELINED / (now() - t0);
	close(fd);
	free(msg);
	free(back);
	free(rtt);
}

/* ---- nativerouted ---------------------------------------------------------- */

static void rpc_sequential(const char *path, const char *node, double *p50, double *p99,
			   size_t *errors)
{
	int fd = dial(path);
	struct reader r;
	msgpack_sbuffer sb;
	double *rtt = calloc(SEQUENTIAL, sizeof(*rtt));

	reader_init(&r, fd);
	msgpack_sbuffer_init(&sb);
	for (uint32_t i = 0; i < SEQUENTIAL; i++) {
		double t = now();

		encode_get(&sb, i, node);
		write_all(fd, sb.data, sb.size);
		read_responses(&r, 1);
		rtt[i] = now() - t;
	}
	qsort(rtt, SEQUENTIAL, sizeof(*rtt), cmp_double);
	*p50 = rtt[SEQUENTIAL / 2] * 1e6;
	*p99 = rtt[SEQUENTIAL * 99 / 100] * 1e6;
	*errors = r.errors;
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacker_destroy(&r.up);
	free(rtt);
	close(fd);
}

static double rpc_pipelined(const char *path, const char *node, size_t count, size_t *errors)
{
	int fd = dial(path);
	struct reader r;
	msgpack_sbuffer sb, batch;
	double t0;

	reader_init(&r, fd);
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&batch);
	t0 = now();
	for (size_t done = 0; done < count; done += WINDOW) {
		msgpack_sbuffer_clear(&batch);
		for (int w = 0; w < WINDOW; w++) {
			encode_get(&sb, (uint32_t)(done + w), node);
			msgpack_sbuffer_write(&batch, sb.data, sb.size);
		}
		write_all(fd, batch.data, batch.size);
		read_responses(&r, WINDOW);
	}
	t0 = now() - t0;
	*errors = r.errors;
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&batch);
	msgpack_unpacker_destroy(&r.up);
	close(fd);
	return count / t0;
}

/* CLIENTS processes at once, each PER_CLIENT pipelined requests. Returns the
 * number of clients that failed or saw an error response. */
static int rpc_concurrent(const char *path, const char *node, double *seconds)
{
	pid_t pids[CLIENTS];
	int bad = 0;
	double t0 = now();

	for (int c = 0; c < CLIENTS; c++) {
		pids[c] = fork();
		if (pids[c] == 0) {
			size_t errors;

			rpc_pipelined(path, node, PER_CLIENT - PER_CLIENT % WINDOW + WINDOW, &errors);
			_exit(errors ? 1 : 0);
		}
	}
	for (int c = 0; c < CLIENTS; c++) {
		int st;

		waitpid(pids[c], &st, 0);
		bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	*seconds = now() - t0;
	return bad;
}

int main(int argc, char **argv)
{
	char echo_path[] = "/tmp/nrbench-echo.XXXXXX";
	double b_rps, b_p50, b_p99, r_rps, r_p50, r_p99, conc_s;
	size_t seq_err, pipe_err, len;
	msgpack_sbuffer sb;
	pid_t echo;
	int bad;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_rpc SOCKET NODE\n");
		return 2;
	}
	msgpack_sbuffer_init(&sb);
	encode_get(&sb, 1, argv[2]);
	len = sb.size; /* the baseline echoes messages of the request's size */
	msgpack_sbuffer_destroy(&sb);
	if (!mkdtemp(echo_path))
		return 1;
	strcat(echo_path, "/s");
	echo = echo_server(echo_path);
	baseline(echo_path, len, &b_rps, &b_p50, &b_p99);
	kill(echo, SIGKILL);
	waitpid(echo, NULL, 0);
	unlink(echo_path);
	*strrchr(echo_path, '/') = '\0';
	rmdir(echo_path);

	rpc_sequential(argv[1], argv[2], &r_p50, &r_p99, &seq_err);
	r_rps = rpc_pipelined(argv[1], argv[2], PIPELINED, &pipe_err);
	bad = rpc_concurrent(argv[1], argv[2], &conc_s);
	printf("baseline msg_bytes=%zu pipelined_rps=%.0f p50_us=%.1f p99_us=%.1f\n", len, b_rps,
	       b_p50, b_p99);
	printf("rpc node.get pipelined_rps=%.0f p50_us=%.1f p99_us=%.1f errors=%zu\n", r_rps, r_p50,
	       r_p99, seq_err + pipe_err);
	printf("concurrent clients=%d requests_each=%d seconds=%.3f failed_clients=%d\n", CLIENTS,
	       PER_CLIENT - PER_CLIENT % WINDOW + WINDOW, conc_s, bad);
	return bad || seq_err || pipe_err ? 1 : 0;
}
