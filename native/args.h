/*
 * haagent_native: the argument readers shared by the addon's files.
 *
 * Contract (what JavaScript sees), in addition to errors.h:
 *   - Every reader returns 0 on success, or -1 with a JS exception pending (the caller then
 *     returns NULL from its callback so the exception propagates).
 *   - Called from the JS thread with a live env, like the errors.h helpers.
 */
#ifndef HAAGENT_NATIVE_ARGS_H
#define HAAGENT_NATIVE_ARGS_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include <node_api.h>

#include "errors.h"

/* An errno thrower from errors.h: throw_errno (packet_socket.c) or throw_errno_syscall_fallback
 * (vrrp6_socket.c). The caller picks one so its errors keep their existing fallback. */
typedef napi_value (*errno_thrower)(napi_env env, int errnum, const char *syscall,
                                    const char *detail);

/* Read argument `ifname` into buf (size IFNAMSIZ, NUL-terminated on success).
 *   - not a string: TypeError "ifname must be a string" (ERR_INVALID_ARG_TYPE);
 *   - empty: throw_errno_fn(ENODEV, "if_nametoindex"); IFNAMSIZ bytes or longer (UTF-8):
 *     throw_errno_fn(ENAMETOOLONG, "if_nametoindex") — the kernel's own answers for a name that
 *     cannot exist;
 *   - an embedded NUL: throw_errno_fn(ENODEV, "if_nametoindex");
 *   - a failed napi_get_value_string_utf8: throw_napi_failure("napi_get_value_string_utf8"). */
HAAGENT_INTERNAL int get_ifname(napi_env env, napi_value value, char buf[IFNAMSIZ],
                                errno_thrower throw_errno_fn);

/* Read a Buffer/Uint8Array argument: *data and *len are its bytes (not copied; valid while
 * the value is alive, i.e. for the rest of the callback).
 *   - not a typed array, or a typed array other than Uint8Array (Buffer is one):
 *     TypeError(type_msg) with code ERR_INVALID_ARG_TYPE;
 *   - a failed Node-API call: as NAPI_CALL at the callers' argv[1], i.e. throw_napi_failure with
 *     the call text "napi_is_typedarray(env, argv[1], &is_typed)" or
 *     "napi_get_typedarray_info(env, argv[1], &ta_type, &len, &data, NULL, NULL)". */
HAAGENT_INTERNAL int get_uint8_array(napi_env env, napi_value value, const char *type_msg,
                                     void **data, size_t *len);

/* Reads an integer argument in [min, max] (a number with no fraction; NaN and infinities are
 * out of range). Returns 0, or -1 with a TypeError carrying `msg` pending. */
HAAGENT_INTERNAL int get_uint32_in(napi_env env, napi_value value, uint32_t min, uint32_t max,
                                   const char *msg, uint32_t *out);

/* Reads a non-negative int32 argument (an fd, an ifindex): get_uint32_in over 0..INT32_MAX.
 * Returns 0, or -1 with a TypeError carrying `msg` pending. */
HAAGENT_INTERNAL int get_nonneg_int32(napi_env env, napi_value value, const char *msg, int *out);

/* A freshly opened fd as the JS result; on failure the fd is closed and an error is pending
 * (returns NULL). */
HAAGENT_INTERNAL napi_value fd_result(napi_env env, int fd);

#endif /* HAAGENT_NATIVE_ARGS_H */
