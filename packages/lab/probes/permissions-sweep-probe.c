/*
 * Permission sweep probe for the lab's permissions conformance area
 * (packages/lab/src/conformance).
 *
 * Opens an sg node and a bsg node O_RDONLY, sends one CDB per opcode 0x00..0xff through
 * SG_IO on each (sg: v3 sg_io_hdr, bsg: v4 sg_io_v4) and prints one JSON line per
 * (interface, opcode): {"iface":"sg","opcode":18,"errno":0,"status":0}. errno is 0 when
 * the ioctl returned 0. A first line reports the process's effective capabilities so the
 * test can check that CAP_SYS_RAWIO is really absent.
 *
 * Usage: permissions-sweep-probe /dev/sg0 /dev/bsg/0:0:0:0 [ro|wo|rw [OPCODE,...]]
 * The open mode defaults to ro (O_RDONLY) and the opcodes to all 256 (hex list otherwise).
 * Every CDB is zero apart from its opcode, so WRITE(10/12/16) transfer no blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bsg.h>
#include <scsi/sg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* CDB length by opcode group (SPC-4 4.2.5.1); 0x7f is the variable-length CDB. */
static int cdb_length(int opcode) {
  if (opcode == 0x7f) return 32;
  switch (opcode >> 5) {
    case 0: return 6;
    case 1:
    case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return 10;
  }
}

/* A harmless CDB for `opcode`: zeros, except START STOP UNIT asks to START (so the
 * shared scsi_debug disk is never left stopped) and READ(6) reads one block. */
static void build_cdb(int opcode, unsigned char *cdb, int len) {
  memset(cdb, 0, (size_t)len);
  cdb[0] = (unsigned char)opcode;
  if (opcode == 0x1b) cdb[4] = 0x01;
  if (opcode == 0x08) cdb[4] = 0x01;
  if (opcode == 0x7f) cdb[7] = 0x18; /* ADDITIONAL CDB LENGTH */
}

static void print_caps(void) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "CapEff:", 7) == 0) {
      line[strcspn(line, "\n")] = 0;
      printf("{\"capEff\":\"%s\",\"uid\":%d}\n", line + 8 + strspn(line + 8, " \t"), (int)getuid());
    }
  }
  fclose(f);
}

static int open_flags = O_RDONLY;
static int opcodes[256];
static int n_opcodes;

static int sweep_sg(const char *path) {
  int fd = open(path, open_flags);
  if (fd < 0) {
    printf("{\"openError\":\"%s\",\"errno\":%d}\n", path, errno);
    return 1;
  }
  unsigned char cdb[32], data[512], sense[32];
  for (int k = 0; k < n_opcodes; k++) {
    int op = opcodes[k];
    int len = cdb_length(op);
    build_cdb(op, cdb, len);
    sg_io_hdr_t h;
    memset(&h, 0, sizeof h);
    h.interface_id = 'S';
    h.cmd_len = (unsigned char)len;
    h.cmdp = cdb;
    h.dxfer_direction = SG_DXFER_FROM_DEV;
    h.dxfer_len = sizeof data;
    h.dxferp = data;
    h.mx_sb_len = sizeof sense;
    h.sbp = sense;
    h.timeout = 5000;
    int rc = ioctl(fd, SG_IO, &h);
    printf("{\"iface\":\"sg\",\"opcode\":%d,\"errno\":%d,\"status\":%d}\n", op, rc < 0 ? errno : 0,
           rc < 0 ? -1 : h.status);
  }
  close(fd);
  return 0;
}

static int sweep_bsg(const char *path) {
  int fd = open(path, open_flags);
  if (fd < 0) {
    printf("{\"openError\":\"%s\",\"errno\":%d}\n", path, errno);
    return 1;
  }
  unsigned char cdb[32], data[512], sense[32];
  for (int k = 0; k < n_opcodes; k++) {
    int op = opcodes[k];
    int len = cdb_length(op);
    build_cdb(op, cdb, len);
    struct sg_io_v4 h;
    memset(&h, 0, sizeof h);
    h.guard = 'Q';
    h.protocol = BSG_PROTOCOL_SCSI;
    h.subprotocol = BSG_SUB_PROTOCOL_SCSI_CMD;
    h.request_len = (uint32_t)len;
    h.request = (uintptr_t)cdb;
    h.din_xfer_len = sizeof data;
    h.din_xferp = (uintptr_t)data;
    h.max_response_len = sizeof sense;
    h.response = (uintptr_t)sense;
    h.timeout = 5000;
    int rc = ioctl(fd, SG_IO, &h);
    printf("{\"iface\":\"bsg\",\"opcode\":%d,\"errno\":%d,\"status\":%d}\n", op, rc < 0 ? errno : 0,
           rc < 0 ? -1 : (int)h.device_status);
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 5) {
    fprintf(stderr, "usage: %s <sg node> <bsg node> [ro|wo|rw [OPCODE,...]]\n", argv[0]);
    return 2;
  }
  if (argc >= 4) {
    if (strcmp(argv[3], "ro") == 0) open_flags = O_RDONLY;
    else if (strcmp(argv[3], "wo") == 0) open_flags = O_WRONLY;
    else if (strcmp(argv[3], "rw") == 0) open_flags = O_RDWR;
    else {
      fprintf(stderr, "mode must be ro, wo or rw\n");
      return 2;
    }
  }
  if (argc == 5) {
    char *p = argv[4];
    while (*p && n_opcodes < 256) {
      char *end;
      long v = strtol(p, &end, 16);
      if (end == p || v < 0 || v > 255) {
        fprintf(stderr, "bad opcode list\n");
        return 2;
      }
      opcodes[n_opcodes++] = (int)v;
      p = *end == ',' ? end + 1 : end;
    }
  } else {
    for (int op = 0; op < 256; op++) opcodes[n_opcodes++] = op;
  }
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  print_caps();
  int rc = sweep_sg(argv[1]) | sweep_bsg(argv[2]);
  fflush(stdout);
  return rc;
}
