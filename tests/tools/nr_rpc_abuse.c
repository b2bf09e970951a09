/* Peers that use up the daemon's resources, for tests/integration/
 * test_rpc_limits.sh (raw sockets: the client library would never do this).
 *
 *   nr_rpc_abuse SOCKET pipeline SECONDS  send `status` requests as fast as the
 *                                        socket takes them and never read, for
 *                                        SECONDS; prints how many went out and
 *                                        whether the daemon hung up
 *   nr_rpc_abuse SOCKET hold N SECONDS    open N connections, send nothing, keep
 *                                        them SECONDS; prints how many the daemon
 *                                        refused at once ("refused") and how many
 *                                        it closed later ("closed"), with the
 *                                        reason of its disconnect notification
 *   nr_rpc_abuse SOCKET trickle SECONDS   send the first half of a request, then
 *                                        nothing; prints after how many ms the
 *                                        daemon closed and its reason
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

static const char *sock_path;

static int connect_sock(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* What the daemon said before closing: the message of its disconnect
 * notification, or "" (read without blocking; EOF or data). Returns 1 when
 * the connection is closed (EOF), 0 while it is open. */
static int peer_closed(int fd, char *why, size_t whylen)
{
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	msgpack_unpacked u;
	size_t off = 0;

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
	if (n == 0)
		return 1;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, buf, (size_t)n, &off) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 3) {
		msgpack_object *a = &u.data.via.array.ptr[2];

		if (a->type == MSGPACK_OBJECT_ARRAY && a->via.array.size == 1 &&
		    a->via.array.ptr[0].type == MSGPACK_OBJECT_MAP) {
			msgpack_object *m = &a->via.array.ptr[0];

			for (uint32_t i = 0; i < m->via.map.size; i++)
				if (m->via.map.ptr[i].key.via.str.size == 7 &&
				    !memcmp(m->via.map.ptr[i].key.via.str.ptr, "message", 7))
					snprintf(why, whylen, "%.*s", (int)m->via.map.ptr[i].val.via.str.size,
						 m->via.map.ptr[i].val.via.str.ptr);
		}
	}
	msgpack_unpacked_destroy(&u);
	/* The notification is followed by EOF. */
	return recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 0 ? 1 : 0;
}

static const unsigned char status_req[] = { 0x94, 0x00, 0x01, 0xa6, 's', 't', 'a', 't',
					    'u', 's', 0x90 };

static int run_pipeline(double seconds)
{
	int fd = connect_sock();
	double end = now_ms() + seconds * 1e3;
	unsigned char batch[sizeof(status_req) * 256];
	long sent = 0;
	char why[256] = "";

	if (fd < 0) {
		perror("connect");
		return 2;
	}
	for (size_t i = 0; i < 256; i++)
		memcpy(batch + i * sizeof(status_req), status_req, sizeof(status_req));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, batch, sizeof(batch), MSG_NOSIGNAL);

		if (n > 0) {
			sent += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		poll(&pfd, 1, 50);
	}
	printf("pipeline: %ld request bytes sent (%ld requests), %s\n", sent,
	       sent / (long)sizeof(status_req),
	       peer_closed(fd, why, sizeof(why)) ? "closed by the daemon" : "still connected");
	close(fd);
	return 0;
}

static int run_hold(long n, double seconds)
{
	int *fds = calloc((size_t)n, sizeof(*fds));
	char why[256] = "", first_why[256] = "";
	long refused = 0, closed = 0, failed = 0;
	double end;

	for (long i = 0; i < n; i++) {
		fds[i] = connect_sock();
		if (fds[i] < 0)
			failed++;
	}
	/* A refused connection hears why and is closed at once. */
	usleep(300 * 1000);
	for (long i = 0; i < n; i++) {
		if (fds[i] >= 0 && peer_closed(fds[i], why, sizeof(why))) {
			if (!refused++)
				snprintf(first_why, sizeof(first_why), "%s", why);
			close(fds[i]);
			fds[i] = -1;
		}
	}
	printf("hold: %ld connected, %ld refused at once (%s), %ld connect failures\n",
	       n - refused - failed, refused, first_why, failed);
	fflush(stdout);
	end = now_ms() + seconds * 1e3;
	first_why[0] = '\0';
	while (now_ms() < end) {
		usleep(100 * 1000);
		for (long i = 0; i < n; i++) {
			if (fds[i] >= 0 && peer_closed(fds[i], why, sizeof(why))) {
				if (!closed++)
					snprintf(first_why, sizeof(first_why), "%s", why);
				close(fds[i]);
				fds[i] = -1;
			}
		}
	}
	printf("hold: %ld closed by the daemon later (%s), %ld still open\n", closed, first_why,
	       n - refused - failed - closed);
	for (long i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

static int run_trickle(double seconds)
{
	int fd = connect_sock();
	double t0 = now_ms(), end = t0 + seconds * 1e3;
	char why[256] = "";

	if (fd < 0) {
		perror("connect");
		return 2;
	}
	send(fd, status_req, sizeof(status_req) / 2, MSG_NOSIGNAL);
	while (now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 100) > 0 && peer_closed(fd, why, sizeof(why))) {
			printf("trickle: closed after %.0f ms (%s)\n", now_ms() - t0, why);
			close(fd);
			return 0;
		}
	}
	printf("trickle: still connected after %.0f ms\n", now_ms() - t0);
	close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: nr_rpc_abuse SOCKET pipeline SEC | hold N SEC | trickle SEC\n");
		return 2;
	}
	sock_path = argv[1];
	if (!strcmp(argv[2], "pipeline"))
		return run_pipeline(atof(argv[3]));
	if (!strcmp(argv[2], "hold") && argc > 4)
		return run_hold(atol(argv[3]), atof(argv[4]));
	if (!strcmp(argv[2], "trickle"))
		return run_trickle(atof(argv[3]));
	fprintf(stderr, "unknown mode %s\n", argv[2]);
	return 2;
}
