/*
 * haagent_native: a send-only raw IPv4 socket for VRRP adverts (IP protocol 112).
 *
 *   vrrp4Open(ifname: string, ifindex: number): number   the socket's fd
 *   vrrp4Send(fd: number, message: Uint8Array, dst: string): number   bytes sent
 *   (closing: close(fd) from packet_socket.c)
 *
 * The socket carries the sending options of the IPv4 VRRP socket (src/adapters/vrrp-socket.ts):
 * SO_BINDTODEVICE ifname, IP_TTL 255, IP_MULTICAST_TTL 255, IP_MULTICAST_LOOP 0 and
 * IP_MULTICAST_IF (ip_mreqn with ifindex only). It does not set IP_HDRINCL: the kernel builds
 * the IPv4 header exactly as for the receiving socket, the caller passes the VRRP part only.
 * It never joins a group, and a classic BPF filter that accepts nothing is attached
 * (SO_ATTACH_FILTER, "ret #0") before any option that could let packets in, so the kernel
 * queues no incoming VRRP packet to it: receiving stays on the other socket.
 *
 * vrrp4Send is synchronous (MSG_DONTWAIT): a full send queue is an EAGAIN/ENOBUFS error, never
 * a block. dst is a dotted-quad IPv4 address (224.0.0.18 or a unicast peer); anything else is
 * EINVAL. Errors follow errors.h (errno Error with code, errno, syscall; TypeError for wrong
 * argument types). The TypeScript wrapper adds the interface name.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>

#include "args.h"
#include "errors.h"

#define VRRP_PROTOCOL 112
#define VRRP_TTL 255

/* Set one int option; returns 0 or the errno. */
static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

/* vrrp4Open(ifname, ifindex) -> fd */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char ifname[IFNAMSIZ];
  int ifindex;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "vrrp4Open(ifname, ifindex) needs two arguments");
  if (get_ifname(env, argv[0], ifname, throw_errno) != 0) return NULL;
  if (get_nonneg_int32(env, argv[1], "ifindex must be a non-negative integer", &ifindex) != 0) return NULL;

  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, VRRP_PROTOCOL);
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);

  /* Accept nothing: every packet the kernel would hand this socket is dropped by the filter. */
  struct sock_filter reject_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
  struct sock_fprog prog = { .len = 1, .filter = reject_all };
  const char *failed = NULL;
  int err = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    err = errno;
    failed = "SO_ATTACH_FILTER";
  } else if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)(strlen(ifname) + 1)) != 0) {
    err = errno;
    failed = "SO_BINDTODEVICE";
  } else if ((err = set_int(fd, IPPROTO_IP, IP_TTL, VRRP_TTL)) != 0) {
    failed = "IP_TTL";
  } else if ((err = set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, VRRP_TTL)) != 0) {
    failed = "IP_MULTICAST_TTL";
  } else if ((err = set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0)) != 0) {
    failed = "IP_MULTICAST_LOOP";
  } else {
    struct ip_mreqn mreqn;
    memset(&mreqn, 0, sizeof mreqn);
    mreqn.imr_ifindex = ifindex;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreqn, sizeof mreqn) != 0) {
      err = errno;
      failed = "IP_MULTICAST_IF";
    }
  }
  if (failed != NULL) {
    (void)close(fd);
    return throw_errno(env, err, "setsockopt", failed);
  }

  return fd_result(env, fd);
}

/* vrrp4Send(fd, message, dst) -> bytes sent */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int fd;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "vrrp4Send(fd, message, dst) needs three arguments");
  if (get_nonneg_int32(env, argv[0], "fd must be a non-negative integer", &fd) != 0) return NULL;
  size_t len = 0;
  void *data = NULL;
  if (get_uint8_array(env, argv[1], "message must be a Buffer or Uint8Array", &data, &len) != 0) return NULL;

  napi_valuetype type;
  NAPI_CALL(env, napi_typeof(env, argv[2], &type));
  if (type != napi_string) return throw_type(env, "dst must be a string");
  /* One byte more than the longest dotted quad (15 + NUL), so a longer string is seen as one
   * (napi truncates to the buffer) instead of being cut into something that parses. */
  char text[INET_ADDRSTRLEN + 1];
  size_t text_len = 0;
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[2], text, sizeof text, &text_len));
  struct sockaddr_in dst;
  memset(&dst, 0, sizeof dst);
  dst.sin_family = AF_INET;
  if (text_len >= INET_ADDRSTRLEN || inet_pton(AF_INET, text, &dst.sin_addr) != 1)
    return throw_errno(env, EINVAL, "inet_pton", "(dst is not an IPv4 address)");

  ssize_t n;
  do {
    n = sendto(fd, data, len, MSG_DONTWAIT, (const struct sockaddr *)&dst, sizeof dst);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "sendto", NULL);

  napi_value result;
  NAPI_CALL(env, napi_create_double(env, (double)n, &result));
  return result;
}

void vrrp4_send_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"vrrp4Open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"vrrp4Send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    throw_napi_failure(env, "napi_define_properties");
}
