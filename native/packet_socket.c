/*
 * haagent_native: the few Linux syscalls Node and our chosen packages lack.
 *
 * AF_PACKET send for gratuitous ARP (and, later, IPv6 unsolicited NA frames): the caller
 * builds a complete Ethernet frame (destination MAC, source MAC, EtherType, payload) and
 * this addon puts it on the wire of one interface, unchanged.
 *
 *   open(ifname: string): number        AF_PACKET/SOCK_RAW socket bound to ifname, returns fd
 *   send(fd: number, frame: Uint8Array): number   one frame, returns bytes sent
 *   hwaddr(ifname: string, fd?: number): string   the interface's Ethernet MAC,
 *                                       "aa:bb:cc:dd:ee:ff"; asked through fd (an open
 *                                       socket, e.g. one from open) when given, else through a
 *                                       socket opened and closed for the call
 *   close(fd: number): undefined
 *
 * Every call is synchronous: sending one frame takes microseconds and the socket is used with
 * MSG_DONTWAIT, so a full send buffer is reported (EAGAIN) rather than blocking the event loop.
 *
 * Errors: a failed syscall throws an Error carrying `errno` (positive number), `code` (the
 * errno name, e.g. 'ENODEV', 'EPERM') and `syscall` (e.g. 'bind'), in the manner of
 * mildsunrise/node_netlink. Wrong argument types throw a TypeError with
 * code 'ERR_INVALID_ARG_TYPE'; the TypeScript wrapper (src/adapters/packet-socket.ts) is the
 * only intended caller and adds interface context.
 *
 * Deliberately not done here: receiving (the socket is bound with protocol 0, so the kernel
 * queues no incoming frames to it), frame validation beyond "at least an Ethernet header"
 * (the kernel checks the rest), and fd ownership (the caller must not use an fd after close).
 *
 * Plain Node-API C (node_api.h) with libuv only for errno names: no npm dependency, ABI-stable
 * across Node versions.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>

#include "args.h"
#include "errors.h"

#define ETH_HEADER_LEN 14

/* Read argument `fd` (a non-negative int32). Returns 0, or -1 with a JS exception set. */
static int get_fd(napi_env env, napi_value value, int *fd) {
  return get_nonneg_int32(env, value, "fd must be a non-negative integer", fd);
}

/* open(ifname) -> fd */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char ifname[IFNAMSIZ];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "open(ifname) needs an interface name");
  if (get_ifname(env, argv[0], ifname, throw_errno) != 0) return NULL;

  unsigned int ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno(env, errno, "if_nametoindex", NULL);

  /* Protocol 0: the socket receives nothing, it only sends. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);

  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = 0;
  sll.sll_ifindex = (int)ifindex;
  if (bind(fd, (const struct sockaddr *)&sll, sizeof sll) != 0) {
    int saved = errno;
    (void)close(fd);
    return throw_errno(env, saved, "bind", NULL);
  }

  return fd_result(env, fd);
}

/* send(fd, frame) -> bytes sent. The frame is a complete Ethernet frame; it goes out on the
 * interface the socket is bound to, with skb->protocol taken from the frame's EtherType. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int fd;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "send(fd, frame) needs two arguments");
  if (get_fd(env, argv[0], &fd) != 0) return NULL;

  size_t len = 0;
  void *data = NULL;
  if (get_uint8_array(env, argv[1], "frame must be a Buffer or Uint8Array", &data, &len) != 0) return NULL;
  if (len < ETH_HEADER_LEN) return throw_errno(env, EINVAL, "sendto", "(frame shorter than an Ethernet header)");

  /* The bound interface index, so sendto can name it together with the EtherType. */
  struct sockaddr_ll bound;
  socklen_t bound_len = sizeof bound;
  memset(&bound, 0, sizeof bound);
  if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0)
    return throw_errno(env, errno, "getsockname", NULL);
  if (bound.sll_family != AF_PACKET || bound.sll_ifindex == 0)
    return throw_errno(env, ENOTSOCK, "getsockname", "(not a bound AF_PACKET socket)");

  const uint8_t *frame = (const uint8_t *)data;
  struct sockaddr_ll dst;
  memset(&dst, 0, sizeof dst);
  dst.sll_family = AF_PACKET;
  dst.sll_ifindex = bound.sll_ifindex;
  memcpy(&dst.sll_protocol, frame + 12, 2); /* EtherType, already network byte order */
  dst.sll_halen = ETH_ALEN;
  memcpy(dst.sll_addr, frame, ETH_ALEN);

  ssize_t n;
  do {
    n = sendto(fd, frame, len, MSG_DONTWAIT, (const struct sockaddr *)&dst, sizeof dst);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "sendto", NULL);

  napi_value result;
  NAPI_CALL(env, napi_create_double(env, (double)n, &result));
  return result;
}

/* hwaddr(ifname[, fd]) -> "aa:bb:cc:dd:ee:ff"; only Ethernet-type interfaces (ARPHRD_ETHER).
 * With fd (any open socket: the interface ioctls work on AF_PACKET sockets too) no socket is
 * opened, so asking once per announcement round costs one ioctl. */
static napi_value js_hwaddr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char ifname[IFNAMSIZ];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "hwaddr(ifname) needs an interface name");
  if (get_ifname(env, argv[0], ifname, throw_errno) != 0) return NULL;
  int given = -1;
  if (argc >= 2) {
    napi_valuetype type;
    NAPI_CALL(env, napi_typeof(env, argv[1], &type));
    if (type != napi_undefined && get_fd(env, argv[1], &given) != 0) return NULL;
  }

  int sock = given >= 0 ? given : socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return throw_errno(env, errno, "socket", NULL);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
  int rc = ioctl(sock, SIOCGIFHWADDR, &ifr);
  int saved = errno;
  if (given < 0 && close(sock) != 0 && rc == 0) return throw_errno(env, errno, "close", NULL);
  if (rc != 0) return throw_errno(env, saved, "ioctl", "SIOCGIFHWADDR");
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    return throw_errno(env, EAFNOSUPPORT, "ioctl", "SIOCGIFHWADDR (not an Ethernet interface)");

  const unsigned char *mac = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
  char text[18];
  snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x",
           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  napi_value result;
  NAPI_CALL(env, napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result));
  return result;
}

/* close(fd). EINTR is not retried: on Linux the descriptor is released regardless. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "close(fd) needs a descriptor");
  if (get_fd(env, argv[0], &fd) != 0) return NULL;
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return NULL; /* undefined */
}

void vrrp6_register(napi_env env, napi_value exports); /* vrrp6_socket.c */
void sd_notify_register(napi_env env, napi_value exports); /* sd_notify.c */
void min_ttl_register(napi_env env, napi_value exports); /* min_ttl.c */
void realtime_register(napi_env env, napi_value exports); /* realtime.c */
void vrrp4_send_register(napi_env env, napi_value exports); /* vrrp4_send.c */
void netlink_filter_register(napi_env env, napi_value exports); /* netlink_filter.c */
void advert_train_register(napi_env env, napi_value exports); /* advert_train.c */
void netlink_sync_register(napi_env env, napi_value exports); /* netlink_sync.c */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hwaddr", NULL, js_hwaddr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  vrrp6_register(env, exports);
  sd_notify_register(env, exports);
  min_ttl_register(env, exports);
  realtime_register(env, exports);
  vrrp4_send_register(env, exports);
  netlink_filter_register(env, exports);
  advert_train_register(env, exports);
  netlink_sync_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
