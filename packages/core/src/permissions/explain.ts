/**
 * One sentence, for a person, saying why a permission decision went the way it did and
 * what to change.
 * @module
 */

import { hexByte } from '../format/index.js';
import type { PermissionDecision } from './decision.js';

function commandLabel(d: PermissionDecision): string {
  const sa = d.command.serviceAction;
  const code = sa === undefined ? hexByte(d.command.opcode) : `${hexByte(d.command.opcode)}/${hexByte(sa)}`;
  return d.command.name.startsWith('opcode 0x') ? d.command.name : `${d.command.name} (${code})`;
}

function where(d: PermissionDecision): string {
  return d.match === 'ata-command' ? `the sgv4 ATA command table (policy ${d.policy})` : `table ${d.table}`;
}

const NODE: Readonly<Record<PermissionDecision['request']['iface'], string>> = {
  sg: 'sg',
  bsg: 'bsg',
  block: 'block-device',
};

function ataNote(d: PermissionDecision): string {
  const ata = d.ata;
  if (!ata) return '';
  const c = ata.classification;
  if (ata.decisive) return c.reason ? ` (${c.reason})` : '';
  if (d.allowed && c.commandClass === 'privileged' && d.filtered && d.rule !== 'cap-sys-rawio') {
    return `; beware: Linux checks only byte 0, so the embedded ATA command ${c.entry.name} (privileged in the sgv4 ATA table) goes through as ${d.command.name}`;
  }
  return `; it carries ATA ${c.entry.name} (${c.commandClass} in the sgv4 ATA table)`;
}

/**
 * Explains a {@link PermissionDecision} in one sentence: the table and rule that decided,
 * and, when refused, what to change (open read-write, use the /dev/sgN node, grant
 * CAP_SYS_RAWIO, use the whole-disk node).
 */
export function explainPermission(d: PermissionDecision): string {
  const cmd = commandLabel(d);
  const node = NODE[d.request.iface];
  const viaSgIo = d.request.submission === 'ioctl';
  switch (d.rule) {
    case 'sg-file-credentials-changed':
      return `Denied (EPERM): this process changed its credentials after opening the sg node, and sg refuses write(2) and read(2) then (sg_check_file_access): open the node again after the change, or use SG_IO.`;
    case 'sg-ioctl-needs-read-write':
      return `Denied (EPERM): sg refuses ioctls it does not know, such as CDROM_SEND_PACKET, on a node not opened O_RDWR (sg_ioctl_common), before any command table: open the sg node O_RDWR, or use SG_IO.`;
    case 'bsg-send-command-unsupported':
      return `Refused (EINVAL): bsg does not support SCSI_IOCTL_SEND_COMMAND (bsg_ioctl): send ${cmd} with SG_IO (sg_io_v4).`;
    case 'bsg-ioctl-unknown':
      return `Refused (ENOTTY): CDROM_SEND_PACKET is not a bsg ioctl (bsg_ioctl): send ${cmd} with SG_IO (sg_io_v4).`;
    case 'block-partition-needs-rawio':
      return `Denied (ENOTTY): SG_IO on a partition is refused before any command table is consulted unless the caller has CAP_SYS_RAWIO (sd_ioctl): send ${cmd} to the whole-disk node, or grant CAP_SYS_RAWIO.`;
    case 'write-needs-writable-fd':
      return `Denied (EBADF): write(2) on an sg fd opened O_RDONLY fails in the VFS before sg sees ${cmd}: open the node O_RDWR (sg then also skips the command table), or use SG_IO.`;
    case 'sg-write-unfiltered':
      return `Allowed: sg's write() path never consults a command table, so ${cmd} goes through on this writable fd (it is ${d.commandClass} in ${where(d)}).`;
    case 'sg-read-write-unfiltered':
      return `Allowed: sg skips the command table for fds opened O_RDWR, so ${cmd} needs nothing more here (it is ${d.commandClass} in ${where(d)}, which bsg and block SG_IO would apply)${ataNote(d)}.`;
    case 'sg-scanner-unfiltered':
      return `Allowed: sg never filters commands to scanners (peripheral device type 6), so ${cmd} goes through on any open of this node.`;
    case 'cap-sys-rawio':
      return `Allowed: the caller has CAP_SYS_RAWIO, which bypasses ${where(d)} (${cmd} is ${d.commandClass} there).`;
    case 'read-safe':
      return `Allowed: ${cmd} is read-safe in ${where(d)}, so any open of the ${node} node may send it${ataNote(d)}.`;
    case 'write-safe-writable':
      return `Allowed: ${cmd} is write-safe in ${where(d)} and the ${node} node is open for writing${ataNote(d)}.`;
    case 'write-safe-not-writable': {
      const fix =
        d.request.iface === 'sg' && viaSgIo
          ? 'open the sg node O_RDWR (sg then skips the table) or O_WRONLY'
          : `open the ${node} node O_RDWR or O_WRONLY`;
      return `Denied (EPERM): ${cmd} is write-safe in ${where(d)} but this ${node} node is open read-only${ataNote(d)}: ${fix}, or grant CAP_SYS_RAWIO.`;
    }
    case 'privileged': {
      const fix =
        d.request.iface === 'sg' && viaSgIo
          ? 'open the sg node O_RDWR (sg does not filter O_RDWR fds), or grant CAP_SYS_RAWIO'
          : d.request.iface === 'sg'
            ? 'send it with SG_IO on an sg fd opened O_RDWR (sg does not filter those), or grant CAP_SYS_RAWIO'
            : `grant CAP_SYS_RAWIO, or use the /dev/sgN node of the same device opened O_RDWR (sg does not filter O_RDWR fds; ${node} always filters)`;
      return `Denied (EPERM): ${cmd} is privileged in ${where(d)}${ataNote(d)}: ${fix}.`;
    }
  }
}
