/**
 * `sgv4 perm`: would the kernel (or the sgv4 proposal) let this CDB through? Prints the
 * permission decision and its explanation, or a table in the cmdfilter format.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { open } from '@sgv4/bsg';
import {
  BUILT_IN_PERMISSION_TABLES,
  decidePermission,
  ExitStatus,
  errnoFromName,
  exitStatusForErrno,
  explainPermission,
  formatCmdFilterDocument,
  hexByte,
  OsError,
  type PermissionDecision,
  type PermissionInterface,
  type PermissionOpenMode,
  type PermissionTable,
  parseCmdFilterDocument,
} from '@sgv4/core';
import type { Command, CommandIO } from '../framework/command.js';
import { parseHexArguments } from '../framework/hex-arguments.js';
import type { Invocation } from '../framework/invocation.js';
import { parseIntegerArgument } from '../framework/invocation.js';
import { printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

const MODES: Readonly<Record<string, PermissionOpenMode>> = {
  ro: 'read-only',
  wo: 'write-only',
  rw: 'read-write',
};
const IFACES: readonly PermissionInterface[] = ['sg', 'bsg', 'block'];

/** `--table`: a built-in table name, or a cmdfilter document file. */
function loadTable(spec: string): PermissionTable {
  const builtIn = BUILT_IN_PERMISSION_TABLES.find((t) => t.name === spec);
  if (builtIn) return builtIn;
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (error) {
    const os = OsError.fromNodeError(error, 'open');
    if (os) throw os;
    throw error;
  }
  return parseCmdFilterDocument(text, basename(spec));
}

function decisionRecord(d: PermissionDecision, explanation: string): Record<string, unknown> {
  const ata = d.ata;
  return {
    allowed: d.allowed,
    errno: d.errno ?? null,
    rule: d.rule,
    filtered: d.filtered,
    table: d.table,
    policy: d.policy,
    interface: d.request.iface,
    openMode: d.request.openMode,
    capSysRawio: d.request.capSysRawio,
    deviceType: d.request.deviceType,
    submission: d.request.submission,
    partition: d.request.partition,
    command: {
      opcode: hexByte(d.command.opcode),
      serviceAction:
        d.command.serviceAction === undefined ? null : `0x${d.command.serviceAction.toString(16)}`,
      name: d.command.name,
      class: d.commandClass,
    },
    match: d.match,
    ata: ata
      ? {
          form: ata.command.form,
          protocol: ata.command.protocol,
          protocolName: ata.command.protocolName,
          command: hexByte(ata.command.command),
          features: `0x${ata.command.features.toString(16)}`,
          count: ata.command.count,
          lba: ata.command.lba,
          device: hexByte(ata.command.device),
          name: ata.classification.entry.name,
          class: ata.classification.commandClass,
          reason: ata.classification.reason ?? null,
          decisive: ata.decisive,
        }
      : null,
    explanation,
  };
}

function printTable(invocation: Invocation, io: CommandIO, table: PermissionTable): number {
  if (invocation.json) {
    printJson(io, {
      name: table.name,
      description: table.description,
      readTable: table.readTable().map((code) => hexByte(code)),
      writeTable: table.writeTable().map((code) => hexByte(code)),
      refinements: table.refinements().map((e) => ({
        opcode: hexByte(e.opcode),
        serviceAction: e.serviceAction === undefined ? null : `0x${e.serviceAction.toString(16)}`,
        deviceType: e.deviceType ?? null,
        name: e.name,
        class: e.commandClass,
      })),
    });
  } else {
    io.stdout.write(formatCmdFilterDocument(table));
  }
  return ExitStatus.CLEAN;
}

function printDecision(
  invocation: Invocation,
  io: CommandIO,
  decision: PermissionDecision,
  where?: string,
): number {
  const explanation = explainPermission(decision);
  if (invocation.json) {
    printJson(io, {
      ...(where !== undefined ? { device: where } : {}),
      ...decisionRecord(decision, explanation),
    });
  } else {
    const verdict = decision.allowed ? 'ALLOWED' : `DENIED (${decision.errno})`;
    const sa = decision.command.serviceAction;
    printLine(
      io,
      `${verdict}  ${decision.command.name} (${hexByte(decision.command.opcode)}${sa === undefined ? '' : `/${hexByte(sa)}`})`,
    );
    const r = decision.request;
    printLine(
      io,
      `  node: ${where !== undefined ? `${where}, ` : ''}${r.iface} opened ${r.openMode}${r.submission === 'write' ? ', write(2)' : ', SG_IO'}${r.partition ? ' (partition)' : ''}, CAP_SYS_RAWIO ${r.capSysRawio ? 'yes' : 'no'}, device type ${r.deviceType}`,
    );
    printLine(
      io,
      `  table: ${decision.table}, policy ${decision.policy}, class ${decision.commandClass} (matched by ${decision.match}), rule ${decision.rule}`,
    );
    const ata = decision.ata;
    if (ata) {
      printLine(
        io,
        `  ATA: ${ata.command.form} ${ata.classification.entry.name} (command ${hexByte(ata.command.command)}, features 0x${ata.command.features.toString(16)}, protocol ${ata.command.protocol} ${ata.command.protocolName}, count ${ata.command.count}, LBA ${ata.command.lba}) -> ${ata.classification.commandClass}${ata.decisive ? '' : ' (not consulted by policy kernel)'}`,
      );
    }
    printLine(io, explanation);
  }
  return decision.allowed
    ? ExitStatus.CLEAN
    : exitStatusForErrno(errnoFromName(decision.errno ?? 'EPERM') ?? 1);
}

const HANDLE_FIELDS = ['mode', 'iface', 'cap-sys-rawio', 'device-type', 'partition', 'sg-write'] as const;

/** `--device DEV`: the decision the device API's pre-check makes on that open handle. */
async function decideForDevice(
  invocation: Invocation,
  io: CommandIO,
  cdb: Uint8Array,
  location: string,
  tableSpec: string | undefined,
): Promise<number> {
  const clash = HANDLE_FIELDS.find((f) => invocation.string(f) !== undefined || invocation.flag(f));
  if (clash !== undefined)
    throw new UsageError(
      `--${clash} contradicts --device (the open handle decides it)`,
      ExitStatus.CONTRADICT,
    );
  const policy = invocation.choice('policy', ['kernel', 'ata-aware'] as const, 'kernel');
  const device = await open(location, {
    readOnly: invocation.flag('readonly'),
    permissionCheck: {
      ...(policy ? { policy } : {}),
      ...(tableSpec !== undefined ? { table: loadTable(tableSpec) } : {}),
    },
  });
  let decision: PermissionDecision | undefined;
  try {
    decision = device.checkPermission(cdb);
  } finally {
    await device.close();
  }
  if (decision === undefined) {
    if (invocation.json)
      printJson(io, {
        device: location,
        kind: device.kind,
        allowed: true,
        filtered: false,
        explanation: `no kernel command filter applies to ${device.kind}`,
      });
    else
      printLine(
        io,
        `ALLOWED  ${location} (${device.kind}): no kernel command filter applies to this transport`,
      );
    return ExitStatus.CLEAN;
  }
  return printDecision(invocation, io, decision, location);
}

/** `sgv4 perm`: the permission decision for a CDB, or a table in the cmdfilter format. */
export const permCommand: Command = {
  name: 'perm',
  summary: 'predict whether sg, bsg or block SG_IO would allow a CDB (permission tables)',
  usage:
    '<cdb-hex...> --mode ro|wo|rw --iface sg|bsg|block [options]  |  <cdb-hex...> --device DEV [--readonly]  |  --table NAME|FILE --print',
  details: [
    'Decides as Linux 6.1 scsi_cmd_allowed() and its callers do (policy kernel), or as the sgv4',
    'proposal does (policy ata-aware: service actions, device type and the ATA command inside',
    'ATA PASS-THROUGH decide), and prints the decision and one sentence saying what to change.',
    '',
    'Examples:',
    '  sgv4 perm 12 00 00 00 24 00 --mode ro --iface bsg',
    '  sgv4 perm 2a000000000000000100 --mode ro --iface sg',
    '  sgv4 perm 85 08 0e 00 00 00 01 00 00 00 00 00 00 00 ec 00 --mode rw --iface bsg --policy ata-aware',
    '  sgv4 perm --table blk-filter-5.14 --print',
    '  sgv4 perm 2a000000000000000100 --device /dev/sg0 --readonly',
    '',
    "With --device DEV the node kind, open mode (read-write unless --readonly), the caller's CAP_SYS_RAWIO",
    "and the device's peripheral type come from opening DEV, exactly as the device API's pre-check decides",
    'before it submits; --mode, --iface, --cap-sys-rawio, --device-type, --partition and --sg-write then',
    'contradict it (exit 31). A device without a kernel command filter (e.g. iSCSI) prints so and exits 0.',
    '',
    `Tables: ${BUILT_IN_PERMISSION_TABLES.map((t) => t.name).join(', ')}, or a file in the cmdfilter format`,
    '(name:, base:, read_table:, write_table: lines; see --print). Default: linux-6.1 for policy kernel,',
    'sgv4-proposal for ata-aware.',
    '',
    'Exit status: 0 when allowed; when refused, the status the real call would give (51 EPERM,',
    '59 EBADF, 75 ENOTTY).',
    '',
    'JSON (--json): allowed, errno (EPERM|EBADF|ENOTTY|null), rule, filtered, table, policy, interface,',
    'openMode, capSysRawio, deviceType, submission, partition, command {opcode, serviceAction, name,',
    'class}, match, ata {form, protocol, protocolName, command, features, count, lba, device, name,',
    'class, reason, decisive} or null, explanation. With --print: name, description, readTable,',
    'writeTable (hex strings), refinements [{opcode, serviceAction, deviceType, name, class}].',
  ].join('\n'),
  options: {
    mode: {
      type: 'string',
      valueName: 'ro|wo|rw',
      description: 'how the node is opened (O_RDONLY, O_WRONLY, O_RDWR)',
    },
    iface: {
      type: 'string',
      valueName: 'sg|bsg|block',
      description: 'the node: /dev/sgN, /dev/bsg/H:C:T:L or /dev/sdX',
    },
    'cap-sys-rawio': { type: 'boolean', description: 'the caller has CAP_SYS_RAWIO' },
    table: { type: 'string', valueName: 'NAME|FILE', description: 'a built-in table or a cmdfilter file' },
    policy: {
      type: 'string',
      valueName: 'kernel|ata-aware',
      description: 'decision policy (default kernel)',
    },
    'device-type': {
      type: 'string',
      valueName: 'N',
      description: 'peripheral device type 0..31 (default 0 disk; 5 CD/DVD, 6 scanner)',
    },
    partition: { type: 'boolean', description: 'block only: the node is a partition (/dev/sda1)' },
    'sg-write': { type: 'boolean', description: 'sg only: submit with write(2) instead of the SG_IO ioctl' },
    print: { type: 'boolean', description: 'print the --table in the cmdfilter format and exit' },
    device: {
      type: 'string',
      valueName: 'DEV',
      description: 'decide for this open device (its real node, mode and caps)',
    },
    readonly: { type: 'boolean', description: 'with --device: open it read-only' },
  },
  json: true,
  positionals: { min: 0, max: 260 },
  async run(invocation, io) {
    const tableSpec = invocation.string('table');
    if (invocation.flag('print')) {
      if (tableSpec === undefined) throw new UsageError('--print needs --table NAME|FILE');
      if (invocation.positionals.length > 0) {
        throw new UsageError('--print takes no <cdb-hex>', ExitStatus.CONTRADICT);
      }
      return printTable(invocation, io, loadTable(tableSpec));
    }
    const cdb = parseHexArguments('<cdb-hex>', invocation.positionals, 260);
    const deviceLocation = invocation.string('device');
    if (deviceLocation !== undefined) return decideForDevice(invocation, io, cdb, deviceLocation, tableSpec);
    if (invocation.flag('readonly')) throw new UsageError('--readonly needs --device');
    const modeWord = invocation.requireString('mode');
    const openMode = MODES[modeWord];
    if (openMode === undefined) throw new UsageError(`--mode must be one of ro, wo, rw (got '${modeWord}')`);
    const iface = invocation.choice('iface', IFACES);
    if (iface === undefined) throw new UsageError('--iface is required');
    const policy = invocation.choice('policy', ['kernel', 'ata-aware'] as const, 'kernel');
    const rawType = invocation.string('device-type');
    const deviceType =
      rawType === undefined ? 0 : parseIntegerArgument('--device-type', rawType, { min: 0, max: 31 });
    const decision = decidePermission({
      cdb,
      openMode,
      iface,
      capSysRawio: invocation.flag('cap-sys-rawio'),
      deviceType,
      ...(policy ? { policy } : {}),
      ...(tableSpec !== undefined ? { table: loadTable(tableSpec) } : {}),
      ...(invocation.flag('sg-write') ? { submission: 'write' as const } : {}),
      ...(invocation.flag('partition') ? { partition: true } : {}),
    });
    return printDecision(invocation, io, decision);
  },
};
