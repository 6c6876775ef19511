/*
 * sense-capture-probe: the lab's sense conformance area (packages/lab/src/conformance)
 * sends one CDB with SG_IO (sg v3, struct sg_io_hdr) to an sg node and prints the outcome
 * on one line:
 *   errno=E status=0xSS host=0xHH driver=0xDD info=0xII sb_len=N sense=<hex>
 * Usage: sense-capture-probe /dev/sgN <in-length> <mx_sb_len> <cdb hex bytes...>
 */
#include <errno.h>
#include <fcntl.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DEVICE IN_LEN MX_SB_LEN CDB...\n", argv[0]);
    return 2;
  }
  unsigned char cdb[32];
  int cdb_len = argc - 4;
  if (cdb_len > 32) return 2;
  for (int i = 0; i < cdb_len; i++) cdb[i] = (unsigned char)strtoul(argv[4 + i], NULL, 16);
  int in_len = atoi(argv[2]);
  int mx_sb_len = atoi(argv[3]);
  if (mx_sb_len < 0 || mx_sb_len > 96) return 2;
  unsigned char *data = calloc(1, in_len > 0 ? (size_t)in_len : 1);
  unsigned char sense[96];
  memset(sense, 0, sizeof sense);
  int fd = open(argv[1], O_RDWR);
  if (fd < 0) {
    printf("errno=%d\n", errno);
    return 0;
  }
  struct sg_io_hdr h;
  memset(&h, 0, sizeof h);
  h.interface_id = 'S';
  h.cmd_len = (unsigned char)cdb_len;
  h.cmdp = cdb;
  h.dxfer_direction = in_len > 0 ? SG_DXFER_FROM_DEV : SG_DXFER_NONE;
  h.dxfer_len = (unsigned int)(in_len > 0 ? in_len : 0);
  h.dxferp = data;
  h.mx_sb_len = (unsigned char)mx_sb_len;
  h.sbp = sense;
  h.timeout = 20000;
  int rc = ioctl(fd, SG_IO, &h);
  printf("errno=%d status=0x%02x host=0x%02x driver=0x%02x info=0x%02x sb_len=%d sense=", rc < 0 ? errno : 0,
         h.status, h.host_status, h.driver_status, h.info, h.sb_len_wr);
  for (int i = 0; i < h.sb_len_wr; i++) printf("%02x", sense[i]);
  printf("\n");
  close(fd);
  free(data);
  return 0;
}
