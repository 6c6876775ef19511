/**
 * `sgv4 list`: every SCSI logical unit with its sg, bsg and block nodes (like `lsscsi -g`), from
 * sysfs; `sgv4 list iscsi://host[:port]`: the targets an iSCSI portal offers (SendTargets
 * discovery, like `iscsi-ls`).
 */
import { list } from '@sgv4/bsg';
import { IscsiSession, parseIscsiPortalUrl } from '@sgv4/iscsi';
import type { Command } from '../framework/command.js';
import { formatTable, printJson, printLine } from '../framework/output.js';

export const listCommand: Command = {
  name: 'list',
  summary:
    "list SCSI devices with their sg, bsg and block nodes paired (like lsscsi -g), or an iSCSI portal's targets",
  usage: '[iscsi://[user[%password]@]host[:port]] [--json]',
  details: [
    'With an iscsi:// portal: logs in for discovery (SendTargets=All, RFC 7143 Appendix C) and lists each',
    'target with its portals and the iscsi:// URL of its LUN 0, like iscsi-ls. --json: {"portal": "host:port",',
    '"targets": [{targetName, portals [{host, port, portalGroupTag?}], url}]}.',
    'Without it:',
    'Reads sysfs only (no device is opened, so any user can run it): /sys/class/scsi_device, each',
    "device's vendor/model/rev/type, its scsi_generic, block and bsg nodes, and the VPD pages 0x80 and",
    '0x83 the kernel cached (vpd_pg80, vpd_pg83).',
    '--json: {"devices": [{address ("H:C:T:L"), hctl {host, channel, target, lun (decimal string)},',
    'nodes {sg?, bsg?, block?}, peripheralType, peripheralTypeName, vendor, product, revision, serial?,',
    'identifiers [{association, type, typeName, codeSet, protocolIdentifier?, value, bytes (hex)}],',
    'queueDepth?, state?}]}',
  ].join('\n'),
  json: true,
  positionals: { min: 0, max: 1 },
  async run(invocation, io) {
    const [portalUrl] = invocation.positionals;
    if (portalUrl !== undefined) {
      const portal = parseIscsiPortalUrl(portalUrl, { env: process.env });
      const targets = await IscsiSession.discover({
        host: portal.host,
        port: portal.port,
        ...(portal.credentials ? { credentials: portal.credentials } : {}),
        ...(portal.targetCredentials ? { targetCredentials: portal.targetCredentials } : {}),
      });
      const host = portal.host.includes(':') ? `[${portal.host}]` : portal.host;
      const rows = targets.map((t) => ({ ...t, url: `iscsi://${host}:${portal.port}/${t.targetName}/0` }));
      if (invocation.json) {
        printJson(io, { portal: `${host}:${portal.port}`, targets: rows });
        return 0;
      }
      if (rows.length === 0) printLine(io, `${host}:${portal.port}: no targets offered`);
      for (const t of rows) {
        printLine(
          io,
          `${t.targetName}  ${t.portals.map((p) => `${p.host}:${p.port}${p.portalGroupTag !== undefined ? `,${p.portalGroupTag}` : ''}`).join(' ') || `${host}:${portal.port}`}`,
        );
      }
      return 0;
    }
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
