/** `sgv4 list`: every SCSI logical unit with its sg, bsg and block nodes (like `lsscsi -g`), from sysfs. */
import { list } from '@sgv4/bsg';
import type { Command } from '../framework/command.js';
import { formatTable, printJson, printLine } from '../framework/output.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'list SCSI devices with their sg, bsg and block nodes paired (like lsscsi -g)',
  usage: '[--json]',
  details: [
    'Reads sysfs only (no device is opened, so any user can run it): /sys/class/scsi_device, each',
    "device's vendor/model/rev/type, its scsi_generic, block and bsg nodes, and the VPD pages 0x80 and",
    '0x83 the kernel cached (vpd_pg80, vpd_pg83).',
    '--json: {"devices": [{address ("H:C:T:L"), hctl {host, channel, target, lun (decimal string)},',
    'nodes {sg?, bsg?, block?}, peripheralType, peripheralTypeName, vendor, product, revision, serial?,',
    'identifiers [{association, type, typeName, codeSet, protocolIdentifier?, value, bytes (hex)}],',
    'queueDepth?, state?}]}',
  ].join('\n'),
  json: true,
  async run(invocation, io) {
    const devices = await list();
    if (invocation.json) {
      printJson(io, { devices });
      return 0;
    }
    if (devices.length === 0) {
      printLine(
        io,
        'no SCSI devices (is the sg or sd driver loaded? in this project: sgv4 lab run -- sgv4 list)',
      );
      return 0;
    }
    const rows = devices.map((d) => [
      `[${d.address}]`,
      d.peripheralTypeName,
      d.vendor,
      d.product,
      d.revision,
      d.nodes.block ?? '-',
      d.nodes.sg ?? '-',
      d.nodes.bsg ?? '-',
    ]);
    for (const line of formatTable(rows)) printLine(io, line);
    return 0;
  },
};
