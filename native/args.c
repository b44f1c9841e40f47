/*
 * haagent_native: the shared argument readers; see args.h for the contract.
 */
#include "args.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <stdbool.h>
#include <string.h>

int get_ifname(napi_env env, napi_value value, char buf[IFNAMSIZ], errno_thrower throw_errno_fn) {
  napi_valuetype type;
  size_t len = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    throw_type(env, "ifname must be a string");
    return -1;
  }
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    throw_napi_failure(env, "napi_get_value_string_utf8");
    return -1;
  }
  if (len == 0 || len >= IFNAMSIZ) {
    /* The kernel's own answer for a name that cannot exist. */
    throw_errno_fn(env, len == 0 ? ENODEV : ENAMETOOLONG, "if_nametoindex", NULL);
    return -1;
  }
  if (napi_get_value_string_utf8(env, value, buf, IFNAMSIZ, &len) != napi_ok) {
    throw_napi_failure(env, "napi_get_value_string_utf8");
    return -1;
  }
  if (strlen(buf) != len) { /* embedded NUL */
    throw_errno_fn(env, ENODEV, "if_nametoindex", NULL);
    return -1;
  }
  return 0;
}

int get_uint8_array(napi_env env, napi_value value, const char *type_msg, void **data,
                    size_t *len) {
  bool is_typed = false;
  /* The `what` strings are the call texts NAPI_CALL reported when this code lived in the
   * callers, so the error messages stay the same. */
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok) {
    throw_napi_failure(env, "napi_is_typedarray(env, argv[1], &is_typed)");
    return -1;
  }
  if (!is_typed) {
    throw_type(env, type_msg);
    return -1;
  }
  napi_typedarray_type ta_type;
  if (napi_get_typedarray_info(env, value, &ta_type, len, data, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, "napi_get_typedarray_info(env, argv[1], &ta_type, &len, &data, NULL, NULL)");
    return -1;
  }
  if (ta_type != napi_uint8_array) {
    throw_type(env, type_msg);
    return -1;
  }
  return 0;
}

int get_uint32_in(napi_env env, napi_value value, uint32_t min, uint32_t max, const char *msg,
                  uint32_t *out) {
  napi_valuetype type;
  double d = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, &d) != napi_ok ||
      !(d >= min && d <= max) /* also rejects NaN */ || d != (double)(uint32_t)d) {
    throw_type(env, msg);
    return -1;
  }
  *out = (uint32_t)d;
  return 0;
}

int get_nonneg_int32(napi_env env, napi_value value, const char *msg, int *out) {
  uint32_t v = 0;
  if (get_uint32_in(env, value, 0, INT32_MAX, msg, &v) != 0) return -1;
  *out = (int)v;
  return 0;
}

napi_value fd_result(napi_env env, int fd) {
  napi_value result;
  if (napi_create_int32(env, fd, &result) != napi_ok) {
    (void)close(fd);
    throw_napi_failure(env, "napi_create_int32");
    return NULL;
  }
  return result;
}
