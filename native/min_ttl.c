/*
 * The Generalized TTL Security Mechanism (GTSM, RFC 5082) for the peer hello sockets: make the
 * kernel drop every datagram that arrived with a TTL (IPv4) or hop limit (IPv6) below a minimum.
 * A sender on the same link sends with 255 and the packet arrives with 255; anything routed
 * from further away arrives with less and never reaches the application.
 *
 *   setMinTtl(fd: number, family: 4 | 6, minTtl: number): undefined
 *
 * How: a classic BPF socket filter (SO_ATTACH_FILTER) that loads the TTL / hop limit byte of the
 * network header (SKF_NET_OFF + 8 for IPv4, + 7 for IPv6; both at fixed offsets, IPv4 options
 * or not) and drops the datagram when it is below minTtl. Not IP_MINTTL / IPV6_MINHOPCOUNT:
 * Linux accepts those on a UDP socket but enforces them for TCP only (measured on 6.18: a
 * TTL-64 datagram still arrived), whereas a socket filter runs for every datagram before it is
 * queued to the socket. Datagrams dropped by the filter are not seen by the application (so not
 * counted by it). It only filters received datagrams; the TTL of sent ones is set from
 * JavaScript (dgram setTTL). `fd` is the descriptor of a UDP socket owned by Node: this function
 * neither closes nor otherwise touches it, and replaces any filter attached before.
 *
 * Errors: a failed setsockopt throws an Error carrying `errno`, `code` (e.g. 'EBADF',
 * 'ENOTSOCK') and `syscall` 'setsockopt', as errors.h describes. fd not an integer >= 0,
 * family not 4 or 6, or minTtl not 1..255: TypeError with code 'ERR_INVALID_ARG_TYPE'.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <node_api.h>

#include "args.h"
#include "errors.h"

/* Offsets of the TTL (IPv4) and hop limit (IPv6) in the network header. */
#define IPV4_TTL_OFFSET 8
#define IPV6_HOP_LIMIT_OFFSET 7

void min_ttl_register(napi_env env, napi_value exports);

static napi_value js_set_min_ttl(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "setMinTtl(fd, family, minTtl) needs three arguments");
  uint32_t fd, family, min_ttl;
  if (get_uint32_in(env, argv[0], 0, 0x7fffffff, "fd must be a non-negative integer", &fd) != 0) return NULL;
  if (get_uint32_in(env, argv[1], 4, 6, "family must be 4 or 6", &family) != 0) return NULL;
  if (family != 4 && family != 6) return throw_type(env, "family must be 4 or 6");
  if (get_uint32_in(env, argv[2], 1, 255, "minTtl must be an integer 1..255", &min_ttl) != 0) return NULL;

  struct sock_filter code[] = {
      /* A = network header byte: TTL or hop limit */
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (unsigned)(SKF_NET_OFF + (family == 4 ? IPV4_TTL_OFFSET : IPV6_HOP_LIMIT_OFFSET))),
      /* A >= minTtl ? accept : drop */
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)min_ttl, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = {.len = (unsigned short)(sizeof code / sizeof code[0]), .filter = code};
  if (setsockopt((int)fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
    return throw_errno(env, errno, "setsockopt", "SO_ATTACH_FILTER");
  return NULL; /* undefined */
}

void min_ttl_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setMinTtl", NULL, js_set_min_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  (void)napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
