/*
 * sg-v3-probe: drives the real sg driver with sg_io_hdr (v3) calls for the @sgv4/sg3-compat
 * lab tests, built twice: native (gcc -m64) and 32-bit (gcc -m32, served by the kernel's
 * compat paths). Each stdin line is one call; each prints one JSON line with its result and
 * the raw bytes the kernel wrote, which the tests decode with the package's codecs.
 *
 *   open S MODE NB                       open /dev/sgN into slot S (MODE rw|ro|wo, NB 1 = O_NONBLOCK)
 *   close S
 *   write S KIND DIR LEN PACKID FLAGS MX NIOV COUNT IFACE CMDLEN
 *   sgio  S KIND DIR LEN PACKID FLAGS MX NIOV COUNT IFACE CMDLEN
 *   sgioint S ...                        the same SG_IO, interrupted by SIGALRM after 200 ms
 *        KIND: tur | read (READ(10) LBA 0) | oob (READ(10) past the end) | inq | bad (opcode 0xff)
 *              | wr (WRITE(10) LBA 2048); DIR: dxfer_direction; LEN: dxfer_len; NIOV > 0 splits
 *              the data into NIOV iovecs; FLAGS & 4 (MMAP_IO) passes dxferp = NULL; MX: mx_sb_len;
 *              COUNT: write()'s byte count (0 = sizeof(sg_io_hdr)); IFACE: interface_id;
 *              CMDLEN: cmd_len (0 = the command's own). usr_ptr is a per-call cookie.
 *   read S PACKID COUNT                  read() a reply (the header passed in asks for PACKID)
 *   poll S                               poll() with timeout 0
 *   settle S                             wait until no request of the fd is in flight
 *   get S NAME / set S NAME VALUE        the SG_GET_* / SG_SET_* ioctls
 *   table S / scsiid S                   SG_GET_REQUEST_TABLE / SG_GET_SCSI_ID, as hex
 *   mmap S LEN PGOFF                     mmap(MAP_SHARED) of the fd, kept
 *   block DEV KIND DIR LEN MX NIOV       SG_IO on a block device node (opened and closed)
 * A call still blocked after 10 s is interrupted by SIGALRM and reports EINTR.
 * Output: {"op","ret","errno",...}; submissions add "usr" (usr_ptr) and "seq"; replies add
 * "hdr" (the header bytes the kernel wrote), "sense" (sb_len_wr bytes at sbp) and "crc" (FNV-1a
 * of the data buffer, or of the mapping for mmap-ed IO).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <scsi/sg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef SG_FLAG_MMAP_IO
#define SG_FLAG_MMAP_IO 4
#endif

#define SLOTS 4
#define RING 128
#define BUF_BYTES (256 * 1024)

struct submission {
  unsigned char data[BUF_BYTES];
  struct sg_iovec iov[8];
  unsigned char cdb[260];
  unsigned char sense[256];
  unsigned len;
  int slot;
  int mmap_io;
};

static const char *device;
static int fds[SLOTS] = {-1, -1, -1, -1};
static unsigned char *maps[SLOTS];
static size_t map_len[SLOTS];
static struct submission *ring;
static unsigned seq;

static const char *errname(int e) {
  switch (e) {
  case EINVAL: return "EINVAL";
  case ENOMEM: return "ENOMEM";
  case EBUSY: return "EBUSY";
  case EIO: return "EIO";
  case EFAULT: return "EFAULT";
  case EDOM: return "EDOM";
  case ENXIO: return "ENXIO";
  case EPERM: return "EPERM";
  case EAGAIN: return "EAGAIN";
  case EMSGSIZE: return "EMSGSIZE";
  case ENOSYS: return "ENOSYS";
  case EBADF: return "EBADF";
  case ENOTTY: return "ENOTTY";
  case EINTR: return "EINTR";
  case EACCES: return "EACCES";
  default: return "EOTHER";
  }
}

static void begin(const char *op, long ret, int err) {
  printf("{\"op\":\"%s\",\"ret\":%ld,\"errno\":", op, ret < 0 ? -1L : ret);
  if (ret < 0) printf("\"%s\"", errname(err));
  else printf("null");
}

static void hex(const char *key, const void *p, size_t n) {
  const unsigned char *b = p;
  printf(",\"%s\":\"", key);
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\"");
}

static void end(void) {
  printf("}\n");
  fflush(stdout);
}

static void on_alarm(int sig) { (void)sig; }

static uint32_t fnv(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* The CDB of KIND for LEN bytes; returns its length. */
static int build_cdb(const char *kind, unsigned len, unsigned char *cdb) {
  unsigned blocks = (len + 511) / 512;
  memset(cdb, 0, 260);
  if (!strcmp(kind, "tur")) return 6;
  if (!strcmp(kind, "inq")) {
    cdb[0] = 0x12;
    cdb[3] = (len >> 8) & 0xff;
    cdb[4] = len & 0xff;
    return 6;
  }
  if (!strcmp(kind, "bad")) {
    cdb[0] = 0xff;
    return 6;
  }
  cdb[0] = !strcmp(kind, "wr") ? 0x2a : 0x28;
  unsigned lba = !strcmp(kind, "oob") ? 0xffffff00u : !strcmp(kind, "wr") ? 2048 : 0;
  cdb[2] = lba >> 24;
  cdb[3] = lba >> 16;
  cdb[4] = lba >> 8;
  cdb[5] = lba;
  cdb[7] = blocks >> 8;
  cdb[8] = blocks;
  return 10;
}

/* Fills a header for one submission in ring entry `sub`. */
static void fill(struct sg_io_hdr *h, struct submission *sub, unsigned index, int slot, const char *kind, int dir,
                 unsigned len, int packid, unsigned flags, unsigned mx, unsigned niov, int iface, int cmdlen) {
  memset(h, 0, sizeof *h);
  int own = build_cdb(kind, len, sub->cdb);
  for (unsigned i = 0; i < len && i < BUF_BYTES; i++) sub->data[i] = (unsigned char)(index * 7 + i);
  memset(sub->sense, 0xa5, sizeof sub->sense);
  sub->len = len;
  sub->slot = slot;
  sub->mmap_io = (flags & SG_FLAG_MMAP_IO) != 0;
  h->interface_id = iface;
  h->dxfer_direction = dir;
  h->cmd_len = cmdlen > 0 ? cmdlen : own;
  h->cmdp = sub->cdb;
  h->mx_sb_len = mx;
  h->sbp = sub->sense;
  h->dxfer_len = len;
  h->timeout = 20000;
  h->flags = flags;
  h->pack_id = packid;
  h->usr_ptr = (void *)(uintptr_t)(0x5000000u + index);
  if (sub->mmap_io) {
    h->dxferp = NULL;
  } else if (niov > 0) {
    unsigned per = len / niov;
    for (unsigned i = 0; i < niov; i++) {
      sub->iov[i].iov_base = sub->data + i * per;
      sub->iov[i].iov_len = i + 1 == niov ? len - per * i : per;
    }
    h->iovec_count = niov;
    h->dxferp = sub->iov;
  } else {
    h->dxferp = sub->data;
  }
}

/* The reply's extras: header bytes, sense written, crc of the data (or the mapping). */
static void reply_extras(const struct sg_io_hdr *h, size_t hdr_bytes) {
  unsigned index = (unsigned)((uintptr_t)h->usr_ptr - 0x5000000u);
  hex("hdr", h, hdr_bytes);
  if (index < RING * 1000000u) {
    struct submission *sub = &ring[index % RING];
    hex("sense", sub->sense, h->sb_len_wr);
    uint32_t crc = 0;
    if (sub->mmap_io && maps[sub->slot])
      crc = fnv(maps[sub->slot], sub->len < map_len[sub->slot] ? sub->len : map_len[sub->slot]);
    else
      crc = fnv(sub->data, sub->len < BUF_BYTES ? sub->len : BUF_BYTES);
    printf(",\"crc\":%u", crc);
  }
}

static int ioctl_number(const char *name) {
  static const struct { const char *n; int v; } t[] = {
    {"NUM_WAITING", SG_GET_NUM_WAITING}, {"PACK_ID", SG_GET_PACK_ID}, {"COMMAND_Q", SG_GET_COMMAND_Q},
    {"RESERVED_SIZE", SG_GET_RESERVED_SIZE}, {"KEEP_ORPHAN", SG_GET_KEEP_ORPHAN}, {"TIMEOUT", SG_GET_TIMEOUT},
    {"VERSION_NUM", SG_GET_VERSION_NUM}, {"SG_TABLESIZE", SG_GET_SG_TABLESIZE}, {"LOW_DMA", SG_GET_LOW_DMA},
    {"ACCESS_COUNT", 0x2289}, {"EMULATED_HOST", SG_EMULATED_HOST}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (!strcmp(t[i].n, name)) return t[i].v;
  return -1;
}

static int set_number(const char *name) {
  static const struct { const char *n; int v; } t[] = {
    {"FORCE_PACK_ID", SG_SET_FORCE_PACK_ID}, {"COMMAND_Q", SG_SET_COMMAND_Q},
    {"RESERVED_SIZE", SG_SET_RESERVED_SIZE}, {"KEEP_ORPHAN", SG_SET_KEEP_ORPHAN}, {"TIMEOUT", SG_SET_TIMEOUT},
    {"NEXT_CMD_LEN", SG_NEXT_CMD_LEN}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (!strcmp(t[i].n, name)) return t[i].v;
  return -1;
}

static void submit(const char *op, char *args) {
  int s, dir, packid, iface, cmdlen;
  unsigned len, flags, mx, niov, count;
  char kind[16];
  if (sscanf(args, "%d %15s %d %u %d %u %u %u %u %d %d", &s, kind, &dir, &len, &packid, &flags, &mx, &niov, &count,
             &iface, &cmdlen) != 11 || s < 0 || s >= SLOTS || len > BUF_BYTES || niov > 8) {
    fprintf(stderr, "bad %s line: %s\n", op, args);
    exit(2);
  }
  unsigned index = seq++;
  struct submission *sub = &ring[index % RING];
  struct sg_io_hdr h;
  fill(&h, sub, index, s, kind, dir, len, packid, flags, mx, niov, iface, cmdlen);
  if (!strcmp(op, "write")) {
    long r = write(fds[s], &h, count ? count : sizeof h);
    begin(op, r, errno);
    printf(",\"seq\":%u,\"usr\":%u", index, 0x5000000u + index);
  } else {
    if (!strcmp(op, "sgioint")) {
      /* Interrupt the SG_IO after 200 ms: the request becomes an orphan. */
      struct itimerval t = {{0, 0}, {0, 200000}};
      setitimer(ITIMER_REAL, &t, NULL);
    }
    long r = ioctl(fds[s], SG_IO, &h);
    begin(op, r, errno);
    printf(",\"seq\":%u,\"usr\":%u", index, 0x5000000u + index);
    if (r >= 0) reply_extras(&h, sizeof h);
  }
  end();
}

static void block_sgio(char *args) {
  char dev[64], kind[16];
  int dir;
  unsigned len, mx, niov;
  if (sscanf(args, "%63s %15s %d %u %u %u", dev, kind, &dir, &len, &mx, &niov) != 6 || len > BUF_BYTES || niov > 8) {
    fprintf(stderr, "bad block line: %s\n", args);
    exit(2);
  }
  int fd = open(dev, O_RDWR);
  if (fd < 0) {
    begin("block", -1, errno);
    end();
    return;
  }
  unsigned index = seq++;
  struct submission *sub = &ring[index % RING];
  struct sg_io_hdr h;
  fill(&h, sub, index, 0, kind, dir, len, 0, 0, mx, niov, 'S', 0);
  sub->mmap_io = 0;
  long r = ioctl(fd, SG_IO, &h);
  begin("block", r, errno);
  printf(",\"seq\":%u,\"usr\":%u", index, 0x5000000u + index);
  if (r >= 0) reply_extras(&h, sizeof h);
  end();
  close(fd);
}

static void settle(int s) {
  struct sg_req_info table[SG_MAX_QUEUE];
  for (int tries = 0; tries < 20000; tries++) {
    memset(table, 0, sizeof table);
    if (ioctl(fds[s], SG_GET_REQUEST_TABLE, table) < 0) break;
    int busy = 0;
    for (int i = 0; i < SG_MAX_QUEUE; i++) busy |= table[i].req_state == 1;
    if (!busy) {
      begin("settle", 0, 0);
      end();
      return;
    }
    usleep(500);
  }
  begin("settle", -1, ETIMEDOUT);
  end();
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s /dev/sgN < script\n", argv[0]);
    return 2;
  }
  device = argv[1];
  ring = calloc(RING, sizeof *ring);
  if (!ring) return 3;
  /* A call that would block for good (a read() nothing will answer) is cut off after 10 s:
     the alarm interrupts it (no SA_RESTART) and the line reports EINTR. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  char line[512];
  while (fgets(line, sizeof line, stdin)) {
    char op[16];
    int s = 0, n = 0;
    if (sscanf(line, "%15s %n", op, &n) < 1) continue;
    char *args = line + n;
    alarm(10);
    if (!strcmp(op, "write") || !strcmp(op, "sgio") || !strcmp(op, "sgioint")) {
      submit(op, args);
      continue;
    }
    if (!strcmp(op, "block")) {
      block_sgio(args);
      continue;
    }
    if (sscanf(args, "%d", &s) != 1 || s < 0 || s >= SLOTS) {
      fprintf(stderr, "bad line: %s", line);
      return 2;
    }
    if (!strcmp(op, "open")) {
      char mode[4];
      int nb = 0;
      sscanf(args, "%*d %3s %d", mode, &nb);
      int flags = (!strcmp(mode, "ro") ? O_RDONLY : !strcmp(mode, "wo") ? O_WRONLY : O_RDWR) | (nb ? O_NONBLOCK : 0);
      if (fds[s] >= 0) close(fds[s]);
      if (maps[s]) munmap(maps[s], map_len[s]);
      maps[s] = NULL;
      fds[s] = open(device, flags);
      begin(op, fds[s] < 0 ? -1 : 0, errno);
      end();
    } else if (!strcmp(op, "close")) {
      if (maps[s]) munmap(maps[s], map_len[s]);
      maps[s] = NULL;
      int r = close(fds[s]);
      fds[s] = -1;
      begin(op, r, errno);
      end();
    } else if (!strcmp(op, "read")) {
      int packid = -1;
      unsigned count = 0;
      sscanf(args, "%*d %d %u", &packid, &count);
      unsigned char buf[128];
      struct sg_io_hdr *h = (struct sg_io_hdr *)buf;
      memset(buf, 0, sizeof buf);
      h->interface_id = 'S';
      h->dxfer_direction = SG_DXFER_FROM_DEV;
      h->pack_id = packid;
      long r = read(fds[s], buf, count ? count : sizeof *h);
      begin(op, r, errno);
      if (r >= 0) reply_extras(h, sizeof *h);
      end();
    } else if (!strcmp(op, "poll")) {
      struct pollfd p = {fds[s], POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0};
      int r = poll(&p, 1, 0);
      begin(op, r, errno);
      printf(",\"value\":%d", p.revents);
      end();
    } else if (!strcmp(op, "settle")) {
      settle(s);
    } else if (!strcmp(op, "get")) {
      char name[32];
      sscanf(args, "%*d %31s", name);
      int number = ioctl_number(name), value = -12345;
      if (number < 0) return 2;
      long r = ioctl(fds[s], number, &value);
      begin(op, r, errno);
      printf(",\"value\":%d", number == SG_GET_TIMEOUT ? (int)r : value);
      end();
    } else if (!strcmp(op, "set")) {
      char name[32];
      int value = 0;
      sscanf(args, "%*d %31s %d", name, &value);
      int number = set_number(name);
      if (number < 0) return 2;
      long r = ioctl(fds[s], number, &value);
      begin(op, r, errno);
      end();
    } else if (!strcmp(op, "table")) {
      struct sg_req_info table[SG_MAX_QUEUE];
      memset(table, 0, sizeof table);
      long r = ioctl(fds[s], SG_GET_REQUEST_TABLE, table);
      begin(op, r, errno);
      hex("bytes", table, sizeof table);
      end();
    } else if (!strcmp(op, "scsiid")) {
      struct sg_scsi_id id;
      memset(&id, 0xee, sizeof id);
      long r = ioctl(fds[s], SG_GET_SCSI_ID, &id);
      begin(op, r, errno);
      hex("bytes", &id, sizeof id);
      end();
    } else if (!strcmp(op, "mmap")) {
      unsigned len = 0, pgoff = 0;
      sscanf(args, "%*d %u %u", &len, &pgoff);
      void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[s], (off_t)pgoff * 4096);
      begin(op, p == MAP_FAILED ? -1 : 0, errno);
      end();
      if (p != MAP_FAILED) {
        if (maps[s]) munmap(maps[s], map_len[s]);
        maps[s] = p;
        map_len[s] = len;
      }
    } else {
      fprintf(stderr, "unknown op: %s", line);
      return 2;
    }
  }
  return 0;
}
