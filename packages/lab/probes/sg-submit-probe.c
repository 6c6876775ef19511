/*
 * sg-submit-probe: submits hand-built headers to sg, bsg and block nodes for the lab's
 * conformance areas (packages/lab/src/conformance): header and CDB-length checks,
 * SCSI_IOCTL_SEND_COMMAND, CDROM_SEND_PACKET, sg's credential check, the bsg iovec hazard,
 * MAX_RW_COUNT and access_ok.
 *
 * Usage: sg-submit-probe < script. Each stdin line is one operation and produces one JSON
 * line on stdout: {"op":..,"ret":0|-1|N,"errno":"EINVAL"|null,"status":..,"host":..,
 * "driver":..,"info":..,"value":..} plus op-specific hex fields.
 *   open <slot> <path> <ro|wo|rw> [nb]     open into slot 0..7 (nb: O_NONBLOCK)
 *   close <slot>
 *   v3 <slot> <ioctl|write> <iid> <cmd_len> <cdb-hex|null> <dir> <dxfer_len> <flags> <iovcnt> <data> [count]
 *       dir: none|to|from|tofrom|unknown; data: arena[+N] | null | 0xADDR | iov (iovcnt
 *       pieces of the arena) | iov0 (iovcnt empty iovecs); count: bytes passed to write(2)
 *   v4 <slot> <guard> <proto> <subproto> <request_len> <cdb-hex|null> <dout> <din> <dout_iovcnt> <din_iovcnt> <data>
 *   sendcmd <slot> <inlen> <outlen> <cdb-hex>      SCSI_IOCTL_SEND_COMMAND
 *   cdrom <slot> <data_direction> <buflen> <cdb-hex>  CDROM_SEND_PACKET (12-byte cmd)
 *   reap <slot>                             read(2) one v3 reply
 *   dropcreds                               setegid(65534): this process gets new credentials
 *   mbr <disk> <on|off>                     write (or clear) a one-partition MBR, BLKRRPART,
 *                                           wait for <disk>1 to appear (or go)
 *   hazard-out <bsg-slot> <sg-slot> <lba>   bsg WRITE with dout_iovec_count 2, read back via sg
 *   hazard-in <bsg-slot> <sg-slot> <lba>    bsg READ with din_iovec_count 2
 *   flat-out <bsg-slot> <sg-slot> <lba>     bsg WRITE of a flat buffer, read back via sg
 * The process runs without address-space randomization (it re-executes itself once), so
 * the top of the user address space is laid out the same way on every run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bsg.h>
#include <linux/cdrom.h>
#include <linux/fs.h>
#include <scsi/scsi_ioctl.h>
#include <scsi/sg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SG_DXFER_UNKNOWN
#define SG_DXFER_UNKNOWN (-5) /* include/scsi/sg.h in Linux; glibc's <scsi/sg.h> lacks it */
#endif

#define ARENA_BYTES (16u << 20)
#define SLOTS 8
#define MAX_IOV 1100

static int fds[SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1};
static unsigned char *arena;
static struct iovec iov[MAX_IOV];

static const char *errname(int e) {
  switch (e) {
  case 0: return NULL;
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EIO: return "EIO";
  case ENXIO: return "ENXIO";
  case EBADF: return "EBADF";
  case EAGAIN: return "EAGAIN";
  case ENOMEM: return "ENOMEM";
  case EFAULT: return "EFAULT";
  case EBUSY: return "EBUSY";
  case EINVAL: return "EINVAL";
  case ENOTTY: return "ENOTTY";
  case EDOM: return "EDOM";
  case ENOSYS: return "ENOSYS";
  case EMSGSIZE: return "EMSGSIZE";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  default: return "EOTHER";
  }
}

static void begin(const char *op, long long ret, int err) {
  const char *name = ret < 0 ? errname(err) : NULL;
  printf("{\"op\":\"%s\",\"ret\":%lld,\"errno\":%s%s%s", op, ret < 0 ? -1LL : ret, name ? "\"" : "",
         name ? name : "null", name ? "\"" : "");
}

static void hexfield(const char *key, const unsigned char *p, size_t n) {
  printf(",\"%s\":\"", key);
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
  printf("\"");
}

static void end(void) {
  printf("}\n");
  fflush(stdout);
}

static void v3_fields(const sg_io_hdr_t *h) {
  printf(",\"status\":%u,\"host\":%u,\"driver\":%u,\"info\":%u,\"sbLenWr\":%u", h->status, h->host_status,
         h->driver_status, h->info, h->sb_len_wr);
}

/* Parses hex into out (at most max bytes); returns the byte count, -1 for "null". */
static int parse_hex(const char *text, unsigned char *out, int max) {
  if (!strcmp(text, "null")) return -1;
  int n = 0;
  for (const char *p = text; p[0] && p[1] && n < max; p += 2) {
    char pair[3] = {p[0], p[1], 0};
    out[n++] = (unsigned char)strtoul(pair, NULL, 16);
  }
  return n;
}

static int direction(const char *text) {
  if (!strcmp(text, "none")) return SG_DXFER_NONE;
  if (!strcmp(text, "to")) return SG_DXFER_TO_DEV;
  if (!strcmp(text, "from")) return SG_DXFER_FROM_DEV;
  if (!strcmp(text, "tofrom")) return SG_DXFER_TO_FROM_DEV;
  return SG_DXFER_UNKNOWN;
}

/* The data pointer of a request: arena[+N], null, 0xADDR, iov or iov0. */
static void *data_pointer(const char *text, unsigned len, int iovcnt) {
  if (!strcmp(text, "null")) return NULL;
  if (!strncmp(text, "0x", 2)) return (void *)(uintptr_t)strtoull(text, NULL, 16);
  if (!strncmp(text, "arena", 5)) return arena + (text[5] == '+' ? strtoul(text + 6, NULL, 0) : 0);
  if (!strcmp(text, "iov") || !strcmp(text, "iov0")) {
    int empty = !strcmp(text, "iov0");
    unsigned piece = iovcnt > 0 ? len / (unsigned)iovcnt : 0, done = 0;
    for (int i = 0; i < iovcnt && i < MAX_IOV; i++) {
      iov[i].iov_base = arena + (size_t)i * 4096;
      iov[i].iov_len = empty ? 0 : (i == iovcnt - 1 ? len - done : piece);
      done += (unsigned)iov[i].iov_len;
    }
    return iov;
  }
  fprintf(stderr, "bad data pointer: %s\n", text);
  exit(2);
}

static void read10_cdb(unsigned char *cdb, unsigned lba, int write) {
  memset(cdb, 0, 10);
  cdb[0] = write ? 0x2a : 0x28;
  cdb[2] = (unsigned char)(lba >> 24);
  cdb[3] = (unsigned char)(lba >> 16);
  cdb[4] = (unsigned char)(lba >> 8);
  cdb[5] = (unsigned char)lba;
  cdb[8] = 1;
}

/* One 512-byte block through sg (root, O_RDWR fd): write or read it. */
static int sg_block(int fd, unsigned lba, unsigned char *buf, int write) {
  unsigned char cdb[10], sense[32];
  sg_io_hdr_t h;
  memset(&h, 0, sizeof h);
  read10_cdb(cdb, lba, write);
  h.interface_id = 'S';
  h.dxfer_direction = write ? SG_DXFER_TO_DEV : SG_DXFER_FROM_DEV;
  h.cmd_len = 10;
  h.cmdp = cdb;
  h.dxfer_len = 512;
  h.dxferp = buf;
  h.mx_sb_len = sizeof sense;
  h.sbp = sense;
  h.timeout = 20000;
  return ioctl(fd, SG_IO, &h) < 0 || h.status != 0 ? -1 : 0;
}

/* A bsg READ(10)/WRITE(10) of one block whose data pointer and iovec count are given. */
static int bsg_block(int fd, unsigned lba, void *xferp, int write, unsigned iovcnt, struct sg_io_v4 *v) {
  static unsigned char cdb[10], sense[32];
  memset(v, 0, sizeof *v);
  read10_cdb(cdb, lba, write);
  v->guard = 'Q';
  v->request_len = 10;
  v->request = (uintptr_t)cdb;
  v->max_response_len = sizeof sense;
  v->response = (uintptr_t)sense;
  v->timeout = 20000;
  if (write) {
    v->dout_xfer_len = 512;
    v->dout_xferp = (uintptr_t)xferp;
    v->dout_iovec_count = iovcnt;
  } else {
    v->din_xfer_len = 512;
    v->din_xferp = (uintptr_t)xferp;
    v->din_iovec_count = iovcnt;
  }
  return ioctl(fd, SG_IO, v);
}

/* The iovec array at the start of a 512-byte region filled with 0xa5, pointing at two
 * 256-byte buffers of 0x11 and 0x22 elsewhere in the arena. */
static struct iovec *hazard_setup(unsigned char **b1, unsigned char **b2) {
  unsigned char *region = arena + (8u << 20);
  *b1 = arena + (9u << 20);
  *b2 = arena + (9u << 20) + 65536;
  memset(region, 0xa5, 512);
  memset(*b1, 0x11, 512);
  memset(*b2, 0x22, 512);
  struct iovec *array = (struct iovec *)region;
  array[0].iov_base = *b1;
  array[0].iov_len = 256;
  array[1].iov_base = *b2;
  array[1].iov_len = 256;
  return array;
}

static void print_iovecs(struct iovec *array) {
  printf(",\"iovecs\":[[%llu,%zu],[%llu,%zu]]", (unsigned long long)(uintptr_t)array[0].iov_base,
         array[0].iov_len, (unsigned long long)(uintptr_t)array[1].iov_base, array[1].iov_len);
}

static void hazard(const char *op, int bsg, int sg, unsigned lba) {
  unsigned char *b1, *b2, back[512], pattern[512];
  struct sg_io_v4 v;
  struct iovec *array = hazard_setup(&b1, &b2);
  unsigned char *region = (unsigned char *)array;
  if (!strcmp(op, "hazard-out") || !strcmp(op, "flat-out")) {
    int flat = !strcmp(op, "flat-out");
    unsigned char before[512];
    memcpy(before, flat ? b1 : region, 512);
    int r = bsg_block(bsg, lba, flat ? (void *)b1 : (void *)array, 1, flat ? 0 : 2, &v);
    int err = errno;
    memset(back, 0, sizeof back);
    int rb = sg_block(sg, lba, back, 0);
    begin(op, r, err);
    printf(",\"deviceStatus\":%u,\"readBack\":%d", v.device_status, rb);
    print_iovecs(array);
    hexfield("memory", before, 512);
    hexfield("device", back, 512);
    end();
    return;
  }
  /* hazard-in: the block holds a 0x3c pattern; bsg reads it "into" the iovec array. */
  memset(pattern, 0x3c, sizeof pattern);
  int wr = sg_block(sg, lba, pattern, 1);
  int r = bsg_block(bsg, lba, array, 0, 2, &v);
  int err = errno;
  begin(op, r, err);
  printf(",\"deviceStatus\":%u,\"prewrite\":%d", v.device_status, wr);
  hexfield("device", pattern, 512);
  hexfield("region", region, 512);
  hexfield("buffer1", b1, 256);
  hexfield("buffer2", b2, 256);
  end();
}

static void mbr(const char *disk, int on) {
  unsigned char sector[512];
  char part[640];
  memset(sector, 0, sizeof sector);
  if (on) {
    unsigned char *e = sector + 446;
    e[4] = 0x83;                      /* Linux */
    e[8] = 0x00; e[9] = 0x08;         /* start LBA 2048 */
    e[12] = 0x00; e[13] = 0x10;       /* 4096 sectors */
    sector[510] = 0x55;
    sector[511] = 0xaa;
  }
  snprintf(part, sizeof part, "%s1", disk);
  int fd = open(disk, O_RDWR);
  int r = fd < 0 ? -1 : (int)pwrite(fd, sector, 512, 0);
  if (r >= 0) r = fsync(fd);
  if (r >= 0) r = ioctl(fd, BLKRRPART);
  int err = errno;
  if (fd >= 0) close(fd);
  struct stat st;
  int present = 0;
  for (int i = 0; i < 100; i++) {
    present = stat(part, &st) == 0;
    if (present == on) break;
    usleep(50000);
  }
  begin("mbr", r < 0 ? -1 : 0, err);
  printf(",\"value\":%d", present);
  end();
}

int main(int argc, char **argv) {
  (void)argc;
  int persona = personality(0xffffffff);
  if (persona != -1 && !(persona & ADDR_NO_RANDOMIZE)) {
    personality((unsigned long)persona | ADDR_NO_RANDOMIZE);
    execv("/proc/self/exe", argv);
  }
  arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) {
    perror("mmap arena");
    return 1;
  }
  /* No pre-fill: touching 16 MiB costs a fault per page, slow under TCG; pages fault in on use. */
  char line[8192];
  while (fgets(line, sizeof line, stdin)) {
    char op[16], a[600], b[600], c[600], d[600], e[600], f[600], g[600], h[600], i[600], j[600], k[600], l[600];
    int n = sscanf(line, "%15s %599s %599s %599s %599s %599s %599s %599s %599s %599s %599s %599s %599s", op, a, b,
                   c, d, e, f, g, h, i, j, k, l);
    if (n < 1) continue;
    int slot = n > 1 ? atoi(a) : 0;
    if (slot < 0 || slot >= SLOTS) slot = 0;
    if (!strcmp(op, "open")) {
      int flags = !strcmp(c, "rw") ? O_RDWR : !strcmp(c, "wo") ? O_WRONLY : O_RDONLY;
      if (n > 4 && !strcmp(d, "nb")) flags |= O_NONBLOCK;
      if (fds[slot] >= 0) close(fds[slot]);
      fds[slot] = open(b, flags);
      begin(op, fds[slot] < 0 ? -1 : 0, errno);
      end();
    } else if (!strcmp(op, "close")) {
      int r = close(fds[slot]);
      fds[slot] = -1;
      begin(op, r, errno);
      end();
    } else if (!strcmp(op, "v3")) {
      static unsigned char cdb[512];
      memset(cdb, 0, sizeof cdb);
      int have = parse_hex(e, cdb, sizeof cdb);
      unsigned char sense[96];
      memset(sense, 0, sizeof sense);
      sg_io_hdr_t hdr;
      memset(&hdr, 0, sizeof hdr);
      hdr.interface_id = (int)strtol(c, NULL, 0);
      hdr.cmd_len = (unsigned char)atoi(d);
      hdr.cmdp = have < 0 ? NULL : cdb;
      hdr.dxfer_direction = direction(f);
      hdr.dxfer_len = (unsigned)strtoul(g, NULL, 0);
      hdr.flags = (unsigned)strtoul(h, NULL, 0);
      hdr.iovec_count = (unsigned short)atoi(i);
      hdr.dxferp = data_pointer(j, hdr.dxfer_len, hdr.iovec_count);
      hdr.mx_sb_len = sizeof sense;
      hdr.sbp = sense;
      hdr.timeout = 20000;
      long long r;
      if (!strcmp(b, "write")) {
        size_t count = n > 11 ? strtoul(k, NULL, 0) : sizeof hdr;
        r = write(fds[slot], &hdr, count);
      } else {
        r = ioctl(fds[slot], SG_IO, &hdr);
      }
      begin(op, r < 0 ? -1 : 0, errno);
      v3_fields(&hdr);
      end();
    } else if (!strcmp(op, "v4")) {
      static unsigned char cdb[512];
      memset(cdb, 0, sizeof cdb);
      int have = parse_hex(f, cdb, sizeof cdb);
      unsigned char sense[96];
      struct sg_io_v4 v;
      memset(&v, 0, sizeof v);
      v.guard = (int)strtol(b, NULL, 0);
      v.protocol = (unsigned)strtoul(c, NULL, 0);
      v.subprotocol = (unsigned)strtoul(d, NULL, 0);
      v.request_len = (unsigned)strtoul(e, NULL, 0);
      v.request = have < 0 ? 0 : (uintptr_t)cdb;
      v.dout_xfer_len = (unsigned)strtoul(g, NULL, 0);
      v.din_xfer_len = (unsigned)strtoul(h, NULL, 0);
      v.dout_iovec_count = (unsigned)strtoul(i, NULL, 0);
      v.din_iovec_count = (unsigned)strtoul(j, NULL, 0);
      void *p = data_pointer(k, v.dout_xfer_len ? v.dout_xfer_len : v.din_xfer_len, 0);
      v.dout_xferp = v.dout_xfer_len ? (uintptr_t)p : 0;
      v.din_xferp = v.dout_xfer_len ? 0 : (uintptr_t)p;
      v.max_response_len = sizeof sense;
      v.response = (uintptr_t)sense;
      v.timeout = 20000;
      int r = ioctl(fds[slot], SG_IO, &v);
      begin(op, r, errno);
      printf(",\"status\":%u,\"host\":%u,\"driver\":%u,\"info\":%u", v.device_status, v.transport_status,
             v.driver_status, v.info);
      end();
    } else if (!strcmp(op, "sendcmd")) {
      static unsigned char buf[8 + 4096 + 64 + 4096];
      memset(buf, 0, sizeof buf);
      unsigned inlen = (unsigned)strtoul(b, NULL, 0), outlen = (unsigned)strtoul(c, NULL, 0);
      memcpy(buf, &inlen, 4);
      memcpy(buf + 4, &outlen, 4);
      parse_hex(d, buf + 8, 64);
      int r = ioctl(fds[slot], SCSI_IOCTL_SEND_COMMAND, buf);
      begin(op, r, errno);
      printf(",\"value\":%d", r);
      end();
    } else if (!strcmp(op, "cdrom")) {
      struct cdrom_generic_command cgc;
      struct request_sense rs;
      memset(&cgc, 0, sizeof cgc);
      parse_hex(d, cgc.cmd, CDROM_PACKET_SIZE);
      cgc.data_direction = (unsigned char)atoi(b);
      cgc.buflen = (unsigned)strtoul(c, NULL, 0);
      cgc.buffer = arena;
      cgc.sense = &rs;
      cgc.timeout = 2000;
      int r = ioctl(fds[slot], CDROM_SEND_PACKET, &cgc);
      begin(op, r, errno);
      printf(",\"value\":%d,\"stat\":%d", r, cgc.stat);
      end();
    } else if (!strcmp(op, "reap")) {
      sg_io_hdr_t hdr;
      memset(&hdr, 0, sizeof hdr);
      hdr.interface_id = 'S';
      ssize_t r = read(fds[slot], &hdr, sizeof hdr);
      begin(op, r < 0 ? -1 : 0, errno);
      v3_fields(&hdr);
      end();
    } else if (!strcmp(op, "dropcreds")) {
      int r = setegid(65534);
      begin(op, r, errno);
      end();
    } else if (!strcmp(op, "mbr")) {
      mbr(a, !strcmp(b, "on"));
    } else if (!strcmp(op, "hazard-out") || !strcmp(op, "hazard-in") || !strcmp(op, "flat-out")) {
      hazard(op, fds[slot], fds[atoi(b)], (unsigned)strtoul(c, NULL, 0));
    } else {
      fprintf(stderr, "unknown op: %s", line);
      return 2;
    }
  }
  return 0;
}
