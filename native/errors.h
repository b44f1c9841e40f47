/*
 * haagent_native: the error helpers shared by packet_socket.c, vrrp6_socket.c and sd_notify.c.
 *
 * Contract (what JavaScript sees):
 *   - A failed syscall: an Error whose message is "<syscall> failed: <strerror>" (or
 *     "<syscall> <detail> failed: <strerror>"), with `code` the errno name (e.g. 'ENODEV'),
 *     `errno` the positive errno number and `syscall` the syscall name.
 *   - Wrong argument types: a TypeError with code 'ERR_INVALID_ARG_TYPE'.
 *   - A failed Node-API call: an Error with code 'ERR_HAAGENT_NATIVE', unless a JS exception
 *     is already pending (that one then propagates unchanged).
 * Every helper is called from the JS thread with a live env. The throw_* functions return
 * NULL (napi_value) so a callback can `return throw_...(...)`.
 */
#ifndef HAAGENT_NATIVE_ERRORS_H
#define HAAGENT_NATIVE_ERRORS_H

#include <node_api.h>

/* Internal to the addon: not exported from the .node, not interposable by the host process. */
#define HAAGENT_INTERNAL __attribute__((visibility("hidden")))

/* Bail out of a napi_value-returning function when a Node-API call fails; a pending JS
 * exception (if any) propagates to the caller. */
#define NAPI_CALL(env, call)                                                   \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      throw_napi_failure((env), #call);                                        \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

/* Throw Error("haagent_native: <what> failed[: <napi error message>]") with code
 * ERR_HAAGENT_NATIVE, unless an exception is already pending. */
HAAGENT_INTERNAL void throw_napi_failure(napi_env env, const char *what);

/* Set a property on an error object if value is not NULL; failures are ignored because we are
 * already on an error path and the Error itself is still thrown. */
HAAGENT_INTERNAL void set_prop(napi_env env, napi_value obj, const char *key, napi_value value);

/* Build (without throwing) the errno Error described above. detail may be NULL. Returns NULL,
 * with nothing thrown, if even the Error object cannot be created. */
HAAGENT_INTERNAL napi_value make_errno_error(napi_env env, int errnum, const char *syscall,
                                             const char *detail);

/* Throw the errno Error described above and return NULL. If the Error object cannot be
 * created, falls back to napi_throw_error(code = errno name, message = the full message). */
HAAGENT_INTERNAL napi_value throw_errno(napi_env env, int errnum, const char *syscall,
                                        const char *detail);

/* As throw_errno, but the fallback (Error object not creatable) is
 * napi_throw_error(code = errno name, message = syscall): vrrp6_socket.c's variant. */
HAAGENT_INTERNAL napi_value throw_errno_syscall_fallback(napi_env env, int errnum,
                                                         const char *syscall, const char *detail);

/* Throw TypeError(msg) with code ERR_INVALID_ARG_TYPE and return NULL. */
HAAGENT_INTERNAL napi_value throw_type(napi_env env, const char *msg);

#endif /* HAAGENT_NATIVE_ERRORS_H */
