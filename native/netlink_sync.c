/*
 * A synchronous rtnetlink request: one datagram of requests sent on a NETLINK_ROUTE socket of
 * this addon's own, and the kernel's answers to them read in the same call.
 *
 *   routeBatch(datagram: Uint8Array, count: number): number[]
 *
 * `datagram` holds `count` complete netlink messages, each asking for an ACK (NLM_F_ACK), each
 * with its own sequence number. The kernel handles a NETLINK_ROUTE request inside the sendto
 * that carries it and queues its answer before sendto returns, so the answers are read without
 * waiting (one that is missing then, after an overrun or a malformed message, never comes).
 * Returns a flat array [seq, errno, seq, errno, ...] (errno positive, 0 = done) of the
 * NLMSG_ERROR answers read, in the order read; a message with no answer in it was not answered.
 * Like any rtnetlink request, the sendto waits for the kernel's rtnl lock.
 *
 * The socket is opened at the first call (in the network namespace the process is in then) and
 * kept; its receive buffer is raised (1 MiB) so that the answers of a full batch fit. Only the kernel can
 * send to it (unicast from another port would need the same network namespace and our port,
 * and answers not matching a request of the call are ignored by the caller).
 *
 * Errors: a failed socket, sendto or recv throws an Error carrying `errno`, `code` and
 * `syscall` (errors.h); a bad argument throws TypeError 'ERR_INVALID_ARG_TYPE'.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>

#include "args.h"
#include "errors.h"

#define MAX_MESSAGES 256
#define RCVBUF_BYTES (1024 * 1024)

void netlink_sync_register(napi_env env, napi_value exports);

static int route_fd = -1;

static int route_socket(void) {
  if (route_fd >= 0) return route_fd;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  int size = RCVBUF_BYTES;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  route_fd = fd;
  return fd;
}

/* Reads what is queued, without waiting; appends [seq, errno] pairs to out. Returns the number
 * of pairs added, or -1 (errno set). An overrun (ENOBUFS: answers were lost) reads on. */
static int read_answers(int fd, uint32_t *out, int room) {
  static uint8_t buf[64 * 1024] __attribute__((aligned(8)));
  int added = 0;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == ENOBUFS)) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return added;
    if (n < 0) return -1;
    int left = (int)n;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) continue;
      if (added >= room) continue;
      const struct nlmsgerr *e = (const struct nlmsgerr *)NLMSG_DATA(h);
      out[2 * added] = h->nlmsg_seq;
      out[2 * added + 1] = (uint32_t)(e->error < 0 ? -e->error : e->error);
      added++;
    }
  }
}

/* routeBatch(datagram, count) -> [seq, errno, ...] */
static napi_value js_route_batch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "routeBatch(datagram, count) needs two arguments");
  size_t len = 0;
  void *data = NULL;
  if (get_uint8_array(env, argv[0], "datagram must be a Buffer or Uint8Array", &data, &len) != 0) return NULL;
  uint32_t count;
  if (get_uint32_in(env, argv[1], 1, MAX_MESSAGES, "count must be an integer 1..256", &count) != 0) return NULL;
  if (len < NLMSG_HDRLEN) return throw_type(env, "datagram is shorter than a netlink header");

  int fd = route_socket();
  if (fd < 0) return throw_errno(env, errno, "socket", "(NETLINK_ROUTE)");
  /* Answers left by an earlier call that gave up waiting belong to nobody now. */
  uint32_t pairs[2 * MAX_MESSAGES];
  (void)read_answers(fd, pairs, MAX_MESSAGES);

  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do {
    sent = sendto(fd, data, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return throw_errno(env, errno, "sendto", "(NETLINK_ROUTE)");

  int got = read_answers(fd, pairs, MAX_MESSAGES);
  if (got < 0) return throw_errno(env, errno, "recv", "(NETLINK_ROUTE)");

  napi_value arr;
  NAPI_CALL(env, napi_create_array_with_length(env, (size_t)(2 * got), &arr));
  for (int i = 0; i < 2 * got; i++) {
    napi_value x;
    NAPI_CALL(env, napi_create_uint32(env, pairs[i], &x));
    NAPI_CALL(env, napi_set_element(env, arr, (uint32_t)i, x));
  }
  return arr;
}

void netlink_sync_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"routeBatch", NULL, js_route_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    throw_napi_failure(env, "napi_define_properties");
}
