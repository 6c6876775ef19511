/**
 * `sgv4 raw <device> <cdb-hex...>`: one CDB through the native addon, like sg3_utils'
 * sg_raw. sg_io_v4 on bsg, sg_io_hdr (v3) on sg and block devices (the addon
 * down-converts the canonical v4 header).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  createSgIoV4Header,
  decodeSense,
  exitStatusForScsiStatus,
  exitStatusForSense,
  formatSenseLine,
  scsiStatusName,
} from '@sgv4/core';
import { openScsiHandle } from '@sgv4/native';
import type { Command } from '../framework/command.js';
import { parseHexArguments } from '../framework/hex-arguments.js';
import { printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

const SENSE_LENGTH = 64;
/** sg_raw's default (60 s), in milliseconds. */
const DEFAULT_TIMEOUT_MS = 60_000;
/** Data-in ceiling: the sg driver refuses dxfer_len >= 256 MiB (EINVAL). */
const MAX_DATA_IN = 256 * 1024 * 1024 - 1;

/** Hex dump lines: offset, 16 bytes, printable ASCII (as sg_raw's dStrHex). */
function hexDump(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(` ${at.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export const rawCommand: Command = {
  name: 'raw',
  summary: 'send one raw CDB to a device through the native addon (like sg_raw)',
  usage: '<device> <cdb-hex...> [--in LEN | --out FILE] [--save FILE] [--timeout MS] [--json]',
  details:
    'Sends the CDB with SG_IO: sg_io_v4 on /dev/bsg/*, sg_io_hdr (v3) on /dev/sg* and block devices. Prints the\n' +
    'SCSI status, the decoded sense, the residual, the duration and the data-in bytes (hex dump, or --save FILE).\n' +
    'Exit status: 0 on GOOD, the sg3_utils category for a SCSI status or sense key, 50+errno for an OS error.\n' +
    '--json fields: device, nodeKind ("sg"|"bsg"|"block"|"other"), abi ("v4"|"v3"), cdb (hex), direction\n' +
    '("in"|"out"|"none"), requested (bytes), transferred (bytes), residual, status, statusName, transportStatus,\n' +
    'driverStatus, info, durationMs, sense (hex, "" when none), senseLine (when sense), data (hex, data-in only,\n' +
    'absent with --save), savedTo (with --save).\n' +
    'Examples: sgv4 raw /dev/sg0 12 00 00 00 60 00 --in 96        (INQUIRY)\n' +
    '          sgv4 raw /dev/bsg/0:0:0:0 25 00 00 00 00 00 00 00 00 00 --in 8   (READ CAPACITY(10))',
  json: true,
  positionals: { min: 2, max: 260 },
  options: {
    in: { type: 'string', valueName: 'LEN', description: 'read LEN bytes from the device (data-in)' },
    out: { type: 'string', valueName: 'FILE', description: "send FILE's bytes to the device (data-out)" },
    save: {
      type: 'string',
      valueName: 'FILE',
      description: 'write the data-in bytes to FILE instead of a hex dump',
    },
    timeout: {
      type: 'string',
      valueName: 'MS',
      description: `command timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
    },
  },
  async run(invocation, io) {
    const [device, ...cdbArgs] = invocation.positionals;
    if (device === undefined) throw new UsageError('<device> is required');
    const cdb = parseHexArguments('<cdb-hex>', cdbArgs, 260);
    if (cdb.length < 6 || cdb.length > 252)
      throw new UsageError(`the CDB must be 6..252 bytes, got ${cdb.length}`);
    const inLength = invocation.integer('in', { min: 0, max: MAX_DATA_IN });
    const outFile = invocation.string('out');
    const saveFile = invocation.string('save');
    if (inLength !== undefined && outFile !== undefined)
      throw new UsageError('--in and --out exclude each other');
    if (saveFile !== undefined && inLength === undefined) throw new UsageError('--save needs --in');
    const timeout = invocation.integer('timeout', { min: 0, max: 0xffff_ffff }, DEFAULT_TIMEOUT_MS);
    const dataOut = outFile === undefined ? undefined : Uint8Array.from(readFileSync(outFile));
    const dataIn = inLength === undefined || inLength === 0 ? undefined : new Uint8Array(inLength);
    const sense = new Uint8Array(SENSE_LENGTH);

    const handle = openScsiHandle(device, { readWrite: true });
    let result: Awaited<ReturnType<typeof handle.sgIo>>;
    try {
      result = await handle.sgIo({
        header: createSgIoV4Header({
          requestLen: cdb.length,
          maxResponseLen: SENSE_LENGTH,
          dinXferLen: dataIn?.length ?? 0,
          doutXferLen: dataOut?.length ?? 0,
          timeout,
        }),
        cdb,
        sense,
        ...(dataIn ? { dataIn } : {}),
        ...(dataOut ? { dataOut } : {}),
      });
    } finally {
      await handle.close();
    }

    const direction = dataIn ? 'in' : dataOut ? 'out' : 'none';
    const requested = dataIn?.length ?? dataOut?.length ?? 0;
    const residual = dataIn ? result.dinResid : dataOut ? result.doutResid : 0;
    const transferred = Math.max(0, requested - residual);
    const senseBytes = sense.subarray(0, result.responseLen);
    const decoded = senseBytes.length > 0 ? decodeSense(senseBytes) : undefined;
    const received = dataIn?.subarray(0, transferred);
    if (received && saveFile !== undefined) writeFileSync(saveFile, received);
    const abi = handle.kind === 'bsg' ? 'v4' : 'v3';

    if (invocation.json) {
      printJson(io, {
        device,
        nodeKind: handle.kind,
        abi,
        cdb: toHex(cdb),
        direction,
        requested,
        transferred,
        residual,
        status: result.deviceStatus,
        statusName: scsiStatusName(result.deviceStatus),
        transportStatus: result.transportStatus,
        driverStatus: result.driverStatus,
        info: result.info,
        durationMs: result.duration,
        sense: toHex(senseBytes),
        ...(decoded ? { senseLine: formatSenseLine(decoded) } : {}),
        ...(received && saveFile === undefined ? { data: toHex(received) } : {}),
        ...(saveFile !== undefined ? { savedTo: saveFile } : {}),
      });
    } else {
      printLine(io, `${device} (${handle.kind}, SG_IO ${abi}): cdb ${toHex(cdb)}`);
      printLine(
        io,
        `SCSI status: ${scsiStatusName(result.deviceStatus)} (0x${result.deviceStatus.toString(16)})`,
      );
      if (result.transportStatus !== 0 || result.driverStatus !== 0) {
        printLine(
          io,
          `transport status 0x${result.transportStatus.toString(16)}, driver status 0x${result.driverStatus.toString(16)}`,
        );
      }
      if (decoded) printLine(io, `sense: ${formatSenseLine(decoded)}`);
      printLine(io, `data ${direction}: ${requested} bytes requested, residual ${residual}`);
      printLine(io, `duration: ${result.duration} ms`);
      if (received && saveFile !== undefined) printLine(io, `saved ${received.length} bytes to ${saveFile}`);
      else if (received) for (const line of hexDump(received)) printLine(io, line);
    }
    if (decoded) return exitStatusForSense(decoded);
    return exitStatusForScsiStatus(result.deviceStatus);
  },
};
