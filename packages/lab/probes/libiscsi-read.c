/*
 * Reads blocks through libiscsi (Debian libiscsi7) and writes them to stdout, so host tests
 * can compare what this project's initiator wrote with what an independent initiator reads.
 * libiscsi's development headers are not installed, so the few entry points used are declared
 * here as include/iscsi.h and include/scsi-lowlevel.h define them (libiscsi 1.19).
 *
 * usage: libiscsi-read PORTAL TARGET LUN LBA BLOCKS BLOCKSIZE [crc32c]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct iscsi_context;
struct scsi_task;
struct scsi_iovec {
	void *iov_base;
	size_t iov_len;
};

struct iscsi_context *iscsi_create_context(const char *initiator_name);
int iscsi_destroy_context(struct iscsi_context *iscsi);
const char *iscsi_get_error(struct iscsi_context *iscsi);
int iscsi_set_targetname(struct iscsi_context *iscsi, const char *targetname);
int iscsi_set_session_type(struct iscsi_context *iscsi, int session_type); /* ISCSI_SESSION_NORMAL = 2 */
int iscsi_set_header_digest(struct iscsi_context *iscsi, int header_digest); /* NONE 0, CRC32C 3 */
int iscsi_full_connect_sync(struct iscsi_context *iscsi, const char *portal, int lun);
int iscsi_logout_sync(struct iscsi_context *iscsi);
struct scsi_task *iscsi_read16_iov_sync(struct iscsi_context *iscsi, int lun, uint64_t lba,
					uint32_t datalen, int blocksize, int rdprotect, int dpo, int fua,
					int fua_nv, int group_number, struct scsi_iovec *iov, int niov);
void scsi_free_scsi_task(struct scsi_task *task);

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: %s PORTAL TARGET LUN LBA BLOCKS BLOCKSIZE [crc32c]\n", argv[0]);
		return 2;
	}
	int lun = atoi(argv[3]);
	uint64_t lba = strtoull(argv[4], NULL, 10);
	uint32_t blocks = strtoul(argv[5], NULL, 10);
	int blocksize = atoi(argv[6]);
	size_t length = (size_t)blocks * blocksize;
	unsigned char *buffer = malloc(length);
	struct iscsi_context *iscsi = iscsi_create_context("iqn.2026-11.test:libiscsi-read");
	if (buffer == NULL || iscsi == NULL)
		return 3;
	iscsi_set_targetname(iscsi, argv[2]);
	iscsi_set_session_type(iscsi, 2);
	iscsi_set_header_digest(iscsi, argc > 7 ? 3 : 0);
	if (iscsi_full_connect_sync(iscsi, argv[1], lun) != 0) {
		fprintf(stderr, "login failed: %s\n", iscsi_get_error(iscsi));
		return 4;
	}
	struct scsi_iovec iov = { buffer, length };
	struct scsi_task *task = iscsi_read16_iov_sync(iscsi, lun, lba, length, blocksize, 0, 0, 0, 0, 0, &iov, 1);
	/* struct scsi_task starts with `int status` (include/scsi-lowlevel.h). */
	if (task == NULL || *(int *)task != 0) {
		fprintf(stderr, "READ(16) failed: %s\n", iscsi_get_error(iscsi));
		return 5;
	}
	fwrite(buffer, 1, length, stdout);
	scsi_free_scsi_task(task);
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
	return 0;
}
