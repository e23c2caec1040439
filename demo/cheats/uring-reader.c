// uring-reader: an external reader that does all its file work through io_uring, so the system calls a
// syscall tracer sees are only io_uring_setup, mmap and io_uring_enter: the opens and reads of
// /proc/PID/maps and /proc/PID/mem run as IORING_OP_OPENAT, IORING_OP_READ and IORING_OP_CLOSE requests
// inside the kernel, where syscall tracepoints do not fire. It scans the writable regions for the player
// like the other readers and prints its health. Raw system calls and the kernel's ring layout, no liburing.
//
//   uring-reader PID
//
// Prints one JSON line, and exits 0 when the player was found (1 with "ok":false and an "error" otherwise,
// for example when io_uring is disabled by the kernel.io_uring_disabled sysctl; 2 on bad arguments):
//   {"cheat":"uring-reader","pid":P,"address":"0x...","health":H,"ammo":A,"frame":F,"regions":R,
//    "scanned":BYTES,"requests":{"openat":2,"read":N,"close":2},"ok":true}
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cheat.h"

struct ring {
  int fd;
  // Submission queue: the kernel's head, our tail, the index array and the entries.
  unsigned *sq_tail, *sq_mask, *sq_array;
  struct io_uring_sqe *sqes;
  // Completion queue: our head, the kernel's tail, the entries.
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe *cqes;
  unsigned long openat, read, close;
};

static bool ring_open(struct ring *r) {
  struct io_uring_params p = {0};
  r->fd = (int)syscall(SYS_io_uring_setup, 4, &p);
  if (r->fd < 0) return false;
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  // Since 5.4 both rings share one mapping.
  if (p.features & IORING_FEAT_SINGLE_MMAP) sq_size = cq_size = sq_size > cq_size ? sq_size : cq_size;
  char *sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) return false;
  char *cq = sq;
  if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
    cq = mmap(NULL, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
    if (cq == MAP_FAILED) return false;
  }
  r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                 r->fd, IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) return false;
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  r->cq_head = (unsigned *)(cq + p.cq_off.head);
  r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  return true;
}

// Submits one request and waits for its completion: returns the request's result (negative errno on error).
static int ring_run(struct ring *r, const struct io_uring_sqe *request) {
  unsigned tail = *r->sq_tail, index = tail & *r->sq_mask;
  r->sqes[index] = *request;
  r->sq_array[index] = index;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE); // publish the entry before the kernel reads it
  if (syscall(SYS_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return -errno;
  unsigned head = *r->cq_head;
  if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return -EAGAIN;
  int result = r->cqes[head & *r->cq_mask].res;
  __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE); // hand the slot back
  return result;
}

static int uring_open(struct ring *r, const char *path) {
  struct io_uring_sqe request = {.opcode = IORING_OP_OPENAT, .fd = AT_FDCWD, .addr = (uint64_t)(uintptr_t)path};
  request.open_flags = O_RDONLY | O_CLOEXEC;
  r->openat++;
  return ring_run(r, &request);
}

static int uring_read(struct ring *r, int fd, void *buffer, unsigned length, uint64_t offset) {
  struct io_uring_sqe request = {
      .opcode = IORING_OP_READ, .fd = fd, .addr = (uint64_t)(uintptr_t)buffer, .len = length, .off = offset};
  r->read++;
  return ring_run(r, &request);
}

static int uring_close(struct ring *r, int fd) {
  struct io_uring_sqe request = {.opcode = IORING_OP_CLOSE, .fd = fd};
  r->close++;
  return ring_run(r, &request);
}

// find_player's reader: IORING_OP_READ on the open /proc/PID/mem, at the address as the file offset.
struct mem_file {
  struct ring *ring;
  int fd;
};

static ssize_t read_with_uring(void *context, uint64_t address, void *buffer, size_t length) {
  struct mem_file *mem = context;
  int n = uring_read(mem->ring, mem->fd, buffer, (unsigned)length, address);
  return n < 0 ? -1 : n;
}

// /proc/PID/maps, read whole through the ring into a malloc'd string.
static char *uring_read_file(struct ring *r, const char *path, int *error) {
  int fd = uring_open(r, path);
  if (fd < 0) {
    *error = -fd;
    return NULL;
  }
  size_t size = 0, capacity = 16 << 10;
  char *text = malloc(capacity);
  for (int n = 1; text && n > 0;) {
    if (capacity - size < 4096) {
      char *bigger = realloc(text, capacity *= 2);
      if (!bigger) free(text);
      text = bigger;
      if (!text) break;
    }
    n = uring_read(r, fd, text + size, (unsigned)(capacity - size - 1), size);
    if (n < 0) {
      *error = -n;
      free(text);
      text = NULL;
    } else {
      size += (size_t)n;
    }
  }
  if (text) text[size] = '\0';
  uring_close(r, fd);
  return text;
}

int main(int argc, char **argv) {
  long pid;
  if (argc != 2 || !parse_long(argv[1], 1, INT32_MAX, &pid)) {
    fprintf(stderr, "usage: uring-reader PID\n");
    return 2;
  }
  struct ring ring = {0};
  if (!ring_open(&ring)) fail("uring-reader", pid, "io_uring_setup: %s", strerror(errno));

  char path[64];
  int error = ENOMEM;
  snprintf(path, sizeof path, "/proc/%ld/maps", pid);
  char *maps = uring_read_file(&ring, path, &error);
  if (!maps) fail("uring-reader", pid, "IORING_OP_OPENAT/READ %s: %s", path, strerror(error));
  snprintf(path, sizeof path, "/proc/%ld/mem", pid);
  struct mem_file mem = {&ring, uring_open(&ring, path)};
  if (mem.fd < 0) fail("uring-reader", pid, "IORING_OP_OPENAT %s: %s", path, strerror(-mem.fd));
  struct scan scan;
  if (!find_player(maps, read_with_uring, &mem, &scan))
    fail("uring-reader", pid, "no player struct in %zu writable regions", scan.regions);
  free(maps);
  uring_close(&ring, mem.fd);

  printf("{\"cheat\":\"uring-reader\",\"pid\":%ld,\"address\":\"0x%" PRIx64 "\",\"health\":%" PRId32 ",\"ammo\":%" PRId32
         ",\"frame\":%" PRIu32 ",\"regions\":%zu,\"scanned\":%" PRIu64
         ",\"requests\":{\"openat\":%lu,\"read\":%lu,\"close\":%lu},\"ok\":true}\n",
         pid, scan.address, scan.player.health, scan.player.ammo, scan.player.frame, scan.regions, scan.scanned,
         ring.openat, ring.read, ring.close);
  return 0;
}
