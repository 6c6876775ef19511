/**
 * The Linux 6.1 table: `scsi_cmd_allowed()` in drivers/scsi/scsi_ioctl.c.
 * @module
 */
import { PermissionTable } from '../permission-table.js';

/**
 * Read-class opcodes of 6.1 `scsi_cmd_allowed()` ("Anybody who can open the device can do
 * a read-safe command"), with the kernel's macro names (include/scsi/scsi_proto.h,
 * include/uapi/linux/cdrom.h). 44 opcodes; 0x25 is both READ_CAPACITY and
 * GPCMD_READ_CDVD_CAPACITY, 0xa3 both MAINTENANCE_IN and GPCMD_SEND_KEY.
 */
export const LINUX_6_1_READ_CLASS: Readonly<Record<number, string>> = {
  0: 'TEST_UNIT_READY',
  3: 'REQUEST_SENSE',
  8: 'READ_6',
  40: 'READ_10',
  168: 'READ_12',
  136: 'READ_16',
  60: 'READ_BUFFER',
  55: 'READ_DEFECT_DATA',
  37: 'READ_CAPACITY',
  62: 'READ_LONG',
  18: 'INQUIRY',
  26: 'MODE_SENSE',
  90: 'MODE_SENSE_10',
  77: 'LOG_SENSE',
  27: 'START_STOP',
  47: 'GPCMD_VERIFY_10',
  143: 'VERIFY_16',
  160: 'REPORT_LUNS',
  158: 'SERVICE_ACTION_IN_16',
  28: 'RECEIVE_DIAGNOSTIC',
  163: 'MAINTENANCE_IN',
  92: 'GPCMD_READ_BUFFER_CAPACITY',
  188: 'GPCMD_PLAY_CD',
  69: 'GPCMD_PLAY_AUDIO_10',
  71: 'GPCMD_PLAY_AUDIO_MSF',
  72: 'GPCMD_PLAY_AUDIO_TI',
  75: 'GPCMD_PAUSE_RESUME',
  190: 'GPCMD_READ_CD',
  185: 'GPCMD_READ_CD_MSF',
  81: 'GPCMD_READ_DISC_INFO',
  173: 'GPCMD_READ_DVD_STRUCTURE',
  68: 'GPCMD_READ_HEADER',
  82: 'GPCMD_READ_TRACK_RZONE_INFO',
  66: 'GPCMD_READ_SUBCHANNEL',
  67: 'GPCMD_READ_TOC_PMA_ATIP',
  164: 'GPCMD_REPORT_KEY',
  186: 'GPCMD_SCAN',
  70: 'GPCMD_GET_CONFIGURATION',
  35: 'GPCMD_READ_FORMAT_CAPACITIES',
  74: 'GPCMD_GET_EVENT_STATUS_NOTIFICATION',
  172: 'GPCMD_GET_PERFORMANCE',
  43: 'GPCMD_SEEK',
  78: 'GPCMD_STOP_PLAY_SCAN',
  149: 'ZBC_IN',
};

/**
 * Write-class opcodes of 6.1 `scsi_cmd_allowed()` ("Basic writing commands": allowed
 * when the open mode has FMODE_WRITE). 31 opcodes. WRITE_SAME_32 is the macro value 0x0d,
 * really a service action of 0x7f: the kernel tests only byte 0, so raw opcode 0x0d is
 * whitelisted while every 0x7f CDB is privileged.
 */
export const LINUX_6_1_WRITE_CLASS: Readonly<Record<number, string>> = {
  10: 'WRITE_6',
  42: 'WRITE_10',
  46: 'WRITE_VERIFY',
  170: 'WRITE_12',
  174: 'WRITE_VERIFY_12',
  138: 'WRITE_16',
  63: 'WRITE_LONG',
  234: 'WRITE_LONG_2',
  65: 'WRITE_SAME',
  147: 'WRITE_SAME_16',
  13: 'WRITE_SAME_32',
  25: 'ERASE',
  85: 'GPCMD_MODE_SELECT_10',
  21: 'MODE_SELECT',
  76: 'LOG_SELECT',
  161: 'GPCMD_BLANK',
  91: 'GPCMD_CLOSE_TRACK',
  53: 'GPCMD_FLUSH_CACHE',
  4: 'GPCMD_FORMAT_UNIT',
  88: 'GPCMD_REPAIR_RZONE_TRACK',
  83: 'GPCMD_RESERVE_RZONE_TRACK',
  191: 'GPCMD_SEND_DVD_STRUCTURE',
  162: 'GPCMD_SEND_EVENT',
  84: 'GPCMD_SEND_OPC',
  93: 'GPCMD_SEND_CUE_SHEET',
  187: 'GPCMD_SET_SPEED',
  30: 'GPCMD_PREVENT_ALLOW_MEDIUM_REMOVAL',
  166: 'GPCMD_LOAD_UNLOAD',
  182: 'GPCMD_SET_STREAMING',
  167: 'GPCMD_SET_READ_AHEAD',
  148: 'ZBC_OUT',
};

/** Opcodes of a name record, ascending. */
export function opcodesOf(names: Readonly<Record<number, string>>): number[] {
  return Object.keys(names)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Linux 6.1 `scsi_cmd_allowed(cmd, mode)`: CAP_SYS_RAWIO allows everything; the read
 * class is allowed on any open; the write class needs FMODE_WRITE; everything else
 * (including 0x7f, 0x85, 0x9f) is EPERM. Only `cmd[0]` is examined: no service actions,
 * no device type. Used by block SG_IO, SCSI_IOCTL_SEND_COMMAND, bsg
 * (`scsi_bsg_sg_io_fn`) and sg (`sg_allow_access`).
 */
export const LINUX_6_1_TABLE: PermissionTable = new PermissionTable({
  name: 'linux-6.1',
  description:
    'Linux 6.1 scsi_cmd_allowed() (drivers/scsi/scsi_ioctl.c): 44 read-class, 31 write-class opcodes.',
  readOk: opcodesOf(LINUX_6_1_READ_CLASS),
  writeOk: opcodesOf(LINUX_6_1_WRITE_CLASS),
  names: { ...LINUX_6_1_WRITE_CLASS, ...LINUX_6_1_READ_CLASS },
});
