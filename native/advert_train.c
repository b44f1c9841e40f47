/*
 * Advert trains: a MASTER's periodic VRRP adverts sent from one native thread, so that the
 * agent's JavaScript does not have to wake up for every advert.
 *
 * A train is one instance's advert (the same bytes every time) to one or more destinations on
 * an IPv4 send socket (vrrp4_send.c), sent `count` times: first `first_delay_ms` after it is
 * scheduled, then every `every_ms`. The agent schedules a short train each time it sends an
 * advert itself, covering only the ticks until its own next advert; a train therefore runs
 * out by itself when the agent's JavaScript stops (a stuck event loop stops the adverts after
 * at most one train, as it would without trains), and a killed or stopped process stops it
 * with everything else.
 *
 * A train may also renew the instance's VIP lease: `renewal` is a datagram of complete
 * rtnetlink requests (RTM_NEWADDR with the lifetimes, each asking for an ACK), sent on the
 * thread's own NETLINK_ROUTE socket with a tick's advert once `renewDueMs` have passed since the
 * last renewal (`lastRenewAgoMs` ago when scheduled). The kernel answers a route request inside
 * the sendto, so the answers are read at once, without waiting (a missing one, ETIMEDOUT, would
 * not come later). An answer with an errno other than EEXIST is a failed renewal. Once a tick
 * comes more than two intervals after the train's previous tick (whether its sends worked or
 * not), the train renews nothing more (see fire). Like any rtnetlink request, the renewal's
 * sendto waits for the kernel's rtnl lock; while it waits, the thread sends nothing, as the
 * agent's own thread would not.
 *
 * Exports (ids are small non-negative integers chosen by the caller, one per instance):
 *   trainSchedule(id, fd, message, dsts, firstDelayMs, everyMs, count[, renewal, renewDueMs,
 *     lastRenewAgoMs]) -> report
 *     replaces id's train (if any) with a new one; dsts is an array of dotted quads; renewal
 *     null or absent = no renewals.
 *   trainCollect(id) -> report      what id's train did since the last report; it runs on.
 *   trainCancel(id) -> report       stops id's train; nothing is sent for it after this returns.
 *   trainCancelFd(fd)               stops every train on fd (call it before closing fd).
 * A report is [sent, errno, sinceLastMs, maxGapMs, renewedAgoMs, renewErrno]: adverts sent
 * (ticks with every datagram sent), the errno of the last failed sendto (0 = none), how long ago
 * (ms) the last advert of this instance left (the train's or, before the first, the moment it
 * was scheduled), the longest gap (ms) between consecutive adverts since the last report,
 * counted from the moment of scheduling, how long ago the train last renewed the lease (-1 =
 * not since the last report) and the errno of a failed renewal since the last report (0 =
 * none; ETIMEDOUT = not answered). Counters restart after each report; [0, 0, -1, 0, -1, 0]
 * when there is no train.
 *
 * Timing: CLOCK_MONOTONIC, absolute deadlines (no drift). A tick missed because the process was
 * stopped or starved is not made up: one advert goes out late and the train goes on with the
 * next tick still ahead (the missed ticks count against `count`).
 *
 * The thread ("vrrp-trains") is started at the first schedule and never stops; it sleeps on a
 * condition variable when no train is due, and takes no signals (they are blocked in it). It
 * takes the scheduling policy the calling (main) thread has at that moment, one priority above
 * it where the limit allows (else the same), so a real-time agent's adverts stay real-time and
 * a busy main thread of the same priority does not hold them back (a main thread set with
 * SCHED_RESET_ON_FORK would otherwise hand it SCHED_OTHER). The advert's sendto never blocks
 * (MSG_DONTWAIT); the lock is held while sending, so after trainCancel/trainCancelFd return no
 * datagram of those trains is in flight or will be sent.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

#define TRAIN_MAX_DSTS 64
#define TRAIN_MAX_BYTES 1500
#define TRAIN_MAX_IDS 4096
#define RENEW_MAX_BYTES 65536

typedef struct {
  int fd;
  uint8_t bytes[TRAIN_MAX_BYTES];
  size_t len;
  struct sockaddr_in dst[TRAIN_MAX_DSTS];
  int ndst;
  int64_t every_ns;
  int64_t due_ns;
  uint32_t remaining;
  /* Report counters. */
  uint32_t sent;
  int err;
  int64_t last_ns;
  /* When the last tick fired, its sends failed or not (at schedule: the scheduling moment). */
  int64_t last_tick_ns;
  int64_t max_gap_ns;
  /* Lease renewal (renew_len 0 = none). */
  uint8_t *renew;
  size_t renew_len;
  uint32_t renew_count;
  int64_t renew_due_ns;
  int64_t renewed_ns;
  int renewed_since_report;
  int renew_err;
  /* A tick came late: no more renewals for this train. */
  int late;
} train_t;

static void free_train(train_t *t) {
  if (t == NULL) return;
  free(t->renew);
  free(t);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int started = 0;
static train_t *trains[TRAIN_MAX_IDS];
/* One more than the highest id that has had a train: the thread looks no further. */
static int top = 0;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The thread's own route socket, or -1 (errno set). */
static int renew_socket(void) {
  static int fd = -1;
  if (fd >= 0) return fd;
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return -1;
  int size = 1024 * 1024;
  if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(s, (struct sockaddr *)&local, sizeof local) != 0) {
    int err = errno;
    close(s);
    errno = err;
    return -1;
  }
  fd = s;
  return fd;
}

/* Sends `t`'s renewal and reads its answers: 0 when every request was done, else an errno. */
static int renew_lease(train_t *t) {
  static uint8_t buf[16384] __attribute__((aligned(8)));
  int fd = renew_socket();
  if (fd < 0) return errno;
  /* Answers left over from an earlier renewal belong to nobody now. */
  for (;;) {
    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (r < 0 && errno != ENOBUFS) break;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do {
    n = sendto(fd, t->renew, t->renew_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  uint32_t answered = 0;
  int err = 0;
  while (answered < t->renew_count) {
    n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return err != 0 ? err : ETIMEDOUT;
    if (n < 0) return errno;
    int left = (int)n;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) continue;
      const struct nlmsgerr *e = (const struct nlmsgerr *)NLMSG_DATA(h);
      int code = e->error < 0 ? -e->error : e->error;
      if (code != 0 && code != EEXIST) err = code;
      answered++;
    }
  }
  return err;
}

/* Sends one tick of `t` (lock held) and moves its deadline past `now`. */
static void fire(train_t *t, int64_t now) {
  /* More than two intervals after the previous tick (the process was stopped or starved): no
   * renewal from this train any more. The lease may have run out meanwhile and the VIP be gone;
   * putting it back is for the agent, which first reads what happened while it was away. */
  if (now - t->last_tick_ns > 2 * t->every_ns) t->late = 1;
  t->last_tick_ns = now;
  int ok = 1;
  for (int i = 0; i < t->ndst; i++) {
    ssize_t n;
    do {
      n = sendto(t->fd, t->bytes, t->len, MSG_DONTWAIT, (const struct sockaddr *)&t->dst[i], sizeof t->dst[i]);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      t->err = errno;
      ok = 0;
    }
  }
  if (ok) {
    t->sent++;
    if (now - t->last_ns > t->max_gap_ns) t->max_gap_ns = now - t->last_ns;
    t->last_ns = now;
  }
  if (t->renew_len > 0 && !t->late && now - t->renewed_ns >= t->renew_due_ns) {
    int err = renew_lease(t);
    if (err == 0) {
      t->renewed_ns = now;
      t->renewed_since_report = 1;
    } else {
      t->renew_err = err;
    }
  }
  t->remaining--;
  t->due_ns += t->every_ns;
  while (t->remaining > 0 && t->due_ns <= now) {
    t->due_ns += t->every_ns;
    t->remaining--;
  }
}

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

/* The creator's scheduling, taken by the thread when it starts. */
static int creator_policy = SCHED_OTHER;
static struct sched_param creator_param;

static void *run(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "vrrp-trains");
  if (creator_policy == SCHED_RR || creator_policy == SCHED_FIFO) {
    struct sched_param above = creator_param;
    if (above.sched_priority < sched_get_priority_max(creator_policy)) above.sched_priority++;
    if (sched_setscheduler(0, creator_policy | SCHED_RESET_ON_FORK, &above) != 0)
      (void)sched_setscheduler(0, creator_policy | SCHED_RESET_ON_FORK, &creator_param);
  }
  pthread_mutex_lock(&lock);
  for (;;) {
    int64_t next = INT64_MAX;
    for (int id = 0; id < top; id++) {
      train_t *t = trains[id];
      if (t == NULL || t->remaining == 0) continue;
      int64_t now = now_ns(); /* a renewal may have taken a while */
      if (t->due_ns <= now) fire(t, now);
      if (t->remaining > 0 && t->due_ns < next) next = t->due_ns;
    }
    if (next == INT64_MAX) {
      pthread_cond_wait(&wake, &lock);
    } else {
      struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
      pthread_cond_timedwait(&wake, &lock, &ts);
    }
  }
  return NULL;
}

/* Starts the thread once (lock held). Returns 0 or an errno. */
static int ensure_started(void) {
  if (started) return 0;
  int policy = sched_getscheduler(0);
  if (policy >= 0 && sched_getparam(0, &creator_param) == 0) creator_policy = policy & ~SCHED_RESET_ON_FORK;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int err = pthread_cond_init(&wake, &ca);
  pthread_condattr_destroy(&ca);
  if (err != 0) return err;
  pthread_attr_t ta;
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&ta, 256 * 1024);
  pthread_t th;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread starts with every signal blocked */
  err = pthread_create(&th, &ta, run, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&ta);
  if (err != 0) {
    pthread_cond_destroy(&wake);
    return err;
  }
  started = 1;
  return 0;
}

/* The report of `t` (NULL = none) into v; resets its counters. Lock held. */
static void take_report(train_t *t, double v[6]) {
  v[0] = 0;
  v[1] = 0;
  v[2] = -1;
  v[3] = 0;
  v[4] = -1;
  v[5] = 0;
  if (t != NULL) {
    int64_t now = now_ns();
    v[0] = t->sent;
    v[1] = t->err;
    v[2] = (double)(now - t->last_ns) / 1e6;
    v[3] = (double)t->max_gap_ns / 1e6;
    if (t->renewed_since_report) v[4] = (double)(now - t->renewed_ns) / 1e6;
    v[5] = t->renew_err;
    t->sent = 0;
    t->err = 0;
    t->max_gap_ns = 0;
    t->renewed_since_report = 0;
    t->renew_err = 0;
  }
}

/* A report as a JS array (lock not held: V8 may collect while allocating). */
static napi_value make_report(napi_env env, const double v[6]) {
  napi_value arr;
  NAPI_CALL(env, napi_create_array_with_length(env, 6, &arr));
  for (uint32_t i = 0; i < 6; i++) {
    napi_value x;
    NAPI_CALL(env, napi_create_double(env, v[i], &x));
    NAPI_CALL(env, napi_set_element(env, arr, i, x));
  }
  return arr;
}

/*
 * Checks that `data` is whole rtnetlink requests asking for an acknowledgement, exactly covering
 * it; returns how many (0 = not so).
 */
static uint32_t count_requests(const void *data, size_t len) {
  uint32_t n = 0;
  size_t at = 0;
  while (at < len) {
    if (len - at < NLMSG_HDRLEN) return 0;
    struct nlmsghdr h;
    memcpy(&h, (const uint8_t *)data + at, sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - at) return 0;
    if ((h.nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) != (NLM_F_REQUEST | NLM_F_ACK)) return 0;
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    at = step > len - at ? len : at + step;
    n++;
  }
  return n;
}

static int get_id(napi_env env, napi_value value, int *id) {
  uint32_t u;
  if (get_uint32_in(env, value, 0, TRAIN_MAX_IDS - 1, "id must be an integer 0..4095", &u) != 0) return -1;
  *id = (int)u;
  return 0;
}

/* trainSchedule(id, fd, message, dsts, firstDelayMs, everyMs, count[, renewal, renewDueMs,
 * lastRenewAgoMs]) -> report of the replaced train */
static napi_value js_schedule(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_type(env, "trainSchedule(id, fd, message, dsts, firstDelayMs, everyMs, count) needs seven arguments");
  int id, fd;
  if (get_id(env, argv[0], &id) != 0) return NULL;
  if (get_nonneg_int32(env, argv[1], "fd must be a non-negative integer", &fd) != 0) return NULL;
  size_t len = 0;
  void *data = NULL;
  if (get_uint8_array(env, argv[2], "message must be a Buffer or Uint8Array", &data, &len) != 0) return NULL;
  if (len == 0 || len > TRAIN_MAX_BYTES) return throw_type(env, "message must be 1..1500 bytes");
  uint32_t first_ms, every_ms, count, ndst;
  if (get_uint32_in(env, argv[4], 0, 3600000, "firstDelayMs must be an integer 0..3600000", &first_ms) != 0) return NULL;
  if (get_uint32_in(env, argv[5], 1, 3600000, "everyMs must be an integer 1..3600000", &every_ms) != 0) return NULL;
  if (get_uint32_in(env, argv[6], 0, 1000000, "count must be an integer 0..1000000", &count) != 0) return NULL;
  bool is_array = false;
  NAPI_CALL(env, napi_is_array(env, argv[3], &is_array));
  if (!is_array) return throw_type(env, "dsts must be an array of IPv4 addresses");
  NAPI_CALL(env, napi_get_array_length(env, argv[3], &ndst));
  if (ndst == 0 || ndst > TRAIN_MAX_DSTS) return throw_type(env, "dsts must hold 1..64 addresses");

  void *renew = NULL;
  size_t renew_len = 0;
  uint32_t renew_due_ms = 0, renew_ago_ms = 0;
  napi_valuetype rtype = napi_undefined;
  if (argc >= 8) NAPI_CALL(env, napi_typeof(env, argv[7], &rtype));
  if (rtype != napi_undefined && rtype != napi_null) {
    if (argc < 10) return throw_type(env, "a renewal needs renewDueMs and lastRenewAgoMs");
    if (get_uint8_array(env, argv[7], "renewal must be a Buffer or Uint8Array", &renew, &renew_len) != 0) return NULL;
    if (renew_len < NLMSG_HDRLEN || renew_len > RENEW_MAX_BYTES) return throw_type(env, "renewal must be 16..65536 bytes");
    if (count_requests(renew, renew_len) == 0) return throw_type(env, "renewal must be whole netlink requests, each asking for an acknowledgement");
    if (get_uint32_in(env, argv[8], 1, 86400000, "renewDueMs must be an integer 1..86400000", &renew_due_ms) != 0) return NULL;
    if (get_uint32_in(env, argv[9], 0, 86400000, "lastRenewAgoMs must be an integer 0..86400000", &renew_ago_ms) != 0) return NULL;
  }

  train_t *t = calloc(1, sizeof *t);
  if (t == NULL) return throw_errno(env, ENOMEM, "calloc", NULL);
  memcpy(t->bytes, data, len); /* before anything below could run JavaScript */
  t->len = len;
  if (renew_len > 0) {
    t->renew = malloc(renew_len);
    if (t->renew == NULL) {
      free(t);
      return throw_errno(env, ENOMEM, "malloc", NULL);
    }
    memcpy(t->renew, renew, renew_len);
    t->renew_len = renew_len;
    t->renew_count = count_requests(t->renew, renew_len); /* each answered once */
    t->renew_due_ns = (int64_t)renew_due_ms * 1000000;
  }
  for (uint32_t i = 0; i < ndst; i++) {
    napi_value item;
    char text[INET_ADDRSTRLEN + 1];
    size_t text_len = 0;
    if (napi_get_element(env, argv[3], i, &item) != napi_ok
        || napi_get_value_string_utf8(env, item, text, sizeof text, &text_len) != napi_ok
        || text_len >= INET_ADDRSTRLEN || inet_pton(AF_INET, text, &t->dst[i].sin_addr) != 1) {
      free_train(t);
      return throw_errno(env, EINVAL, "inet_pton", "(dsts holds something that is not an IPv4 address)");
    }
    t->dst[i].sin_family = AF_INET;
  }
  t->fd = fd;
  t->ndst = (int)ndst;
  t->every_ns = (int64_t)every_ms * 1000000;
  t->remaining = count;

  pthread_mutex_lock(&lock);
  int err = ensure_started();
  if (err != 0) {
    pthread_mutex_unlock(&lock);
    free_train(t);
    return throw_errno(env, err, "pthread_create", NULL);
  }
  int64_t now = now_ns();
  t->due_ns = now + (int64_t)first_ms * 1000000;
  t->last_ns = now;
  t->last_tick_ns = now;
  t->renewed_ns = now - (int64_t)renew_ago_ms * 1000000;
  train_t *old = trains[id];
  trains[id] = t;
  if (id >= top) top = id + 1;
  double v[6];
  take_report(old, v);
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&lock);
  free_train(old);
  return make_report(env, v);
}

static napi_value collect_or_cancel(napi_env env, napi_callback_info info, int cancel) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "needs the train's id");
  int id;
  if (get_id(env, argv[0], &id) != 0) return NULL;
  pthread_mutex_lock(&lock);
  train_t *t = trains[id];
  double v[6];
  take_report(t, v);
  if (cancel) trains[id] = NULL;
  pthread_mutex_unlock(&lock);
  if (cancel) free_train(t);
  return make_report(env, v);
}

/* trainCollect(id) -> report */
static napi_value js_collect(napi_env env, napi_callback_info info) {
  return collect_or_cancel(env, info, 0);
}

/* trainCancel(id) -> report */
static napi_value js_cancel(napi_env env, napi_callback_info info) {
  return collect_or_cancel(env, info, 1);
}

/* trainCancelFd(fd) */
static napi_value js_cancel_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "trainCancelFd(fd) needs a descriptor");
  int fd;
  if (get_nonneg_int32(env, argv[0], "fd must be a non-negative integer", &fd) != 0) return NULL;
  pthread_mutex_lock(&lock);
  for (int id = 0; id < top; id++) {
    if (trains[id] != NULL && trains[id]->fd == fd) {
      free_train(trains[id]);
      trains[id] = NULL;
    }
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

void advert_train_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"trainSchedule", NULL, js_schedule, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trainCollect", NULL, js_collect, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trainCancel", NULL, js_cancel, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trainCancelFd", NULL, js_cancel_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    throw_napi_failure(env, "napi_define_properties");
}
