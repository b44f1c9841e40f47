/*
 * haagent_native: the shared error helpers; see errors.h for the contract.
 */
#include "errors.h"

#include <stdbool.h>
#include <stdio.h>

#include <uv.h>

void throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  const char *msg = NULL;
  if (napi_get_last_error_info(env, &info) == napi_ok && info != NULL) msg = info->error_message;
  char buf[256];
  snprintf(buf, sizeof buf, "haagent_native: %s failed%s%s", what, msg ? ": " : "", msg ? msg : "");
  napi_throw_error(env, "ERR_HAAGENT_NATIVE", buf);
}

void set_prop(napi_env env, napi_value obj, const char *key, napi_value value) {
  if (value != NULL) (void)napi_set_named_property(env, obj, key, value);
}

/* The errno name (name[64]) and the message (msg[320]) for an errno Error. */
static void format_errno(int errnum, const char *syscall, const char *detail, char name[64],
                         char msg[320]) {
  char desc[128];
  uv_err_name_r(-errnum, name, 64);
  uv_strerror_r(-errnum, desc, sizeof desc);
  if (detail != NULL)
    snprintf(msg, 320, "%s %s failed: %s", syscall, detail, desc);
  else
    snprintf(msg, 320, "%s failed: %s", syscall, desc);
}

/* Error(msg) with code = name, errno and syscall; NULL if the Error cannot be created. */
static napi_value build_errno_error(napi_env env, int errnum, const char *syscall,
                                    const char *name, const char *msg) {
  napi_value js_msg = NULL, js_code = NULL, js_errno = NULL, js_syscall = NULL, err = NULL;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &js_code) != napi_ok ||
      napi_create_error(env, js_code, js_msg, &err) != napi_ok)
    return NULL;
  if (napi_create_int32(env, errnum, &js_errno) != napi_ok) js_errno = NULL;
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &js_syscall) != napi_ok) js_syscall = NULL;
  set_prop(env, err, "errno", js_errno);
  set_prop(env, err, "syscall", js_syscall);
  return err;
}

napi_value make_errno_error(napi_env env, int errnum, const char *syscall, const char *detail) {
  char name[64];
  char msg[320];
  format_errno(errnum, syscall, detail, name, msg);
  return build_errno_error(env, errnum, syscall, name, msg);
}

/* Throw the errno Error; if it cannot be created, napi_throw_error with the full message or,
 * when syscall_fallback, with just the syscall name. Returns NULL. */
static napi_value throw_errno_impl(napi_env env, int errnum, const char *syscall, const char *detail,
                                   bool syscall_fallback) {
  char name[64];
  char msg[320];
  format_errno(errnum, syscall, detail, name, msg);
  napi_value err = build_errno_error(env, errnum, syscall, name, msg);
  if (err != NULL)
    napi_throw(env, err);
  else
    napi_throw_error(env, name, syscall_fallback ? syscall : msg);
  return NULL;
}

napi_value throw_errno(napi_env env, int errnum, const char *syscall, const char *detail) {
  return throw_errno_impl(env, errnum, syscall, detail, false);
}

napi_value throw_errno_syscall_fallback(napi_env env, int errnum, const char *syscall,
                                        const char *detail) {
  return throw_errno_impl(env, errnum, syscall, detail, true);
}

napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}
