/*
 * haagent_native, part 2: VRRP over IPv6 (IP protocol 112 to ff02::12, RFC 5798 §5.1.2).
 *
 * Why native: a received IPv6 advert must be dropped unless its hop limit is 255 (RFC 5798
 * §7.1), and its checksum covers the IPv6 pseudo-header (source and destination address).
 * A raw IPv6 socket does not deliver the IPv6 header, so both come from recvmsg ancillary data
 * (IPV6_HOPLIMIT, IPV6_PKTINFO) and the source from msg_name; Node and `raw-socket` have no
 * recvmsg.
 *
 *   vrrp6Open(ifname, onMessage(msg: Buffer, src: string, dst: string, hopLimit: number),
 *             onError(err: Error)) -> handle (an external)
 *   vrrp6Send(handle, msg: Uint8Array, dst: string, src: string) -> bytes sent
 *   vrrp6Close(handle) -> undefined
 *
 * The socket: AF_INET6/SOCK_RAW/112, SO_BINDTODEVICE ifname, member of ff02::12 on that
 * interface only, multicast and unicast hop limit 255, no loopback of its own multicast, a
 * receive buffer of RCVBUF_BYTES (best effort).
 * Deliberately NOT done: bind() to an address (a bound raw IPv6 socket only receives packets
 * addressed to that address, which would drop the multicast), IPV6_CHECKSUM (the caller's codec
 * computes and verifies the VRRP checksum; the kernel neither fills nor checks it), and any
 * validation of the message (the codec does it, including the hop-limit check).
 *
 * Receiving: a uv_poll_t on the descriptor. On each readable event, recvmsg is called until
 * EAGAIN (at most RECV_BATCH messages per event, so a flood cannot starve timers: the poll is
 * level-triggered and fires again). Each message is copied into a new Buffer and passed to
 * onMessage with `src` (the sender, e.g. fe80::..., without a zone), `dst` (ff02::12 or our own
 * unicast address, "" if the kernel did not report it) and `hopLimit` (-1 if not reported, so
 * a hop-limit-255 check fails closed). A recvmsg failure other than EAGAIN/EINTR goes to
 * onError with the usual errno/code/syscall; the socket stays open. An exception thrown by a
 * callback is reported as an uncaught exception (napi_fatal_exception), like an event handler's.
 *
 * Lifetime: the socket keeps itself (and the event loop) alive until vrrp6Close, like a
 * dgram socket. vrrp6Close stops the poll and closes the descriptor at once (so it is safe from
 * inside onMessage: the receive loop notices and stops) and releases the callbacks when libuv
 * has closed the poll handle. The memory is freed when both that close has completed and the
 * handle object has been garbage collected.
 *
 * Errors thrown follow native/packet_socket.c: Error with errno/code/syscall; TypeError with
 * code ERR_INVALID_ARG_TYPE for wrong arguments; the TypeScript wrapper
 * (src/adapters/vrrp6-socket.ts) adds interface context.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "args.h"
#include "errors.h"

#define VRRP_PROTO 112
#define VRRP_HOPS 255
#define VRRP6_GROUP "ff02::12"
/* Messages read per readable event before yielding to the event loop. */
#define RECV_BATCH 64
/* Largest IPv6 payload without jumbograms. */
#define RECV_BUF_SIZE 65535
/*
 * Receive buffer asked for (the kernel doubles it): room for a burst of the adverts of every
 * instance on the interface at once (masters advertise on a shared tick grid), as the IPv4
 * socket asks for (src/adapters/vrrp-socket.ts). SO_RCVBUFFORCE needs CAP_NET_ADMIN; without
 * it SO_RCVBUF is capped at net.core.rmem_max. Best effort: the default still works, with less
 * room.
 */
#define RCVBUF_BYTES (1 << 20)

void vrrp6_register(napi_env env, napi_value exports);

/* Tag that proves an external came from vrrp6Open (napi_type_tag_object, Node-API 8). */
static const napi_type_tag VRRP6_TAG = {0x6861616765687636ULL, 0x7672727036736f63ULL};

typedef struct vrrp6 {
  napi_env env;
  int fd;                 /* -1 once closed */
  unsigned int ifindex;
  uv_poll_t poll;
  bool poll_init;         /* uv_poll_init succeeded: uv_close is needed before free */
  bool closing;           /* vrrp6Close (or the finalizer) has run */
  bool poll_closed;       /* uv_close callback done (or the poll was never initialised) */
  bool finalized;         /* the JS handle was garbage collected / the env is torn down */
  napi_ref self;          /* strong reference to the handle object while open */
  napi_ref on_message;
  napi_ref on_error;
  napi_async_context async_ctx;
  uint8_t buf[RECV_BUF_SIZE];
} vrrp6_t;

/* --- argument helpers ----------------------------------------------------------------- */

/* Reads an IPv6 address in text form. 0, or -1 with a JS exception set. */
static int get_in6(napi_env env, napi_value value, const char *what, struct in6_addr *out) {
  napi_valuetype type;
  char text[INET6_ADDRSTRLEN + 1];
  size_t len = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    throw_type(env, msg);
    return -1;
  }
  if (napi_get_value_string_utf8(env, value, text, sizeof text, &len) != napi_ok) {
    throw_napi_failure(env, "napi_get_value_string_utf8");
    return -1;
  }
  if (len >= INET6_ADDRSTRLEN || strlen(text) != len || inet_pton(AF_INET6, text, out) != 1) {
    char detail[96];
    snprintf(detail, sizeof detail, "(%s is not an IPv6 address)", what);
    throw_errno_syscall_fallback(env, EINVAL, "inet_pton", detail);
    return -1;
  }
  return 0;
}

static int get_function(napi_env env, napi_value value, const char *what) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_function) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must be a function", what);
    throw_type(env, msg);
    return -1;
  }
  return 0;
}

/* The vrrp6_t behind a handle from vrrp6Open. NULL with a JS exception set otherwise. */
static vrrp6_t *get_handle(napi_env env, napi_value value) {
  napi_valuetype type;
  bool tagged = false;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, &VRRP6_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    throw_type(env, "handle must be a value returned by vrrp6Open");
    return NULL;
  }
  return (vrrp6_t *)data;
}

/* --- lifetime ------------------------------------------------------------------------- */

static void maybe_free(vrrp6_t *h) {
  if (h->poll_closed && h->finalized) free(h);
}

/* Releases the JS references. Only while the env is alive and outside any callback into JS
 * made with async_ctx (it is called from the uv_close callback). */
static void release_js(vrrp6_t *h) {
  napi_env env = h->env;
  napi_handle_scope scope = NULL;
  bool scoped = napi_open_handle_scope(env, &scope) == napi_ok;
  if (h->on_message != NULL) (void)napi_delete_reference(env, h->on_message);
  if (h->on_error != NULL) (void)napi_delete_reference(env, h->on_error);
  if (h->async_ctx != NULL) (void)napi_async_destroy(env, h->async_ctx);
  if (h->self != NULL) (void)napi_delete_reference(env, h->self); /* may let the GC finalize */
  h->on_message = NULL;
  h->on_error = NULL;
  h->async_ctx = NULL;
  h->self = NULL;
  if (scoped) (void)napi_close_handle_scope(env, scope);
}

static void on_poll_closed(uv_handle_t *handle) {
  vrrp6_t *h = (vrrp6_t *)handle->data;
  h->poll_closed = true;
  if (!h->finalized) release_js(h);
  maybe_free(h);
}

/* Stops receiving and closes the descriptor now; the poll handle closes asynchronously.
 * Returns the close(2) errno, or 0. Idempotent. */
static int shut(vrrp6_t *h) {
  int err = 0;
  if (h->closing) return 0;
  h->closing = true;
  if (h->poll_init) {
    (void)uv_poll_stop(&h->poll); /* always 0 */
    uv_close((uv_handle_t *)&h->poll, on_poll_closed);
  }
  if (h->fd >= 0) {
    if (close(h->fd) != 0 && errno != EINTR) err = errno;
    h->fd = -1;
  }
  return err;
}

/* The handle object was collected, or the env is being torn down (then JS may no longer be
 * called: the references die with the env). */
static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  vrrp6_t *h = (vrrp6_t *)data;
  h->finalized = true;
  (void)shut(h);
  maybe_free(h);
}

/* --- receiving ------------------------------------------------------------------------ */

/* Calls the referenced function with argv, inside async_ctx. An exception it throws becomes
 * an uncaught exception of the process. Caller holds a handle scope. */
static void call_js(vrrp6_t *h, napi_ref fn_ref, size_t argc, const napi_value *argv) {
  napi_env env = h->env;
  napi_value fn = NULL, recv = NULL, result = NULL;
  if (fn_ref == NULL || napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  /* napi_make_callback converts recv to an object: undefined would throw a TypeError. */
  if (napi_get_global(env, &recv) != napi_ok) return;
  napi_status st = napi_make_callback(env, h->async_ctx, recv, fn, argc, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_value exc = NULL;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exc) == napi_ok)
      (void)napi_fatal_exception(env, exc);
  }
}

static void report_error(vrrp6_t *h, int errnum, const char *syscall) {
  napi_value err = make_errno_error(h->env, errnum, syscall, NULL);
  if (err != NULL) call_js(h, h->on_error, 1, &err);
}

/* One message: Buffer copy, source, destination and hop limit, to onMessage. */
static void deliver(vrrp6_t *h, size_t len, const struct sockaddr_in6 *from, struct msghdr *mh) {
  napi_env env = h->env;
  int hop_limit = -1;
  char src[INET6_ADDRSTRLEN] = "";
  char dst[INET6_ADDRSTRLEN] = "";

  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != IPPROTO_IPV6) continue;
    if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      hop_limit = v;
    } else if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      if (inet_ntop(AF_INET6, &pi.ipi6_addr, dst, sizeof dst) == NULL) dst[0] = '\0';
    }
  }
  if (mh->msg_namelen >= sizeof(struct sockaddr_in6) && from->sin6_family == AF_INET6) {
    if (inet_ntop(AF_INET6, &from->sin6_addr, src, sizeof src) == NULL) src[0] = '\0';
  }

  napi_value argv[4];
  if (napi_create_buffer_copy(env, len, h->buf, NULL, &argv[0]) != napi_ok ||
      napi_create_string_utf8(env, src, NAPI_AUTO_LENGTH, &argv[1]) != napi_ok ||
      napi_create_string_utf8(env, dst, NAPI_AUTO_LENGTH, &argv[2]) != napi_ok ||
      napi_create_int32(env, hop_limit, &argv[3]) != napi_ok) {
    report_error(h, ENOMEM, "napi_create_buffer_copy");
    return;
  }
  call_js(h, h->on_message, 4, argv);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  vrrp6_t *h = (vrrp6_t *)poll->data;
  if (h->closing || h->finalized) return;
  napi_env env = h->env;
  napi_handle_scope scope = NULL;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  if (status < 0) {
    report_error(h, -status, "uv_poll");
  } else {
    for (int i = 0; i < RECV_BATCH && !h->closing; i++) {
      struct sockaddr_in6 from;
      union {
        char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
        struct cmsghdr align;
      } control;
      struct iovec iov = {.iov_base = h->buf, .iov_len = sizeof h->buf};
      struct msghdr mh;
      memset(&from, 0, sizeof from);
      memset(&mh, 0, sizeof mh);
      mh.msg_name = &from;
      mh.msg_namelen = sizeof from;
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = control.buf;
      mh.msg_controllen = sizeof control.buf;

      ssize_t n = recvmsg(h->fd, &mh, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        report_error(h, errno, "recvmsg");
        break;
      }
      /* A truncated datagram (cannot happen with a 64 KiB buffer) is passed on truncated:
       * the codec rejects it by length or checksum. */
      napi_handle_scope inner = NULL;
      if (napi_open_handle_scope(env, &inner) != napi_ok) break;
      deliver(h, (size_t)n, &from, &mh);
      (void)napi_close_handle_scope(env, inner);
    }
  }
  (void)napi_close_handle_scope(env, scope);
}

/* --- exports -------------------------------------------------------------------------- */

/* vrrp6Open(ifname, onMessage, onError) -> handle */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char ifname[IFNAMSIZ];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "vrrp6Open(ifname, onMessage, onError) needs three arguments");
  if (get_ifname(env, argv[0], ifname, throw_errno_syscall_fallback) != 0) return NULL;
  if (get_function(env, argv[1], "onMessage") != 0) return NULL;
  if (get_function(env, argv[2], "onError") != 0) return NULL;

  unsigned int ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno_syscall_fallback(env, errno, "if_nametoindex", NULL);

  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, VRRP_PROTO);
  if (fd < 0) return throw_errno_syscall_fallback(env, errno, "socket", NULL);

  struct in6_addr group;
  if (inet_pton(AF_INET6, VRRP6_GROUP, &group) != 1) {
    (void)close(fd);
    return throw_errno_syscall_fallback(env, EINVAL, "inet_pton", VRRP6_GROUP);
  }
  const int one = 1, zero = 0, hops = VRRP_HOPS, ifidx = (int)ifindex;
  struct ipv6_mreq mreq;
  memset(&mreq, 0, sizeof mreq);
  mreq.ipv6mr_multiaddr = group;
  mreq.ipv6mr_interface = ifindex;
  const struct {
    int level, name;
    const void *value;
    socklen_t len;
    const char *label;
  } opts[] = {
    {SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)(strlen(ifname) + 1), "SO_BINDTODEVICE"},
    {IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one, "IPV6_RECVHOPLIMIT"},
    {IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one, "IPV6_RECVPKTINFO"},
    {IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops, "IPV6_MULTICAST_HOPS"},
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops, "IPV6_UNICAST_HOPS"},
    {IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero, "IPV6_MULTICAST_LOOP"},
    {IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifidx, sizeof ifidx, "IPV6_MULTICAST_IF"},
    {IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq, sizeof mreq, "IPV6_ADD_MEMBERSHIP"},
  };
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    if (setsockopt(fd, opts[i].level, opts[i].name, opts[i].value, opts[i].len) != 0) {
      int saved = errno;
      (void)close(fd);
      return throw_errno_syscall_fallback(env, saved, "setsockopt", opts[i].label);
    }
  }
  const int rcvbuf = RCVBUF_BYTES;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }

  vrrp6_t *h = calloc(1, sizeof *h);
  if (h == NULL) {
    (void)close(fd);
    return throw_errno_syscall_fallback(env, ENOMEM, "calloc", NULL);
  }
  h->env = env;
  h->fd = fd;
  h->ifindex = ifindex;
  h->poll_closed = true; /* until uv_poll_init succeeds */

  /* From here on, failures go through the handle's own teardown. */
  napi_value handle = NULL;
  if (napi_create_external(env, h, finalize_handle, NULL, &handle) != napi_ok) {
    (void)close(fd);
    free(h);
    throw_napi_failure(env, "napi_create_external");
    return NULL;
  }
  uv_loop_t *loop = NULL;
  napi_value resource_name = NULL;
  int rc;
  if (napi_type_tag_object(env, handle, &VRRP6_TAG) != napi_ok ||
      napi_create_reference(env, handle, 1, &h->self) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &h->on_message) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &h->on_error) != napi_ok ||
      napi_create_string_utf8(env, "haagent:vrrp6", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &h->async_ctx) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok) {
    throw_napi_failure(env, "vrrp6Open setup");
    (void)shut(h);
    release_js(h);
    return NULL;
  }
  h->poll.data = h;
  rc = uv_poll_init(loop, &h->poll, fd);
  if (rc != 0) {
    (void)shut(h);
    release_js(h);
    return throw_errno_syscall_fallback(env, -rc, "uv_poll_init", NULL);
  }
  h->poll_init = true;
  h->poll_closed = false;
  rc = uv_poll_start(&h->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    (void)shut(h); /* uv_close: release_js runs in on_poll_closed */
    return throw_errno_syscall_fallback(env, -rc, "uv_poll_start", NULL);
  }
  return handle;
}

/* vrrp6Send(handle, msg, dst, src) -> bytes sent */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "vrrp6Send(handle, msg, dst, src) needs four arguments");
  vrrp6_t *h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;

  size_t len = 0;
  void *data = NULL;
  if (get_uint8_array(env, argv[1], "msg must be a Buffer or Uint8Array", &data, &len) != 0) return NULL;

  struct sockaddr_in6 to;
  struct in6_pktinfo pi;
  memset(&to, 0, sizeof to);
  memset(&pi, 0, sizeof pi);
  if (get_in6(env, argv[2], "dst", &to.sin6_addr) != 0) return NULL;
  if (get_in6(env, argv[3], "src", &pi.ipi6_addr) != 0) return NULL;
  if (h->fd < 0) return throw_errno_syscall_fallback(env, EBADF, "sendmsg", "(socket is closed)");

  to.sin6_family = AF_INET6;
  if (IN6_IS_ADDR_LINKLOCAL(&to.sin6_addr) || IN6_IS_ADDR_MULTICAST(&to.sin6_addr))
    to.sin6_scope_id = h->ifindex;
  pi.ipi6_ifindex = h->ifindex;

  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_name = &to;
  mh.msg_namelen = sizeof to;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.buf;
  mh.msg_controllen = sizeof control.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof pi);
  memcpy(CMSG_DATA(c), &pi, sizeof pi);

  ssize_t n;
  do {
    n = sendmsg(h->fd, &mh, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno_syscall_fallback(env, errno, "sendmsg", NULL);

  napi_value result;
  NAPI_CALL(env, napi_create_double(env, (double)n, &result));
  return result;
}

/* vrrp6Close(handle). Idempotent; safe inside onMessage/onError. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "vrrp6Close(handle) needs a handle");
  vrrp6_t *h = get_handle(env, argv[0]);
  if (h == NULL) return NULL;
  int err = shut(h);
  if (err != 0) return throw_errno_syscall_fallback(env, err, "close", NULL);
  return NULL; /* undefined */
}

/* Called from the module init in packet_socket.c. On failure a JS exception is pending. */
void vrrp6_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"vrrp6Open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"vrrp6Send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
    {"vrrp6Close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    throw_napi_failure(env, "napi_define_properties");
}
