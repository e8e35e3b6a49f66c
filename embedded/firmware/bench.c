/*
 * bench.c — the benchmark firmware: real lwIP 2.1.3 on lwbench's RTOS,
 * measuring the 2007 seed's points and the primitives that explain them.
 *
 * Built twice (LWBENCH_LWIP_CORE_LOCKING = 1 / 0), like real_lwip/'s Linux
 * runners, with the same zero-copy netif pair (real_lwip/src/zc_loopif.c) and
 * the same sink: a raw UDP pcb on port 9 of 10.0.0.2 whose receive callback
 * counts and frees each datagram. What each point's operation is:
 *   socket   lwip_sendto() of the 1458-byte payload to 10.0.0.2:9;
 *   socket, variant connect_send_disconnect
 *            lwip_connect() + lwip_send() + lwip_connect(AF_UNSPEC): what
 *            lwIP 1.2's lwip_sendto did on an unconnected socket (three API
 *            messages instead of one) — the "why 3x in 2007" hypothesis;
 *   netconn  netbuf_ref() on a reused netbuf + netconn_sendto();
 *   raw      pbuf_alloc(PBUF_REF) + udp_sendto() + pbuf_free() in core context:
 *            under LOCK_TCPIP_CORE() (core locking build) or inside
 *            tcpip_api_call() (message passing build, where it includes the
 *            hand-off, as on Linux);
 *   primitives (thread_pingpong, semaphore_wake, lock_unlock, memcpy,
 *            checksum) in the core-locking build, and mailbox_handoff (an
 *            empty tcpip_api_call through lwIP's mailbox) in the
 *            message-passing build.
 * A third and fourth build turn lwIP's checksums off (LWBENCH_NO_CHECKSUMS=1)
 * and tag their points with the variant "no_checksums": the same calls with the
 * protocol's biggest cost removed, for the "why 3x in 2007" analysis.
 * Every operation is timed alone by the board's timer (it is thousands of
 * instructions long; one timer read is a few). After a warm-up, each point
 * runs LWBENCH_REPS repetitions of LWBENCH_OPS operations.
 *
 * Output (the board console, one JSON object per line; the host turns them
 * into lwbench records — harness/src/target_runner.cpp):
 *   {"kind":"target", ...}   the board, timer rate, build, lwIP options;
 *   {"kind":"rep", "point":{identity}, "rep":i, "ticks":[...], counters}
 *                            one repetition of one point, ticks per op;
 *   {"kind":"end","errors":n}
 * and then the run ends (board_exit).
 */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "lwip/api.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcpip_priv.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
#include "rtos.h"
#include "zc_loopif.h"

#ifndef LWBENCH_OPS
#define LWBENCH_OPS 500
#endif
#ifndef LWBENCH_REPS
#define LWBENCH_REPS 5
#endif
#ifndef LWBENCH_WARMUP
#define LWBENCH_WARMUP 50
#endif
#ifndef LWBENCH_NO_CHECKSUMS
#define LWBENCH_NO_CHECKSUMS 0 /* 1: lwIP built with CHECKSUM_GEN/CHECK_* = 0 (config/lwipopts_target.h) */
#endif

#define PAYLOAD 1458
#define SINK_PORT 9
#define APP_PRIORITY 10
#define HELPER_STACK 2048

static uint8_t payload[PAYLOAD];
static uint8_t copy_target[PAYLOAD];
static uint32_t ticks[LWBENCH_OPS];
static volatile uint32_t sink_received;
static unsigned total_errors;
static ip_addr_t sink_addr;

/* ---- the sink (core context) ---------------------------------------------------- */

static void sink_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
  (void)arg, (void)pcb, (void)addr, (void)port;
  sink_received = sink_received + 1;
  pbuf_free(p);
}

static err_t setup_in_core(struct tcpip_api_call_data *call) {
  (void)call;
  if (lwbench_zc_loopif_add() != 0) return ERR_IF;
  struct udp_pcb *sink = udp_new();
  if (sink == NULL || udp_bind(sink, IP4_ADDR_ANY, SINK_PORT) != ERR_OK) return ERR_MEM;
  udp_recv(sink, sink_recv, NULL);
  return ERR_OK;
}

/* ---- a point: identity, the operation, and the timed loop ------------------------- */

typedef int (*op_fn)(void *ctx); /* 0 on success */

typedef struct {
  const char *scenario, *api, *primitive, *variant;
  int payload;
} point_id;

static const char *mode_name(void) { return LWIP_TCPIP_CORE_LOCKING ? "core_locking" : "message_passing"; }
static const char *input_mode_name(void) { return LWIP_TCPIP_CORE_LOCKING_INPUT ? "inline" : "mailbox"; }

/* The build's own variant: the checksum-free build tags every point with it. */
static void print_identity(const point_id *given) {
  point_id tagged = *given;
#if LWBENCH_NO_CHECKSUMS
  char variant[64];
  snprintf(variant, sizeof variant, "no_checksums%s%s", given->variant ? "/" : "", given->variant ? given->variant : "");
  tagged.variant = variant;
#endif
  const point_id *id = &tagged;
  board_printf("{\"scenario\":\"%s\",\"api\":%s%s%s,\"primitive\":%s%s%s,\"variant\":%s%s%s,\"payload_bytes\":%d", id->scenario,
      id->api ? "\"" : "", id->api ? id->api : "null", id->api ? "\"" : "", id->primitive ? "\"" : "",
      id->primitive ? id->primitive : "null", id->primitive ? "\"" : "", id->variant ? "\"" : "",
      id->variant ? id->variant : "null", id->variant ? "\"" : "", id->payload);
  if (id->api) board_printf(",\"threading_mode\":\"%s\",\"input_mode\":\"%s\"}", mode_name(), input_mode_name());
  else board_printf(",\"threading_mode\":null,\"input_mode\":null}");
}

static void run_point(const point_id *id, op_fn op, void *ctx) {
  unsigned errors = 0;
  for (int i = 0; i < LWBENCH_WARMUP; ++i) errors += op(ctx) != 0;
  for (int rep = 0; rep < LWBENCH_REPS; ++rep) {
    const uint32_t received_before = sink_received;
    const uint32_t switches_before = rtos_context_switches();
    const uint32_t wall_start = board_timer_read();
    unsigned rep_errors = 0;
    for (int i = 0; i < LWBENCH_OPS; ++i) {
      const uint32_t t0 = board_timer_read();
      const int rc = op(ctx);
      ticks[i] = board_timer_read() - t0;
      rep_errors += rc != 0;
    }
    const uint32_t wall = board_timer_read() - wall_start;
    const uint32_t switches = rtos_context_switches() - switches_before;
    const uint32_t received = sink_received - received_before;
    board_printf("{\"kind\":\"rep\",\"point\":");
    print_identity(id);
    board_printf(",\"rep\":%d,\"ops\":%d,\"errors\":%u,\"wall_ticks\":%lu,\"context_switches\":%lu,\"received\":%lu,\"ticks\":[",
        rep, LWBENCH_OPS, rep_errors, (unsigned long)wall, (unsigned long)switches, (unsigned long)received);
    for (int i = 0; i < LWBENCH_OPS; ++i) board_printf(i ? ",%lu" : "%lu", (unsigned long)ticks[i]);
    board_printf("]}\n");
    errors += rep_errors;
  }
  total_errors += errors;
}

/* ---- the seed's operations ------------------------------------------------------------ */

static struct sockaddr_in sink_sockaddr(void) {
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_len = sizeof to;
  to.sin_family = AF_INET;
  to.sin_port = lwip_htons(SINK_PORT);
  to.sin_addr.s_addr = ip_2_ip4(&sink_addr)->addr;
  return to;
}

typedef struct {
  int fd;
  struct sockaddr_in to;
} socket_ctx;

static int op_socket_sendto(void *arg) {
  socket_ctx *c = arg;
  return lwip_sendto(c->fd, payload, PAYLOAD, 0, (const struct sockaddr *)&c->to, sizeof c->to) == PAYLOAD ? 0 : 1;
}

/* lwIP 1.2's lwip_sendto on an unconnected socket, spelled with 2.1.3's calls. */
static int op_socket_connect_send_disconnect(void *arg) {
  socket_ctx *c = arg;
  struct sockaddr_in unspec;
  memset(&unspec, 0, sizeof unspec);
  unspec.sin_len = sizeof unspec;
  unspec.sin_family = AF_UNSPEC;
  int bad = lwip_connect(c->fd, (const struct sockaddr *)&c->to, sizeof c->to) != 0;
  bad |= lwip_send(c->fd, payload, PAYLOAD, 0) != PAYLOAD;
  bad |= lwip_connect(c->fd, (const struct sockaddr *)&unspec, sizeof unspec) != 0;
  return bad;
}

typedef struct {
  struct netconn *conn;
  struct netbuf *buf;
} netconn_ctx;

static int op_netconn_sendto(void *arg) {
  netconn_ctx *c = arg;
  if (netbuf_ref(c->buf, payload, PAYLOAD) != ERR_OK) return 1;
  return netconn_sendto(c->conn, c->buf, &sink_addr, SINK_PORT) != ERR_OK;
}

typedef struct {
  struct tcpip_api_call_data base; /* first: lwIP hands &base back */
  struct udp_pcb *pcb;
} raw_ctx;

/* Core context. */
static err_t raw_send_in_core(struct tcpip_api_call_data *call) {
  raw_ctx *c = (raw_ctx *)call;
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, PAYLOAD, PBUF_REF);
  if (p == NULL) return ERR_MEM;
  p->payload = payload;
  const err_t err = udp_sendto(c->pcb, p, &sink_addr, SINK_PORT);
  pbuf_free(p);
  return err;
}

static int op_raw_sendto(void *arg) {
  raw_ctx *c = arg;
#if LWIP_TCPIP_CORE_LOCKING
  LOCK_TCPIP_CORE();
  const err_t err = raw_send_in_core(&c->base);
  UNLOCK_TCPIP_CORE();
  return err != ERR_OK;
#else
  return tcpip_api_call(raw_send_in_core, &c->base) != ERR_OK;
#endif
}

static err_t raw_pcb_new_in_core(struct tcpip_api_call_data *call) {
  raw_ctx *c = (raw_ctx *)call;
  c->pcb = udp_new();
  return c->pcb ? ERR_OK : ERR_MEM;
}

/* ---- measured phases of one call ---------------------------------------------------
 * The same operation, with timestamps at its inner boundaries: the two context
 * switches of a message-passing call (stamped by an RTOS switch hook), or the core
 * lock's release in a core-locking call (where the zero-copy netif delivers). A
 * call with other switches (the tick waking the tcpip thread) is measured again. */

#define MAX_PHASES 3
static uint32_t phase_ticks[MAX_PHASES][LWBENCH_OPS];
static volatile uint32_t switch_stamps[2];
static volatile unsigned switch_stamp_count;

static void stamp_switch(void) {
  if (switch_stamp_count < 2) switch_stamps[switch_stamp_count] = board_timer_read();
  ++switch_stamp_count;
}

/* Runs one call, fills the boundaries bounds[0..phases]; 0 if it is a clean sample. */
typedef int (*phase_op_fn)(void *ctx, uint32_t bounds[MAX_PHASES + 1]);

typedef struct {
  const char *name;
  int ends_with_switch; /* the phase ends at a context switch */
} phase_id;

static void run_phases(const char *api, const phase_id *phases, int count, phase_op_fn op, void *ctx) {
  uint32_t bounds[MAX_PHASES + 1];
  rtos_set_switch_hook(stamp_switch);
  for (int i = 0; i < LWBENCH_WARMUP; ++i) (void)op(ctx, bounds);
  for (int rep = 0; rep < LWBENCH_REPS; ++rep) {
    int done = 0, attempts = 0;
    while (done < LWBENCH_OPS) {
      if (++attempts > 4 * LWBENCH_OPS) rtos_panic("phase measurement: too many calls with unexpected switches");
      if (op(ctx, bounds) != 0) continue;
      for (int phase = 0; phase < count; ++phase) phase_ticks[phase][done] = bounds[phase + 1] - bounds[phase];
      ++done;
    }
    for (int phase = 0; phase < count; ++phase) {
      char variant[48];
      snprintf(variant, sizeof variant, "phase:%s", phases[phase].name);
      const point_id id = {"send_latency", api, NULL, variant, PAYLOAD};
      unsigned long wall = 0;
      for (int i = 0; i < LWBENCH_OPS; ++i) wall += phase_ticks[phase][i];
      board_printf("{\"kind\":\"rep\",\"point\":");
      print_identity(&id);
      board_printf(",\"rep\":%d,\"ops\":%d,\"errors\":0,\"wall_ticks\":%lu,\"context_switches\":%d,\"received\":%d,"
                   "\"ticks\":[",
                   rep, LWBENCH_OPS, wall, phases[phase].ends_with_switch ? LWBENCH_OPS : 0, LWBENCH_OPS);
      for (int i = 0; i < LWBENCH_OPS; ++i) board_printf(i ? ",%lu" : "%lu", (unsigned long)phase_ticks[phase][i]);
      board_printf("]}\n");
    }
  }
  rtos_set_switch_hook(NULL);
}

#if LWIP_TCPIP_CORE_LOCKING
/* raw udp_sendto, split where UNLOCK_TCPIP_CORE() delivers the queued datagram. */
static int phase_raw_sendto(void *arg, uint32_t bounds[MAX_PHASES + 1]) {
  raw_ctx *c = arg;
  const uint32_t received = sink_received;
  switch_stamp_count = 0;
  bounds[0] = board_timer_read();
  LOCK_TCPIP_CORE();
  const err_t err = raw_send_in_core(&c->base);
  bounds[1] = board_timer_read();
  UNLOCK_TCPIP_CORE();
  bounds[2] = board_timer_read();
  return err != ERR_OK || switch_stamp_count != 0 || sink_received != received + 1;
}

static void run_phase_points(raw_ctx *raw) {
  static const phase_id phases[] = {{"send_under_core_lock", 0}, {"unlock_and_deliver", 0}};
  run_phases("raw", phases, 2, phase_raw_sendto, raw);
}
#else
/* lwip_sendto, split at its two context switches. */
static int phase_socket_sendto(void *arg, uint32_t bounds[MAX_PHASES + 1]) {
  const uint32_t received = sink_received;
  switch_stamp_count = 0;
  bounds[0] = board_timer_read();
  const int rc = op_socket_sendto(arg);
  bounds[3] = board_timer_read();
  bounds[1] = switch_stamps[0];
  bounds[2] = switch_stamps[1];
  return rc != 0 || switch_stamp_count != 2 || sink_received != received + 1;
}

static void run_phase_points(socket_ctx *sock) {
  static const phase_id phases[] = {
      {"caller_until_switch", 1}, {"tcpip_thread", 1}, {"caller_after_switch", 0}};
  run_phases("socket", phases, 3, phase_socket_sendto, sock);
}
#endif

static void run_seed_points(void) {
  socket_ctx sock = {lwip_socket(AF_INET, SOCK_DGRAM, 0), sink_sockaddr()};
  if (sock.fd < 0) rtos_panic("lwip_socket failed");
  const point_id socket_id = {"send_latency", "socket", NULL, NULL, PAYLOAD};
  run_point(&socket_id, op_socket_sendto, &sock);
#if !LWIP_TCPIP_CORE_LOCKING
  run_phase_points(&sock);
#endif
  lwip_close(sock.fd);

  netconn_ctx nc = {netconn_new(NETCONN_UDP), netbuf_new()};
  if (nc.conn == NULL || nc.buf == NULL) rtos_panic("netconn_new/netbuf_new failed");
  const point_id netconn_id = {"send_latency", "netconn", NULL, NULL, PAYLOAD};
  run_point(&netconn_id, op_netconn_sendto, &nc);
  netbuf_delete(nc.buf);
  netconn_delete(nc.conn);

  raw_ctx raw;
  memset(&raw, 0, sizeof raw);
  if (tcpip_api_call(raw_pcb_new_in_core, &raw.base) != ERR_OK) rtos_panic("udp_new failed");
  const point_id raw_id = {"send_latency", "raw", NULL, NULL, PAYLOAD};
  run_point(&raw_id, op_raw_sendto, &raw);
#if LWIP_TCPIP_CORE_LOCKING
  run_phase_points(&raw);
#endif

  socket_ctx legacy = {lwip_socket(AF_INET, SOCK_DGRAM, 0), sink_sockaddr()};
  if (legacy.fd < 0) rtos_panic("lwip_socket failed");
  const point_id legacy_id = {"send_latency", "socket", NULL, "connect_send_disconnect", PAYLOAD};
  run_point(&legacy_id, op_socket_connect_send_disconnect, &legacy);
  lwip_close(legacy.fd);
}

/* ---- the primitives floor ------------------------------------------------------------- */

#if LWIP_TCPIP_CORE_LOCKING
/* Two helpers (a thread that ended stays known to the kernel: never reuse it). */
static rtos_thread helper_sem, helper_yield;
static uint64_t helper_stacks[2][HELPER_STACK / 8];
static uint64_t helper_tls[2][4096 / 8];
static rtos_sem ping, pong;
/* 0: semaphore ping-pong, 1: yield ping-pong, 2: park (wait for ever), -1: end */
static volatile int helper_mode;

static void helper_entry(void *arg) {
  (void)arg;
  for (;;) {
    if (helper_mode == 1) {
      rtos_yield();
      continue;
    }
    rtos_sem_wait(&ping, RTOS_WAIT_FOREVER);
    if (helper_mode < 0) return;
    rtos_sem_signal(&pong);
  }
}

static int op_semaphore_round_trip(void *arg) {
  (void)arg;
  rtos_sem_signal(&ping); /* the helper (higher priority) runs now, then blocks again */
  return rtos_sem_wait(&pong, RTOS_WAIT_FOREVER) != RTOS_OK;
}

static int op_yield(void *arg) {
  (void)arg;
  rtos_yield(); /* to the helper (same priority), which yields straight back */
  return 0;
}

static rtos_mutex bench_mutex;
static int op_lock_unlock(void *arg) {
  (void)arg;
  rtos_mutex_lock(&bench_mutex);
  rtos_mutex_unlock(&bench_mutex);
  return 0;
}

static int op_memcpy(void *arg) {
  (void)arg;
  memcpy(copy_target, payload, PAYLOAD);
  __asm volatile("" ::"r"(copy_target) : "memory"); /* the copy is observable: not optimised away */
  return 0;
}

static volatile u16_t checksum_sink;
static int op_checksum(void *arg) {
  (void)arg;
  checksum_sink = inet_chksum(payload, PAYLOAD);
  return 0;
}

#else
static err_t empty_in_core(struct tcpip_api_call_data *call) {
  (void)call;
  return ERR_OK;
}
static int op_empty_api_call(void *arg) {
  return tcpip_api_call(empty_in_core, (struct tcpip_api_call_data *)arg) != ERR_OK;
}
#endif

static void run_primitives(void) {
#if LWIP_TCPIP_CORE_LOCKING
  rtos_sem_init(&ping, 0);
  rtos_sem_init(&pong, 0);
  rtos_mutex_init(&bench_mutex);
  helper_mode = 0;
  rtos_thread_create(&helper_sem, "helper_sem", helper_entry, NULL, APP_PRIORITY + 1, helper_stacks[0],
                     sizeof helper_stacks[0], helper_tls[0]);
  const point_id sem_id = {"primitive", NULL, "semaphore_wake", NULL, PAYLOAD};
  run_point(&sem_id, op_semaphore_round_trip, NULL);
  helper_mode = -1;
  rtos_sem_signal(&ping); /* the helper returns and its thread ends */

  helper_mode = 1;
  rtos_thread_create(&helper_yield, "helper_yield", helper_entry, NULL, APP_PRIORITY, helper_stacks[1],
                     sizeof helper_stacks[1], helper_tls[1]);
  const point_id yield_id = {"primitive", NULL, "thread_pingpong", NULL, PAYLOAD};
  run_point(&yield_id, op_yield, NULL);
  helper_mode = 2;
  rtos_yield(); /* the helper sees it and parks on `ping` for ever */

  const point_id lock_id = {"primitive", NULL, "lock_unlock", NULL, PAYLOAD};
  run_point(&lock_id, op_lock_unlock, NULL);
  const point_id memcpy_id = {"primitive", NULL, "memcpy", NULL, PAYLOAD};
  run_point(&memcpy_id, op_memcpy, NULL);
  const point_id checksum_id = {"primitive", NULL, "checksum", NULL, PAYLOAD};
  run_point(&checksum_id, op_checksum, NULL);
#else
  struct tcpip_api_call_data call;
  memset(&call, 0, sizeof call);
  const point_id handoff_id = {"primitive", NULL, "mailbox_handoff", NULL, PAYLOAD};
  run_point(&handoff_id, op_empty_api_call, &call);
#endif
}

/* ---- main ----------------------------------------------------------------------------- */

static rtos_thread bench_thread;
static uint64_t bench_stack[8192 / 8];
static uint64_t bench_tls[4096 / 8];

static void tcpip_ready(void *arg) { rtos_sem_signal((rtos_sem *)arg); }

#ifdef LWIP_CHKSUM_ALGORITHM
#define REPORTED_CHKSUM_ALGORITHM LWIP_CHKSUM_ALGORITHM
#else
#define REPORTED_CHKSUM_ALGORITHM 2 /* inet_chksum.c's default */
#endif

/* A loop of exactly 2 * CALIBRATION_LOOPS instructions (subs + bne), timed:
 * under QEMU's -icount the host checks that ticks match the instruction rate. */
#define CALIBRATION_LOOPS 10000u
static uint32_t time_calibration_loop(void) {
  uint32_t n = CALIBRATION_LOOPS;
  const uint32_t t0 = board_timer_read();
  __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n)::"cc");
  return board_timer_read() - t0;
}

static void print_header(void) {
  uint32_t best = 0xFFFFFFFFu;
  for (int i = 0; i < 64; ++i) {
    const uint32_t t0 = board_timer_read();
    const uint32_t d = board_timer_read() - t0;
    if (d < best) best = d;
  }
  board_printf("{\"kind\":\"target\",\"board\":\"%s\",\"cpu\":\"Cortex-M3\",\"timer_hz\":%lu,\"core_hz\":%lu,"
      "\"calibration_instructions\":%lu,\"calibration_ticks\":%lu,"
      "\"timer_overhead_ticks\":%lu,\"lwip_version\":\"%d.%d.%d\",\"ops\":%d,\"repetitions\":%d,\"warmup\":%d,"
      "\"lwip_options\":{\"LWIP_TCPIP_CORE_LOCKING\":%d,\"LWIP_TCPIP_CORE_LOCKING_INPUT\":%d,"
      "\"LWIP_NETCONN_SEM_PER_THREAD\":%d,\"SYS_LIGHTWEIGHT_PROT\":%d,\"MEM_LIBC_MALLOC\":%d,\"MEMP_MEM_MALLOC\":%d,"
      "\"LWIP_STATS\":%d,\"LWIP_NETIF_TX_SINGLE_PBUF\":%d,\"LWIP_SOCKET_SELECT\":%d,\"LWIP_SOCKET_POLL\":%d,"
      "\"CHECKSUM\":{\"CHECKSUM_GEN_IP\":%d,\"CHECKSUM_GEN_UDP\":%d,\"CHECKSUM_CHECK_IP\":%d,\"CHECKSUM_CHECK_UDP\":%d,"
      "\"LWIP_CHECKSUM_ON_COPY\":%d,\"algorithm\":%d},\"netif\":\"zero_copy\",\"lwipopts\":\"embedded/config/lwipopts_target.h\","
      "\"rtos\":\"lwbench rtos\"}}\n",
      board_name(), (unsigned long)board_timer_hz(), (unsigned long)board_core_hz(),
      (unsigned long)(2u * CALIBRATION_LOOPS), (unsigned long)time_calibration_loop(), (unsigned long)best,
      LWIP_VERSION_MAJOR, LWIP_VERSION_MINOR, LWIP_VERSION_REVISION, LWBENCH_OPS, LWBENCH_REPS, LWBENCH_WARMUP,
      LWIP_TCPIP_CORE_LOCKING, LWIP_TCPIP_CORE_LOCKING_INPUT, LWIP_NETCONN_SEM_PER_THREAD, SYS_LIGHTWEIGHT_PROT,
      MEM_LIBC_MALLOC, MEMP_MEM_MALLOC, LWIP_STATS, LWIP_NETIF_TX_SINGLE_PBUF, LWIP_SOCKET_SELECT, LWIP_SOCKET_POLL,
      CHECKSUM_GEN_IP, CHECKSUM_GEN_UDP, CHECKSUM_CHECK_IP, CHECKSUM_CHECK_UDP, LWIP_CHECKSUM_ON_COPY,
      REPORTED_CHKSUM_ALGORITHM);
}

static void bench_main(void *arg) {
  (void)arg;
  rtos_sem ready;
  rtos_sem_init(&ready, 0);
  tcpip_init(tcpip_ready, &ready);
  rtos_sem_wait(&ready, RTOS_WAIT_FOREVER);
  struct tcpip_api_call_data setup;
  memset(&setup, 0, sizeof setup);
  if (tcpip_api_call(setup_in_core, &setup) != ERR_OK) rtos_panic("setting up the zero-copy netif pair or the sink failed");
  IP_ADDR4(&sink_addr, 10, 0, 0, 2);
  for (int i = 0; i < PAYLOAD; ++i) payload[i] = (uint8_t)(i * 131u + 7u);

  print_header();
  run_seed_points();
  if (!LWBENCH_NO_CHECKSUMS) run_primitives(); /* the RTOS floor does not depend on lwIP's options */
  const unsigned long outputs = lwbench_zc_loopif_outputs(), dropped = lwbench_zc_loopif_dropped();
  board_printf("{\"kind\":\"end\",\"errors\":%u,\"zc_outputs\":%lu,\"zc_dropped\":%lu,\"context_switches\":%lu}\n",
      total_errors, outputs, dropped, (unsigned long)rtos_context_switches());
  board_exit(total_errors == 0 && dropped == 0 ? 0 : 1);
}

int main(void) {
  board_init();
  rtos_init();
  rtos_thread_create(&bench_thread, "bench", bench_main, NULL, APP_PRIORITY, bench_stack, sizeof bench_stack, bench_tls);
  rtos_start(board_core_hz());
}
