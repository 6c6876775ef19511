/**
 * The header and CDB checks Linux 6.1 applies when a command is submitted, by id, each
 * with the function and file that applies it. The data-path rules are in
 * `TRANSFER_RULES`, the command filter's in `PERMISSION_RULE_SOURCES`.
 * @module
 */
import type { KernelRule } from '../scatterlist/transfer-rules.js';

/** Every header and CDB-length check, by id. */
export const SUBMISSION_RULES = {
  'sg-write-count': {
    kernelFunction: 'sg_write',
    file: 'drivers/scsi/sg.c',
    errno: 'EIO',
    summary: 'write(2) of fewer bytes than the old sg_header (36)',
  },
  'sg-v3-header-size': {
    kernelFunction: 'sg_new_write',
    file: 'drivers/scsi/sg.c',
    errno: 'EINVAL',
    summary: 'write(2) of a v3 header shorter than sizeof(struct sg_io_hdr) (88 bytes)',
  },
  'sg-interface-id': {
    kernelFunction: 'sg_new_write',
    file: 'drivers/scsi/sg.c',
    errno: 'ENOSYS',
    summary: "interface_id is not 'S'",
  },
  'sg-cdb-length': {
    kernelFunction: 'sg_new_write',
    file: 'drivers/scsi/sg.c',
    errno: 'EMSGSIZE',
    summary: 'cmdp NULL, cmd_len < 6 or cmd_len > SG_MAX_CDB_SIZE (252), after the SG_FLAG_MMAP_IO checks',
  },
  'sg-cdb-too-long': {
    kernelFunction: 'sg_start_req',
    file: 'drivers/scsi/sg.c',
    errno: 'EINVAL',
    summary: 'cmd_len > 32 (sizeof scsi_cmnd.cmnd), after the permission check and the 256 MiB limit',
  },
  'block-interface-id': {
    kernelFunction: 'sg_io',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EINVAL',
    summary: "interface_id is not 'S' (EINVAL here, ENOSYS on sg)",
  },
  'block-cdb-too-long': {
    kernelFunction: 'sg_io',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EINVAL',
    summary: 'cmd_len > 32, after the dxfer_len (EIO) and direction checks',
  },
  'block-cdb-too-short': {
    kernelFunction: 'scsi_fill_sghdr_rq',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EMSGSIZE',
    summary: 'cmd_len < 6, before the permission check',
  },
  'block-cdb-fault': {
    kernelFunction: 'scsi_fill_sghdr_rq',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EFAULT',
    summary: 'cmdp does not point to readable memory (NULL)',
  },
  'bsg-guard': {
    kernelFunction: 'bsg_sg_io',
    file: 'block/bsg.c',
    errno: 'EINVAL',
    summary: "guard is not 'Q'",
  },
  'bsg-protocol': {
    kernelFunction: 'scsi_bsg_sg_io_fn',
    file: 'drivers/scsi/scsi_bsg.c',
    errno: 'EINVAL',
    summary: 'protocol or subprotocol is not 0 (BSG_PROTOCOL_SCSI, BSG_SUB_PROTOCOL_SCSI_CMD)',
  },
  'bsg-request-len': {
    kernelFunction: 'scsi_bsg_sg_io_fn',
    file: 'drivers/scsi/scsi_bsg.c',
    errno: 'EINVAL',
    summary:
      'request_len, stored in the 16-bit scmd->cmd_len, is above 32; no minimum (0 sends an empty CDB)',
  },
  'bsg-cdb-fault': {
    kernelFunction: 'scsi_bsg_sg_io_fn',
    file: 'drivers/scsi/scsi_bsg.c',
    errno: 'EFAULT',
    summary: 'request does not point to readable memory (NULL) while request_len is not 0',
  },
  'send-command-length': {
    kernelFunction: 'sg_scsi_ioctl',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EINVAL',
    summary:
      'SCSI_IOCTL_SEND_COMMAND with inlen or outlen above PAGE_SIZE; the CDB length is COMMAND_SIZE(opcode)',
  },
  'cdrom-packet-direction': {
    kernelFunction: 'scsi_cdrom_send_packet',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EINVAL',
    summary: 'CDROM_SEND_PACKET with a data_direction other than CGC_DATA_UNKNOWN/WRITE/READ/NONE',
  },
} as const satisfies Record<string, KernelRule>;

/** The id of a header or CDB check. */
export type SubmissionRuleId = keyof typeof SUBMISSION_RULES;

/** `function (file)` for a header or CDB check. */
export function submissionRuleSource(id: SubmissionRuleId): string {
  const rule: KernelRule = SUBMISSION_RULES[id];
  return `${rule.kernelFunction} (${rule.file})`;
}
