/*
 * sd_notify(3) without libsystemd: one datagram to the service manager's notification socket.
 *
 *   sdNotify(socketPath: string, message: string): number   bytes sent
 *
 * `socketPath` is $NOTIFY_SOCKET as systemd sets it: an absolute filesystem path ("/run/...")
 * or an abstract-namespace name written with a leading '@' ("@/org/freedesktop/..."), for which
 * the '@' becomes the leading NUL byte and the address length is exact (abstract names are not
 * NUL-terminated: a trailing NUL would be part of the name). `message` is sent as UTF-8, as is:
 * newline-separated assignments such as "READY=1" or "STATUS=...\nMAINPID=...".
 *
 * The socket is AF_UNIX/SOCK_DGRAM|SOCK_CLOEXEC, opened and closed per call (as libsystemd
 * does), and the datagram is sent with MSG_DONTWAIT|MSG_NOSIGNAL: a receiver whose queue is full
 * is reported (EAGAIN) instead of blocking the event loop. The kernel attaches our credentials
 * when the receiver asks for them (SO_PASSCRED), which is how systemd checks NotifyAccess=.
 *
 * Errors: a failed syscall throws an Error carrying `errno` (positive), `code` (errno name,
 * e.g. 'ENOENT', 'ECONNREFUSED') and `syscall` ('socket' or 'sendto'), like packet_socket.c.
 * A path that is empty, relative, or longer than sun_path throws the same shape with
 * EINVAL / ENAMETOOLONG and syscall 'sendto'. Wrong argument types throw a TypeError with code
 * 'ERR_INVALID_ARG_TYPE'. The TypeScript wrapper (src/adapters/sd-notify.ts) is the only
 * intended caller.
 *
 * Deliberately not supported: the "vsock:" NOTIFY_SOCKET form (systemd >= 253, for VMs) and
 * passing file descriptors (FDSTORE=1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>

#include "errors.h"

void sd_notify_register(napi_env env, napi_value exports);

/* Copy a JS string argument into a fresh malloc'd UTF-8 buffer (NUL-terminated; *len excludes
 * the NUL). Returns NULL with a JS exception set on failure. */
static char *sdn_get_string(napi_env env, napi_value value, const char *what, size_t *len) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    throw_type(env, msg);
    return NULL;
  }
  size_t n = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &n) != napi_ok) {
    throw_napi_failure(env, "napi_get_value_string_utf8");
    return NULL;
  }
  char *buf = malloc(n + 1);
  if (buf == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, buf, n + 1, &n) != napi_ok) {
    free(buf);
    throw_napi_failure(env, "napi_get_value_string_utf8");
    return NULL;
  }
  *len = n;
  return buf;
}

/* Fill `sun` from $NOTIFY_SOCKET text; returns the address length, or -errno. */
static int sdn_address(const char *path, size_t path_len, struct sockaddr_un *sun, socklen_t *addr_len) {
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  if (path_len < 2 || (path[0] != '/' && path[0] != '@')) return -EINVAL;
  if (strlen(path) != path_len) return -EINVAL; /* embedded NUL */
  if (path_len > sizeof sun->sun_path - (path[0] == '/' ? 1 : 0)) return -ENAMETOOLONG;
  memcpy(sun->sun_path, path, path_len);
  if (path[0] == '@') {
    sun->sun_path[0] = '\0';
    *addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);
  } else {
    *addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + 1);
  }
  return 0;
}

/* sdNotify(socketPath, message) -> bytes sent */
static napi_value js_sd_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "sdNotify(socketPath, message) needs two arguments");

  size_t path_len = 0, msg_len = 0;
  char *path = sdn_get_string(env, argv[0], "socketPath", &path_len);
  if (path == NULL) return NULL;
  char *msg = sdn_get_string(env, argv[1], "message", &msg_len);
  if (msg == NULL) {
    free(path);
    return NULL;
  }

  struct sockaddr_un sun;
  socklen_t addr_len = 0;
  int rc = sdn_address(path, path_len, &sun, &addr_len);
  free(path);
  if (rc != 0) {
    free(msg);
    return throw_errno(env, -rc, "sendto", "(NOTIFY_SOCKET must be an absolute path or an @abstract name)");
  }

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int saved = errno;
    free(msg);
    return throw_errno(env, saved, "socket", NULL);
  }
  ssize_t n;
  do {
    n = sendto(fd, msg, msg_len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&sun, addr_len);
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  (void)close(fd);
  free(msg);
  if (n < 0) return throw_errno(env, saved, "sendto", NULL);

  napi_value result;
  NAPI_CALL(env, napi_create_double(env, (double)n, &result));
  return result;
}

void sd_notify_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"sdNotify", NULL, js_sd_notify, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  (void)napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
