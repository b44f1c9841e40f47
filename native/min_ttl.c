/*
 * The Generalized TTL Security Mechanism (GTSM, RFC 5082) for the peer hello sockets: make the
 * kernel drop every datagram that arrived with a TTL (IPv4) or hop limit (IPv6) below a minimum.
 * A sender on the same link sends with 255 and the packet arrives with 255; anything routed
 * from further away arrives with less and never reaches the application.
 *
 *   setMinTtl(fd: number, family: 4 | 6, minTtl: number): undefined
 *
 * IPv4: setsockopt(fd, IPPROTO_IP, IP_MINTTL); IPv6: setsockopt(fd, IPPROTO_IPV6,
 * IPV6_MINHOPCOUNT) (Linux >= 2.6.34). It only filters received datagrams; the TTL of sent ones
 * is set from JavaScript (dgram setTTL). `fd` is the descriptor of a UDP socket owned by Node:
 * this function neither closes nor otherwise touches it.
 *
 * Errors: a failed setsockopt throws an Error carrying `errno`, `code` (e.g. 'EBADF',
 * 'ENOPROTOOPT') and `syscall` 'setsockopt', as errors.h describes. fd not an integer >= 0,
 * family not 4 or 6, or minTtl not 1..255: TypeError with code 'ERR_INVALID_ARG_TYPE'.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <node_api.h>

#include "errors.h"

#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73 /* linux/in6.h */
#endif

void min_ttl_register(napi_env env, napi_value exports);

/* An integer argument in [min, max]; -1 with a TypeError pending otherwise. */
static int get_int_in(napi_env env, napi_value value, int min, int max, const char *msg, int *out) {
  napi_valuetype type;
  double d = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, &d) != napi_ok || !(d >= min && d <= max) || d != (double)(int)d) {
    throw_type(env, msg);
    return -1;
  }
  *out = (int)d;
  return 0;
}

static napi_value js_set_min_ttl(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "setMinTtl(fd, family, minTtl) needs three arguments");
  int fd, family, min_ttl;
  if (get_int_in(env, argv[0], 0, 0x7fffffff, "fd must be a non-negative integer", &fd) != 0) return NULL;
  if (get_int_in(env, argv[1], 4, 6, "family must be 4 or 6", &family) != 0) return NULL;
  if (family != 4 && family != 6) return throw_type(env, "family must be 4 or 6");
  if (get_int_in(env, argv[2], 1, 255, "minTtl must be an integer 1..255", &min_ttl) != 0) return NULL;

  int rc = family == 4 ? setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min_ttl, sizeof min_ttl)
                       : setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min_ttl, sizeof min_ttl);
  if (rc != 0) return throw_errno(env, errno, "setsockopt", family == 4 ? "IP_MINTTL" : "IPV6_MINHOPCOUNT");
  return NULL; /* undefined */
}

void min_ttl_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setMinTtl", NULL, js_set_min_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  (void)napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
