/*
 * zc_loopif.c — a zero-copy loopback for real lwIP: a pair of netifs joined by
 * a virtual cable, the core-unlock hook that delivers its packets, and the
 * IPv4 route hook that sends traffic for the pair over the cable.
 *
 * Why not lwIP's own loopback: netif_loop_output() allocates a PBUF_RAM and
 * copies every packet, queues it, and always schedules netif_poll() on the
 * tcpip thread (tcpip_try_callback) — even in the core-locking build, so the
 * receive side always costs a thread hand-off. It stays available as the
 * "stock_loopif" variant (127.0.0.1 on lwIP's loop_netif).
 *
 * What this netif does instead: output takes a reference on the very pbuf
 * chain IP handed it (pbuf_ref — no copy, no allocation) and hands it to the
 * peer netif's input, which is tcpip_input(). So LWIP_TCPIP_CORE_LOCKING_INPUT
 * decides the receive path, as in our own stack:
 *   - =0 (message-passing build): tcpip_input() posts a TCPIP_MSG_INPKT to the
 *     tcpip thread's mailbox. Output always runs on the tcpip thread in that
 *     build, so it calls tcpip_input() directly: posting never re-enters the
 *     core, the packet is processed after the current message.
 *   - =1 (core-locking build): tcpip_input() takes the core lock and runs
 *     ip_input() inline. Output runs *with the core lock held*, and Debian's
 *     unix port creates lock_tcpip_core with pthread_mutex_init(.., NULL): a
 *     normal, non-recursive mutex (port/sys_arch.c, sys_mutex_new), so calling
 *     tcpip_input() from output would self-deadlock. Output therefore queues
 *     the referenced pbuf (a ring protected by the core lock), and
 *     UNLOCK_TCPIP_CORE() — redirected to lwbench_lwip_core_unlock() by our
 *     lwipopts.h — moves the queue to the unlocking thread, releases the
 *     mutex and then delivers each packet with tcpip_input(). Delivery thus
 *     happens on the thread that sent, right after its core operation ends
 *     (lwIP's netif_poll idea, our stack's rule), and costs the sender no extra
 *     lock round trip: the queue check is one branch under a lock it already
 *     holds. Packets sent while delivering (a recv callback that replies) are
 *     appended to the same thread-local list and delivered by the outer loop,
 *     so the stack depth stays bounded.
 *
 * Ownership: output always returns ERR_OK; the reference it took is released
 * by lwIP's input path (or here, if the queue is full or tcpip_input() fails:
 * the packet is dropped and counted, as a NIC would).
 *
 * TCP is the one exception to sharing the whole chain: lwIP's TCP changes the
 * pbuf structs of a segment in place, on both sides of the pair, while the
 * sender keeps the very same segment for retransmission:
 *   - the receiver: tcp_input() rewrites the TCP header (byte order) and moves
 *     the first pbuf's payload pointer; tcp_receive() trims a segment that
 *     overlaps what it already has or runs past the window (pbuf_remove_header
 *     on the later pbufs, pbuf_realloc, which cuts the chain), and joins
 *     out-of-order segments behind the in-order one with pbuf_cat (setting the
 *     `next` of the segment's last pbuf);
 *   - the sender: tcp_write() appends new data to the last unsent segment with
 *     pbuf_cat, and after a retransmission timeout that segment is one already
 *     sent.
 * Sharing the sender's pbuf structs with the receiver therefore corrupted the
 * segments the sender still held. What stalled netconn bulk transfers under
 * load (a stalled run showed snd_queuelen 65030 with both send queues empty,
 * after a retransmission timeout, and no packet lost by the pair): the
 * receiving netconn's mailbox fills, lwIP keeps the data as refused_data and
 * drops the segments that follow; those after the gap queue
 * out of order; when the gap is filled, tcp_receive() pbuf_cat()s them behind
 * the in-order chain, whose last pbuf is the sender's no-copy data pbuf. The
 * sender's segment chain thus grows; when it is acknowledged, lwIP subtracts
 * pbuf_clen() of the longer chain from snd_queuelen, which wraps below zero
 * (to ~65000, above TCP_SND_QUEUELEN); from then on tcp_write() fails with
 * ERR_MEM while nothing is in flight to retry on, and netconn_write() waits
 * for ever. Sharing also raced with the receiving application, which frees
 * (walks) its chain outside the core. So the peer gets pbuf structs of its
 * own: a copy of the first pbuf (IP + TCP header; with the data too when the
 * segment was written with
 * copy, as lwip_send does), and for every later pbuf (no-copy data:
 * tcp_write without TCP_WRITE_FLAG_COPY, netconn NETCONN_NOCOPY) a *view*: a
 * custom PBUF_REF pbuf over the same bytes that holds a reference on the
 * sender's pbuf until the receiver frees it. The payload bytes are still
 * shared, not copied (lwIP never writes them: it only moves pointers and
 * lengths). lwbench_zc_loopif_tcp_copied_bytes() counts what the header
 * copies copied; without custom pbufs (LWIP_SUPPORT_CUSTOM_PBUF=0 in a user's
 * lwipopts.h) or when the view pool is empty, the whole packet is copied and
 * counted there too.
 *
 * Zero copy has one caveat lwIP documents for queueing drivers: a PBUF_REF
 * pbuf points at the sender's memory, which must stay unchanged until the
 * receiver is done. The runner's payload buffers are never written after
 * setup, so this holds; lwIP's own queues (ARP) would copy such chains.
 *
 * Addressing: lwIP with LWIP_NETIF_LOOPBACK=1 diverts a packet for the sending
 * netif's own address into netif_loop_output(). So the pair has two ends,
 * zc0 = 10.0.0.1/24 and zc1 = 10.0.0.2/24, and the source-route hook
 * (LWIP_HOOK_IP4_ROUTE_SRC, consulted before lwIP's netif walk) sends a packet
 * for one end's address out of the other end; output delivers to the peer.
 */
#include "zc_loopif.h"

#include <string.h>

#include "lwip/ip.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/ip4_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#define ZC_QUEUE_LEN 256u

static struct netif zc_ends[2];
static int zc_ready;

struct zc_packet {
  struct pbuf *p;
  struct netif *inp;
};

/* Packets the pair dropped (queue full, tcpip_input failed); rare, and bumped
 * from several threads, hence the atomic builtin. */
static unsigned long zc_dropped;
/* Packets output by the pair; only changed in core context (plain load+store),
 * read by the runner to prove its traffic took this path. */
static unsigned long zc_outputs;

/* Bytes copied for TCP packets' private first pbufs (see the file comment);
 * core context only. */
static unsigned long zc_tcp_copied_bytes;

static void zc_count_drop(void) { __atomic_fetch_add(&zc_dropped, 1ul, __ATOMIC_RELAXED); }

#if LWIP_TCP
#if LWIP_SUPPORT_CUSTOM_PBUF
/* The receiver's own pbuf struct over one pbuf of a sent TCP segment (see the
 * file comment): the bytes stay the sender's, referenced until the view is
 * freed. Views live in a private pool (lwIP's memp: safe from any thread),
 * sized for bulk_tcp's 16 parallel connections of 64-byte no-copy segments: on
 * each, a full receive window (1024 segments) waiting to be read plus a send
 * queue in flight (TCP_SND_QUEUELEN pbufs, 256 such segments). */
struct zc_view {
  struct pbuf_custom custom; /* first: lwIP frees it through its struct pbuf */
  struct pbuf *backing;      /* the sender's pbuf, referenced (pbuf_ref) */
};
#define ZC_VIEWS (16 * 1280)
LWIP_MEMPOOL_DECLARE(ZC_VIEW, ZC_VIEWS, sizeof(struct zc_view), "zc_loopif views")

/* custom_free_function: the receiver freed its last reference. Any thread. */
static void zc_view_free(struct pbuf *p) {
  struct zc_view *view = (struct zc_view *)(void *)p;
  struct pbuf *backing = view->backing;
  LWIP_MEMPOOL_FREE(ZC_VIEW, view);
  pbuf_free(backing);
}

/* A view of q (a pbuf of length > 0), or NULL when the pool is empty. */
static struct pbuf *zc_view_of(struct pbuf *q) {
  struct zc_view *view = (struct zc_view *)LWIP_MEMPOOL_ALLOC(ZC_VIEW);
  struct pbuf *p;
  if (view == NULL) {
    return NULL;
  }
  view->custom.custom_free_function = zc_view_free;
  view->backing = q;
  p = pbuf_alloced_custom(PBUF_RAW, q->len, PBUF_REF, &view->custom, q->payload, q->len);
  pbuf_ref(q);
  return p;
}
#endif /* LWIP_SUPPORT_CUSTOM_PBUF */

static void zc_count_tcp_copy(u16_t bytes) {
  __atomic_store_n(&zc_tcp_copied_bytes, __atomic_load_n(&zc_tcp_copied_bytes, __ATOMIC_RELAXED) + bytes,
                   __ATOMIC_RELAXED);
}

/* The peer's TCP packet: pbuf structs of its own over p's bytes (a copied
 * first pbuf, views of the rest), or a copy of the whole packet when views
 * cannot be made. NULL when out of memory. Core context. */
static struct pbuf *zc_tcp_packet(struct pbuf *p) {
  struct pbuf *head = pbuf_alloc(PBUF_RAW, p->len, PBUF_RAM);
  struct pbuf *q;
  if (head == NULL) {
    return NULL;
  }
  memcpy(head->payload, p->payload, p->len);
  for (q = p->next; q != NULL; q = q->next) {
    struct pbuf *view = NULL;
    if (q->len == 0) {
      continue;
    }
#if LWIP_SUPPORT_CUSTOM_PBUF
    view = zc_view_of(q);
#endif
    if (view == NULL) { /* no view: copy the packet instead */
      pbuf_free(head);
      head = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
      if (head != NULL) {
        zc_count_tcp_copy(p->tot_len);
      }
      return head;
    }
    pbuf_cat(head, view);
  }
  zc_count_tcp_copy(p->len);
  return head;
}
#endif /* LWIP_TCP */

/* The packet the peer receives: p itself with one more reference, or for TCP
 * pbuf structs of the peer's own (zc_tcp_packet). NULL when out of memory.
 * Core context. */
static struct pbuf *zc_peer_packet(struct pbuf *p) {
#if LWIP_TCP
  if (p->len >= IP_HLEN && IPH_PROTO((const struct ip_hdr *)p->payload) == IP_PROTO_TCP) {
    return zc_tcp_packet(p);
  }
#endif
  pbuf_ref(p);
  return p;
}

#if LWIP_TCPIP_CORE_LOCKING_INPUT
/* Packets output while the core was locked; protected by the core lock. */
static struct zc_packet zc_queue[ZC_QUEUE_LEN];
static unsigned zc_queue_head, zc_queue_count;

/* The unlocking thread's list of packets still to deliver (outside the lock). */
static __thread struct zc_packet zc_local[ZC_QUEUE_LEN];
static __thread unsigned zc_local_head, zc_local_count;
static __thread int zc_delivering;

/* Core lock held: move as many queued packets as fit to this thread's list. */
static void zc_take_queue_locked(void) {
  while (zc_queue_count != 0 && zc_local_count < ZC_QUEUE_LEN) {
    zc_local[(zc_local_head + zc_local_count) % ZC_QUEUE_LEN] = zc_queue[zc_queue_head];
    zc_queue_head = (zc_queue_head + 1) % ZC_QUEUE_LEN;
    --zc_queue_count;
    ++zc_local_count;
  }
}
#endif /* LWIP_TCPIP_CORE_LOCKING_INPUT */

#if LWIP_TCPIP_CORE_LOCKING
void lwbench_lwip_core_lock(void) { sys_mutex_lock(&lock_tcpip_core); }

void lwbench_lwip_core_unlock(void) {
#if LWIP_TCPIP_CORE_LOCKING_INPUT
  if (zc_queue_count != 0) {
    zc_take_queue_locked();
  }
  if (zc_delivering || zc_local_count == 0) {
    /* Common case, or a nested unlock inside tcpip_input() while this thread
     * is already delivering: the outer loop below picks up what was moved. */
    sys_mutex_unlock(&lock_tcpip_core);
    return;
  }
  zc_delivering = 1;
  sys_mutex_unlock(&lock_tcpip_core);
  while (zc_local_count != 0) {
    struct zc_packet pkt = zc_local[zc_local_head];
    zc_local_head = (zc_local_head + 1) % ZC_QUEUE_LEN;
    --zc_local_count;
    /* tcpip_input(): LOCK, ip_input(), UNLOCK (which re-enters this function
     * with zc_delivering set and appends anything newly queued). */
    if (pkt.inp->input(pkt.p, pkt.inp) != ERR_OK) {
      pbuf_free(pkt.p);
      zc_count_drop();
    }
  }
  zc_delivering = 0;
#else
  sys_mutex_unlock(&lock_tcpip_core);
#endif /* LWIP_TCPIP_CORE_LOCKING_INPUT */
}
#endif /* LWIP_TCPIP_CORE_LOCKING */

/* netif->output of both ends. Core context. */
static err_t zc_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *ipaddr) {
  struct netif *peer = (netif == &zc_ends[0]) ? &zc_ends[1] : &zc_ends[0];
  LWIP_UNUSED_ARG(ipaddr);
  __atomic_store_n(&zc_outputs, __atomic_load_n(&zc_outputs, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
  p = zc_peer_packet(p);
  if (p == NULL) {
    zc_count_drop();
    return ERR_OK;
  }
#if LWIP_TCPIP_CORE_LOCKING_INPUT
  if (zc_queue_count == ZC_QUEUE_LEN) {
    pbuf_free(p);
    zc_count_drop();
    return ERR_OK;
  }
  zc_queue[(zc_queue_head + zc_queue_count) % ZC_QUEUE_LEN].p = p;
  zc_queue[(zc_queue_head + zc_queue_count) % ZC_QUEUE_LEN].inp = peer;
  ++zc_queue_count;
#else
  if (peer->input(p, peer) != ERR_OK) { /* mailbox full or no INPKT message */
    pbuf_free(p);
    zc_count_drop();
  }
#endif
  return ERR_OK;
}

static err_t zc_netif_init(struct netif *netif) {
  netif->name[0] = 'z';
  netif->name[1] = (netif == &zc_ends[0]) ? '0' : '1';
  netif->output = zc_output;
  netif->linkoutput = NULL; /* no link layer: IP packets go straight to output */
  netif->mtu = 1500;
  netif->flags = NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

struct netif *lwbench_zc_route(const ip4_addr_t *dest) {
  if (!zc_ready) {
    return NULL;
  }
  if (ip4_addr_cmp(dest, netif_ip4_addr(&zc_ends[1]))) {
    return &zc_ends[0];
  }
  if (ip4_addr_cmp(dest, netif_ip4_addr(&zc_ends[0]))) {
    return &zc_ends[1];
  }
  return NULL;
}

int lwbench_zc_loopif_add(void) {
  ip4_addr_t addr, mask, gw;
  int i;
#if LWIP_TCP && LWIP_SUPPORT_CUSTOM_PBUF
  LWIP_MEMPOOL_INIT(ZC_VIEW);
#endif
  IP4_ADDR(&mask, 255, 255, 255, 0);
  ip4_addr_set_zero(&gw);
  for (i = 0; i < 2; ++i) {
    IP4_ADDR(&addr, 10, 0, 0, (u8_t)(i + 1));
    if (netif_add(&zc_ends[i], &addr, &mask, &gw, NULL, zc_netif_init, tcpip_input) == NULL) {
      return -1;
    }
    netif_set_up(&zc_ends[i]);
    netif_set_link_up(&zc_ends[i]);
  }
  zc_ready = 1;
  return 0;
}

unsigned long lwbench_zc_loopif_outputs(void) { return __atomic_load_n(&zc_outputs, __ATOMIC_RELAXED); }

unsigned long lwbench_zc_loopif_dropped(void) { return __atomic_load_n(&zc_dropped, __ATOMIC_RELAXED); }

unsigned long lwbench_zc_loopif_tcp_copied_bytes(void) {
  return __atomic_load_n(&zc_tcp_copied_bytes, __ATOMIC_RELAXED);
}
