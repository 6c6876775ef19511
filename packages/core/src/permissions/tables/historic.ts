/**
 * The historic tables: `blk_set_cmd_filter_defaults()` read_ok/write_ok bitmaps
 * (block/scsi_ioctl.c, about 2.6.30 to 5.14; block/cmd-filter.c before that).
 * @module
 */
import { PermissionTable } from '../permission-table.js';
import { LINUX_6_1_READ_CLASS, LINUX_6_1_WRITE_CLASS, opcodesOf } from './linux-6-1.js';

/** GPCMD_SEND_KEY (0xa3): in write_ok, but 0xa3 was also in read_ok as MAINTENANCE_IN. */
const SEND_KEY = 0xa3;

/** Opcodes the last bitmaps had that the early ones (2.6.30..3.x copies) lacked. */
const ADDED_LATER: readonly number[] = [0x41, 0x93, 0x0d, 0x95, 0x94];

function without(names: Readonly<Record<number, string>>, drop: readonly number[]): Record<number, string> {
  return Object.fromEntries(Object.entries(names).filter(([op]) => !drop.includes(Number(op))));
}

/**
 * The last `blk_set_cmd_filter_defaults()` (5.14, removed by "scsi_ioctl: simplify SCSI
 * passthrough permission checking", v5.15). `blk_verify_command()` tested read_ok first,
 * then write_ok with FMODE_WRITE. Same effective classes as 6.1, but the bitmaps differ:
 * GPCMD_SEND_KEY (0xa3) set a write_ok bit that never mattered (0xa3 is read_ok as
 * MAINTENANCE_IN), and 0x25 was set twice (READ_CAPACITY, GPCMD_READ_CDVD_CAPACITY):
 * the "two duplicate commands" the 5.15 patch mentions.
 */
export const BLK_FILTER_5_14_TABLE: PermissionTable = new PermissionTable({
  name: 'blk-filter-5.14',
  description:
    'blk_set_cmd_filter_defaults() read_ok/write_ok bitmaps as last shipped (5.14): 44 read_ok, 32 write_ok bits (0xa3 in both).',
  readOk: opcodesOf(LINUX_6_1_READ_CLASS),
  writeOk: [...opcodesOf(LINUX_6_1_WRITE_CLASS), SEND_KEY].sort((a, b) => a - b),
  names: { ...LINUX_6_1_WRITE_CLASS, ...LINUX_6_1_READ_CLASS },
});

/**
 * The early `blk_set_cmd_filter_defaults()` (2.6.30 to 3.x copies): no WRITE_SAME,
 * WRITE_SAME_16, WRITE_SAME_32, ZBC_IN or ZBC_OUT, and 0x9e named SERVICE_ACTION_IN.
 * So an unprivileged WRITE SAME(10/16) needed CAP_SYS_RAWIO then.
 */
export const BLK_FILTER_EARLY_TABLE: PermissionTable = new PermissionTable({
  name: 'blk-filter-early',
  description:
    'blk_set_cmd_filter_defaults() as in 2.6.30..3.x copies, before WRITE SAME and ZBC were added: 43 read_ok, 28 write_ok bits.',
  readOk: opcodesOf(without(LINUX_6_1_READ_CLASS, ADDED_LATER)),
  writeOk: [...opcodesOf(without(LINUX_6_1_WRITE_CLASS, ADDED_LATER)), SEND_KEY].sort((a, b) => a - b),
  names: {
    ...without(LINUX_6_1_WRITE_CLASS, ADDED_LATER),
    ...without(LINUX_6_1_READ_CLASS, ADDED_LATER),
    158: 'SERVICE_ACTION_IN',
  },
});
