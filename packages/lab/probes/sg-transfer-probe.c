/*
 * sg-transfer-probe: drives the real sg driver for the lab's transfer and reserve
 * conformance areas (packages/lab/src/conformance).
 *
 * Usage: sg-transfer-probe /dev/sgN < script
 * Each stdin line is one operation; each produces one JSON line on stdout:
 *   open <slot>                        open the device O_RDWR into fd slot 0..3 (SG_SET_COMMAND_Q 1)
 *   close <slot>
 *   getres <slot>                      SG_GET_RESERVED_SIZE
 *   setres <slot> <n>                  SG_SET_RESERVED_SIZE
 *   mmap <slot> <len> <pgoff>          mmap(MAP_SHARED) of the fd (mapping kept)
 *   sgio <slot> <off> <len> <flags> <niov>
 *                                      SG_IO READ(10) at LBA 0, data at arena+off; niov > 0 splits
 *                                      the buffer into niov iovecs (iovec_count = niov);
 *                                      flags & 4 (MMAP_IO) passes dxferp = NULL
 *   submit <slot> <len> <flags>        write() of a v3 READ(10) with a private buffer, left outstanding
 *   fetch <slot>                       read() the oldest reply
 *   bsgio <slot> <off> <len>           bsg SG_IO (sg_io_v4) READ(10) at LBA 0, din at arena+off
 * Output: {"op":..,"ret":0|-1,"errno":"EINVAL"|null,"value":..,"info":..,"status":..,"host":..,"driver":..}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bsg.h>
#include <stdint.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SG_FLAG_MMAP_IO
#define SG_FLAG_MMAP_IO 4
#endif

#define ARENA_BYTES (16u << 20)
#define SLOTS 4

static int fds[SLOTS] = {-1, -1, -1, -1};
static unsigned char *arena;
static sg_io_hdr_t pending[SLOTS][16];
static unsigned char pending_cdb[SLOTS][16][10];
static unsigned char pending_sense[SLOTS][16][32];
static unsigned char *pending_buf[SLOTS][16];
static int pending_count[SLOTS];

static const char *errname(int e) {
  switch (e) {
  case 0: return NULL;
  case EINVAL: return "EINVAL";
  case ENOMEM: return "ENOMEM";
  case EBUSY: return "EBUSY";
  case EIO: return "EIO";
  case EFAULT: return "EFAULT";
  case EDOM: return "EDOM";
  case ENXIO: return "ENXIO";
  case EPERM: return "EPERM";
  case EAGAIN: return "EAGAIN";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case EMSGSIZE: return "EMSGSIZE";
  default: return "EOTHER";
  }
}

static void emit(const char *op, int ret, int err, long long value, const sg_io_hdr_t *h) {
  const char *name = errname(ret < 0 ? err : 0);
  printf("{\"op\":\"%s\",\"ret\":%d,\"errno\":%s%s%s,\"value\":%lld", op, ret < 0 ? -1 : 0, name ? "\"" : "",
         name ? name : "null", name ? "\"" : "", value);
  if (h)
    printf(",\"info\":%u,\"status\":%u,\"host\":%u,\"driver\":%u,\"resid\":%d", h->info, h->status,
           h->host_status, h->driver_status, h->resid);
  printf("}\n");
  fflush(stdout);
}

static void read10(unsigned char *cdb, unsigned len) {
  unsigned blocks = (len + 511) / 512;
  memset(cdb, 0, 10);
  cdb[0] = 0x28;
  cdb[7] = (unsigned char)(blocks >> 8);
  cdb[8] = (unsigned char)blocks;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s /dev/sgN < script\n", argv[0]);
    return 2;
  }
  arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) {
    perror("mmap arena");
    return 1;
  }
  /* No pre-fill: touching 16 MiB costs a fault per page, slow under TCG; pages fault in on use. */
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    char op[16];
    long long a = 0, b = 0, c = 0, d = 0, e = 0;
    int n = sscanf(line, "%15s %lld %lld %lld %lld %lld", op, &a, &b, &c, &d, &e);
    if (n < 1) continue;
    int slot = (int)a;
    if (slot < 0 || slot >= SLOTS) {
      fprintf(stderr, "bad slot in: %s", line);
      return 2;
    }
    if (!strcmp(op, "open")) {
      if (fds[slot] >= 0) close(fds[slot]);
      fds[slot] = open(argv[1], O_RDWR);
      int err = errno;
      int one = 1;
      if (fds[slot] >= 0) ioctl(fds[slot], SG_SET_COMMAND_Q, &one);
      pending_count[slot] = 0;
      emit(op, fds[slot] < 0 ? -1 : 0, err, 0, NULL);
    } else if (!strcmp(op, "close")) {
      int r = close(fds[slot]);
      fds[slot] = -1;
      emit(op, r, errno, 0, NULL);
    } else if (!strcmp(op, "getres")) {
      int v = -1;
      int r = ioctl(fds[slot], SG_GET_RESERVED_SIZE, &v);
      emit(op, r, errno, v, NULL);
    } else if (!strcmp(op, "setres")) {
      int v = (int)b;
      int r = ioctl(fds[slot], SG_SET_RESERVED_SIZE, &v);
      emit(op, r, errno, v, NULL);
    } else if (!strcmp(op, "mmap")) {
      void *p = mmap(NULL, (size_t)b, PROT_READ | PROT_WRITE, MAP_SHARED, fds[slot], (off_t)c * getpagesize());
      emit(op, p == MAP_FAILED ? -1 : 0, errno, b, NULL);
    } else if (!strcmp(op, "sgio")) {
      unsigned long off = (unsigned long)b;
      unsigned len = (unsigned)c;
      int flags = (int)d, niov = (int)e;
      if (off + len > ARENA_BYTES || niov > 64) {
        fprintf(stderr, "sgio out of range: %s", line);
        return 2;
      }
      unsigned char cdb[10], sense[32];
      struct iovec iov[64];
      sg_io_hdr_t h;
      memset(&h, 0, sizeof h);
      read10(cdb, len);
      h.interface_id = 'S';
      h.dxfer_direction = SG_DXFER_FROM_DEV;
      h.cmd_len = 10;
      h.cmdp = cdb;
      h.mx_sb_len = sizeof sense;
      h.sbp = sense;
      h.dxfer_len = len;
      h.flags = (unsigned)flags;
      h.timeout = 20000;
      if (flags & SG_FLAG_MMAP_IO) {
        h.dxferp = NULL;
      } else if (niov > 0) {
        /* niov pieces, each piece follows the previous one in the arena. */
        unsigned piece = len / (unsigned)niov, done = 0;
        for (int i = 0; i < niov; i++) {
          iov[i].iov_base = arena + off + done;
          iov[i].iov_len = i == niov - 1 ? len - done : piece;
          done += (unsigned)iov[i].iov_len;
        }
        h.iovec_count = (unsigned short)niov;
        h.dxferp = iov;
      } else {
        h.dxferp = arena + off;
      }
      int r = ioctl(fds[slot], SG_IO, &h);
      emit(op, r, errno, len, &h);
    } else if (!strcmp(op, "submit")) {
      int k = pending_count[slot];
      if (k >= 16) {
        fprintf(stderr, "too many pending\n");
        return 2;
      }
      unsigned len = (unsigned)b;
      sg_io_hdr_t *h = &pending[slot][k];
      memset(h, 0, sizeof *h);
      read10(pending_cdb[slot][k], len);
      pending_buf[slot][k] = malloc(len ? len : 1);
      h->interface_id = 'S';
      h->dxfer_direction = SG_DXFER_FROM_DEV;
      h->cmd_len = 10;
      h->cmdp = pending_cdb[slot][k];
      h->mx_sb_len = 32;
      h->sbp = pending_sense[slot][k];
      h->dxfer_len = len;
      h->flags = (unsigned)c;
      h->dxferp = (c & SG_FLAG_MMAP_IO) ? NULL : pending_buf[slot][k];
      h->timeout = 20000;
      h->pack_id = k;
      ssize_t w = write(fds[slot], h, sizeof *h);
      if (w >= 0) pending_count[slot]++;
      emit(op, w < 0 ? -1 : 0, errno, len, NULL);
    } else if (!strcmp(op, "bsgio")) {
      unsigned long off = (unsigned long)b;
      unsigned len = (unsigned)c;
      if (off + len > ARENA_BYTES) {
        fprintf(stderr, "bsgio out of range: %s", line);
        return 2;
      }
      unsigned char cdb[10], sense[32];
      struct sg_io_v4 v;
      memset(&v, 0, sizeof v);
      read10(cdb, len);
      v.guard = 'Q';
      v.request_len = 10;
      v.request = (uint64_t)(uintptr_t)cdb;
      v.max_response_len = sizeof sense;
      v.response = (uint64_t)(uintptr_t)sense;
      v.din_xfer_len = len;
      v.din_xferp = (uint64_t)(uintptr_t)(arena + off);
      v.timeout = 20000;
      int r = ioctl(fds[slot], SG_IO, &v);
      sg_io_hdr_t h;
      memset(&h, 0, sizeof h);
      h.info = v.info;
      h.status = (unsigned char)v.device_status;
      h.host_status = (unsigned short)v.transport_status;
      h.driver_status = (unsigned short)v.driver_status;
      h.resid = v.din_resid;
      emit(op, r, errno, len, &h);
    } else if (!strcmp(op, "fetch")) {
      sg_io_hdr_t h;
      memset(&h, 0, sizeof h);
      h.interface_id = 'S';
      ssize_t r = read(fds[slot], &h, sizeof h);
      if (r >= 0 && pending_count[slot] > 0) pending_count[slot]--;
      emit(op, r < 0 ? -1 : 0, errno, 0, r < 0 ? NULL : &h);
    } else {
      fprintf(stderr, "unknown op: %s", line);
      return 2;
    }
  }
  return 0;
}
