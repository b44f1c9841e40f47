/*
 * A kernel-side filter for a netlink socket this process already has open (the netlink
 * package's, whose descriptor JavaScript cannot reach): notifications of the listed message
 * types are dropped by the kernel before they are queued to the socket, so they cost no read,
 * no wake-up and no JavaScript.
 *
 *   dropNetlinkTypes(port: number, protocol: number, types: number[]): undefined
 *
 * Finds, among this process's descriptors (/proc/self/fd), the AF_NETLINK socket of `protocol`
 * (SO_PROTOCOL, e.g. 0 = NETLINK_ROUTE) bound to `port` (its nl_pid, unique per protocol in a
 * network namespace), and attaches a classic BPF socket filter (SO_ATTACH_FILTER) that drops a
 * datagram whose first message's nlmsg_type is one of `types` (1..8 of them, each 0..65535),
 * and accepts everything else. Kernel notifications carry one message per datagram, so the
 * first message is the message; a multi-message datagram (a dump, a batch of answers) is
 * judged by its first message only: do not use it on a socket that sends requests of the
 * dropped types. The filter replaces any filter attached before; the socket is otherwise not
 * touched, and never closed.
 *
 * Errors: no such socket: an Error with code 'ENOENT', syscall 'getsockname'. A failed
 * setsockopt or opendir: an Error carrying `errno`, `code` and `syscall`, as errors.h
 * describes. Arguments of the wrong type or out of range: TypeError 'ERR_INVALID_ARG_TYPE'.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>

#include "args.h"
#include "errors.h"

#define MAX_TYPES 8
/* Offset of nlmsg_type in struct nlmsghdr. */
#define NLMSG_TYPE_OFFSET 4

void netlink_filter_register(napi_env env, napi_value exports);

/* The descriptor of this process's netlink socket of `protocol` bound to `port`, or -1 (errno set). */
static int find_netlink_fd(uint32_t port, int protocol) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) return -1;
  int found = -1;
  const struct dirent *e;
  while (found < 0 && (e = readdir(dir)) != NULL) {
    char *end = NULL;
    long fd = strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd < 0 || fd == dirfd(dir)) continue;
    struct sockaddr_nl sa;
    socklen_t len = sizeof sa;
    if (getsockname((int)fd, (struct sockaddr *)&sa, &len) != 0 || len < sizeof sa || sa.nl_family != AF_NETLINK || sa.nl_pid != port) continue;
    int proto = -1;
    socklen_t plen = sizeof proto;
    if (getsockopt((int)fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) != 0 || proto != protocol) continue;
    found = (int)fd;
  }
  closedir(dir);
  if (found < 0) errno = ENOENT;
  return found;
}

static napi_value js_drop_netlink_types(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "dropNetlinkTypes(port, protocol, types) needs three arguments");
  uint32_t port, protocol, n = 0;
  if (get_uint32_in(env, argv[0], 0, UINT32_MAX, "port must be an integer 0..2^32-1", &port) != 0) return NULL;
  if (get_uint32_in(env, argv[1], 0, 31, "protocol must be an integer 0..31", &protocol) != 0) return NULL;
  bool is_array = false;
  if (napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[2], &n) != napi_ok || n < 1 || n > MAX_TYPES) {
    return throw_type(env, "types must be an array of 1..8 message types");
  }
  uint32_t types[MAX_TYPES];
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    NAPI_CALL(env, napi_get_element(env, argv[2], i, &v));
    if (get_uint32_in(env, v, 0, 65535, "each message type must be an integer 0..65535", &types[i]) != 0) return NULL;
  }

  /* A = nlmsg_type as the filter reads it (a half-word load is in network order: ntohs of the
   * host-order field); one test per type, each jumping to the drop at the end. */
  struct sock_filter code[MAX_TYPES + 3];
  unsigned len = 0;
  code[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, NLMSG_TYPE_OFFSET);
  for (uint32_t i = 0; i < n; i++) {
    /* to the drop: past the remaining tests and the accept */
    unsigned char to_drop = (unsigned char)(n - i);
    code[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohs((uint16_t)types[i]), to_drop, 0);
  }
  code[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
  code[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  struct sock_fprog prog = {.len = (unsigned short)len, .filter = code};

  int fd = find_netlink_fd(port, (int)protocol);
  if (fd < 0) return throw_errno(env, errno, "getsockname", "(no netlink socket bound to that port)");
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
    return throw_errno(env, errno, "setsockopt", "SO_ATTACH_FILTER");
  return NULL; /* undefined */
}

void netlink_filter_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"dropNetlinkTypes", NULL, js_drop_netlink_types, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  (void)napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
