/*
 * Real-time scheduling and memory locking for the agent's main (VRRP) thread.
 *
 *   setScheduler(policy: 'rr' | 'fifo' | 'other', priority: number, tid = 0): undefined
 *       sched_setscheduler(tid, ...) on ONE THREAD: the calling one for tid 0 (on Linux, pid 0
 *       is the calling thread, not the process), else thread `tid` of this process, with
 *       SCHED_RESET_ON_FORK: threads and processes created after it by that thread (libuv's
 *       threadpool, spawned hooks and checks) start as SCHED_OTHER instead of inheriting the
 *       real-time policy. 'other' takes priority 0 and drops the policy.
 *   getScheduler(tid: number): { policy: 'rr' | 'fifo' | 'other' | 'batch' | 'idle' | 'deadline' | 'unknown',
 *                                 priority: number, resetOnFork: boolean }
 *       sched_getscheduler/sched_getparam of a thread (0 = the calling one).
 *   priorityRange(policy: 'rr' | 'fifo'): { min: number, max: number }
 *   lockMemory(): { regions: number, bytes: number }
 *       mlock2(MLOCK_ONFAULT) of every readable file-backed mapping (node, the shared
 *       libraries, this addon), the brk heap and the main thread's stack, as mapped now: pages
 *       already resident are locked, the rest as they are first touched. NOT mlockall, and not
 *       V8's own (anonymous) heap and code space: V8 gives memory back with
 *       madvise(MADV_DONTNEED), which fails with EINVAL on locked memory, and V8 aborts the
 *       process on that failure (Node 20: mlockall(MCL_CURRENT|MCL_FUTURE), with or without
 *       MCL_ONFAULT, ends in "Check failed: 0 == ret" at the first code-space release). On a
 *       failure (EPERM, ENOMEM: RLIMIT_MEMLOCK) what was locked is unlocked again.
 *   unlockMemory(): undefined   munlockall().
 *   gettid(): number            the calling thread's id (for /proc/self/task/<tid>).
 *
 * Errors: a failed syscall throws an Error carrying `errno`, `code` (errno name: EPERM when
 * CAP_SYS_NICE / RLIMIT_RTPRIO or CAP_IPC_LOCK / RLIMIT_MEMLOCK are missing, EINVAL for a
 * priority out of range, ENOMEM when the lock limit is too small) and `syscall`, like
 * packet_socket.c. Wrong argument types or an unknown policy name throw a TypeError with code
 * 'ERR_INVALID_ARG_TYPE'. The TypeScript wrapper (src/adapters/realtime.ts) is the only
 * intended caller and turns these into HaagentError('HA_ERR_SCHED').
 *
 * Deliberately not done here: CPU affinity, and choosing threads (which threads get the policy
 * is src/adapters/realtime.ts's decision).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>

#include "errors.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

void realtime_register(napi_env env, napi_value exports);

/* Reads a short ASCII string argument into buf; -1 with a TypeError pending otherwise. */
static int rt_get_word(napi_env env, napi_value value, char *buf, size_t size, const char *what) {
  napi_valuetype type;
  size_t n = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string ||
      napi_get_value_string_utf8(env, value, buf, size, &n) != napi_ok || n + 1 >= size) {
    throw_type(env, what);
    return -1;
  }
  return 0;
}

/* Reads an integer argument in [lo, hi]; -1 with a TypeError pending otherwise. */
static int rt_get_int(napi_env env, napi_value value, int lo, int hi, int *out, const char *what) {
  napi_valuetype type;
  double d = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, &d) != napi_ok || !(d >= lo && d <= hi) || d != (double)(int)d) {
    throw_type(env, what);
    return -1;
  }
  *out = (int)d;
  return 0;
}

static int rt_policy(const char *name) {
  if (strcmp(name, "rr") == 0) return SCHED_RR;
  if (strcmp(name, "fifo") == 0) return SCHED_FIFO;
  if (strcmp(name, "other") == 0) return SCHED_OTHER;
  return -1;
}

static const char *rt_policy_name(int policy) {
  switch (policy) {
    case SCHED_RR: return "rr";
    case SCHED_FIFO: return "fifo";
    case SCHED_OTHER: return "other";
    case SCHED_BATCH: return "batch";
    case SCHED_IDLE: return "idle";
    case SCHED_DEADLINE: return "deadline";
    default: return "unknown";
  }
}

/* setScheduler(policy, priority[, tid]) */
static napi_value js_set_scheduler(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char name[8];
  int priority;
  int tid = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "setScheduler(policy, priority) needs two arguments");
  if (argc >= 3 && rt_get_int(env, argv[2], 0, 0x3fffffff, &tid, "tid must be an integer >= 0") != 0) return NULL;
  if (rt_get_word(env, argv[0], name, sizeof name, "policy must be 'rr', 'fifo' or 'other'") != 0) return NULL;
  int policy = rt_policy(name);
  if (policy < 0) return throw_type(env, "policy must be 'rr', 'fifo' or 'other'");
  if (rt_get_int(env, argv[1], 0, 99, &priority, "priority must be an integer 0..99") != 0) return NULL;
  struct sched_param sp;
  memset(&sp, 0, sizeof sp);
  sp.sched_priority = priority;
  if (sched_setscheduler((pid_t)tid, policy | SCHED_RESET_ON_FORK, &sp) != 0)
    return throw_errno(env, errno, "sched_setscheduler", NULL);
  return NULL;
}

/* getScheduler(tid) -> { policy, priority, resetOnFork } */
static napi_value js_get_scheduler(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int tid = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1 && rt_get_int(env, argv[0], 0, 2147483647, &tid, "tid must be a non-negative integer") != 0) return NULL;
  int raw = sched_getscheduler(tid);
  if (raw < 0) return throw_errno(env, errno, "sched_getscheduler", NULL);
  struct sched_param sp;
  memset(&sp, 0, sizeof sp);
  if (sched_getparam(tid, &sp) != 0) return throw_errno(env, errno, "sched_getparam", NULL);
  napi_value result, v;
  NAPI_CALL(env, napi_create_object(env, &result));
  NAPI_CALL(env, napi_create_string_utf8(env, rt_policy_name(raw & ~SCHED_RESET_ON_FORK), NAPI_AUTO_LENGTH, &v));
  NAPI_CALL(env, napi_set_named_property(env, result, "policy", v));
  NAPI_CALL(env, napi_create_int32(env, sp.sched_priority, &v));
  NAPI_CALL(env, napi_set_named_property(env, result, "priority", v));
  NAPI_CALL(env, napi_get_boolean(env, (raw & SCHED_RESET_ON_FORK) != 0, &v));
  NAPI_CALL(env, napi_set_named_property(env, result, "resetOnFork", v));
  return result;
}

/* priorityRange(policy) -> { min, max } */
static napi_value js_priority_range(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[8];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "priorityRange(policy) needs a policy");
  if (rt_get_word(env, argv[0], name, sizeof name, "policy must be 'rr' or 'fifo'") != 0) return NULL;
  int policy = rt_policy(name);
  if (policy != SCHED_RR && policy != SCHED_FIFO) return throw_type(env, "policy must be 'rr' or 'fifo'");
  int lo = sched_get_priority_min(policy);
  int hi = sched_get_priority_max(policy);
  if (lo < 0 || hi < 0) return throw_errno(env, errno, "sched_get_priority_max", NULL);
  napi_value result, v;
  NAPI_CALL(env, napi_create_object(env, &result));
  NAPI_CALL(env, napi_create_int32(env, lo, &v));
  NAPI_CALL(env, napi_set_named_property(env, result, "min", v));
  NAPI_CALL(env, napi_create_int32(env, hi, &v));
  NAPI_CALL(env, napi_set_named_property(env, result, "max", v));
  return result;
}

/* lockMemory() -> { regions, bytes }: mlock2(MLOCK_ONFAULT) of every readable file-backed
 * mapping, the brk heap and the main stack, as listed in /proc/self/maps now. */
static napi_value js_lock_memory(napi_env env, napi_callback_info info) {
  (void)info;
  FILE *maps = fopen("/proc/self/maps", "re");
  if (maps == NULL) return throw_errno(env, errno, "open", "/proc/self/maps");
  char line[4096];
  double regions = 0, bytes = 0;
  int failed = 0;
  while (fgets(line, sizeof line, maps) != NULL) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = "";
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path_at) < 3 || hi <= lo) continue;
    const char *path = path_at > 0 ? line + path_at : "";
    bool wanted = path[0] == '/' || strncmp(path, "[heap]", 6) == 0 || strncmp(path, "[stack]", 7) == 0;
    if (!wanted || perms[0] != 'r') continue;
    if (syscall(SYS_mlock2, (void *)lo, (size_t)(hi - lo), MLOCK_ONFAULT) != 0) {
      failed = errno;
      break;
    }
    regions += 1;
    bytes += (double)(hi - lo);
  }
  fclose(maps);
  if (failed != 0) {
    (void)munlockall();
    return throw_errno(env, failed, "mlock2", NULL);
  }
  napi_value result, v;
  NAPI_CALL(env, napi_create_object(env, &result));
  NAPI_CALL(env, napi_create_double(env, regions, &v));
  NAPI_CALL(env, napi_set_named_property(env, result, "regions", v));
  NAPI_CALL(env, napi_create_double(env, bytes, &v));
  NAPI_CALL(env, napi_set_named_property(env, result, "bytes", v));
  return result;
}

static napi_value js_unlock_memory(napi_env env, napi_callback_info info) {
  (void)info;
  if (munlockall() != 0) return throw_errno(env, errno, "munlockall", NULL);
  return NULL;
}

static napi_value js_gettid(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, (int32_t)syscall(SYS_gettid), &result));
  return result;
}

void realtime_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setScheduler", NULL, js_set_scheduler, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getScheduler", NULL, js_get_scheduler, NULL, NULL, NULL, napi_enumerable, NULL},
    {"priorityRange", NULL, js_priority_range, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lockMemory", NULL, js_lock_memory, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unlockMemory", NULL, js_unlock_memory, NULL, NULL, NULL, napi_enumerable, NULL},
    {"gettid", NULL, js_gettid, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    throw_napi_failure(env, "napi_define_properties");
}
