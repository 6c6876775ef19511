/**
 * `sgv4 raw <device> <cdb-hex...>`: one CDB, like sg3_utils' sg_raw, through the device API
 * (@sgv4/bsg): sg_io_v4 on bsg, sg_io_hdr (v3) on sg and block devices, or any registered
 * transport. Raw mode: a CHECK CONDITION is printed, not thrown, and the exit status is the
 * sg3_utils category of the whole outcome, host and driver bytes included.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  driverStatusName,
  formatSenseLine,
  hostStatusName,
  OsError,
  resultCategoryName,
  scsiStatusName,
} from '@sgv4/core';
import { exitStatusForResponse } from '../device/exit-status.js';
import { hexDump, toHex } from '../device/hex-dump.js';
import { openDevice, READONLY_OPTION, TIMEOUT_OPTION, timeoutOf } from '../device/open-device.js';
import type { Command } from '../framework/command.js';
import { parseHexArguments } from '../framework/hex-arguments.js';
import { printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

/** Data-in ceiling: the sg driver refuses dxfer_len >= 256 MiB (EINVAL). */
const MAX_DATA_IN = 256 * 1024 * 1024 - 1;

const ABI: Readonly<Record<string, string>> = { bsg: 'v4', sg: 'v3', block: 'v3' };

export const rawCommand: Command = {
  name: 'raw',
  summary: 'send one raw CDB to a device (like sg_raw); never fails on CHECK CONDITION, reports it',
  usage: '<device> <cdb-hex...> [--in LEN | --out FILE] [--save FILE] [--timeout MS] [--readonly] [--json]',
  details:
    'Sends the CDB with SG_IO: sg_io_v4 on /dev/bsg/*, sg_io_hdr (v3) on /dev/sg* and block devices; also emu: and\n' +
    'any registered transport. Prints the SCSI status, host and driver status when set, the decoded sense, the\n' +
    'residual, the duration and the data-in bytes (hex dump, or --save FILE).\n' +
    'Exit status: sg3_utils category of the outcome (sg_err_category_new): 0 only for GOOD with clean host and\n' +
    'driver bytes; the sense key category for CHECK CONDITION; 33 for a timeout (DID_TIME_OUT, also with\n' +
    'status GOOD); 35 for other host/driver errors; 50+errno for an OS error; 51 when the permission model\n' +
    'or the kernel refuses the command (e.g. with --readonly).\n' +
    '--json fields: device, nodeKind ("sg"|"bsg"|"block"|"emu"|...), abi ("v4"|"v3"|"none"), cdb (hex),\n' +
    'direction ("in"|"out"|"none"), requested, transferred, residual (bytes), status, statusName,\n' +
    'transportStatus, transportStatusName, driverStatus, driverStatusName, category\n' +
    '("GOOD"|"STATUS"|"SENSE"|"TRANSPORT_ERR"), tag (decimal string), info, durationMs, sense (hex, "" when\n' +
    'none), senseLine (when sense), data (hex, data-in only, absent with --save), savedTo (with --save),\n' +
    'exitStatus.\n' +
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
    timeout: TIMEOUT_OPTION,
    readonly: READONLY_OPTION,
    'no-permission-check': {
      type: 'boolean',
      description:
        "skip the permission model's pre-check and let the kernel decide (its EPERM is still explained)",
    },
  },
  async run(invocation, io) {
    const [device, ...cdbArgs] = invocation.positionals;
    if (device === undefined) throw new UsageError('<device> is required');
    const cdb = parseHexArguments('<cdb-hex>', cdbArgs, 260);
    if (cdb.length < 6 || cdb.length > 32)
      throw new UsageError(`the CDB must be 6..32 bytes (Linux takes at most 32), got ${cdb.length}`);
    const inLength = invocation.integer('in', { min: 0, max: MAX_DATA_IN });
    const outFile = invocation.string('out');
    const saveFile = invocation.string('save');
    if (inLength !== undefined && outFile !== undefined)
      throw new UsageError('--in and --out exclude each other', 31);
    if (saveFile !== undefined && inLength === undefined) throw new UsageError('--save needs --in');
    const timeoutMs = timeoutOf(invocation);
    let dataOut: Uint8Array | undefined;
    if (outFile !== undefined) {
      try {
        dataOut = Uint8Array.from(readFileSync(outFile));
      } catch (error) {
        throw OsError.fromNodeError(error, 'open') ?? error;
      }
    }
    const dataIn = inLength === undefined || inLength === 0 ? undefined : new Uint8Array(inLength);

    const dev = await openDevice(device, invocation, {
      identify: false,
      permissionCheck: !invocation.flag('no-permission-check'),
    });
    let response: Awaited<ReturnType<typeof dev.submit>>;
    try {
      response = await dev.submit({
        cdb,
        ...(dataIn ? { dataIn } : {}),
        ...(dataOut ? { dataOut } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      });
    } finally {
      await dev.close();
    }

    const direction = dataIn ? 'in' : dataOut ? 'out' : 'none';
    const requested = dataIn?.length ?? dataOut?.length ?? 0;
    const residual = dataIn ? response.dinResid : dataOut ? response.doutResid : 0;
    const received = dataIn?.subarray(0, response.transferred);
    if (received && saveFile !== undefined) writeFileSync(saveFile, received);
    const abi = ABI[dev.kind] ?? 'none';
    const decoded = response.decodedSense;
    const exitStatus = exitStatusForResponse(response);

    if (invocation.json) {
      printJson(io, {
        device,
        nodeKind: dev.kind,
        abi,
        cdb: toHex(cdb),
        direction,
        requested,
        transferred: response.transferred,
        residual,
        status: response.status,
        statusName: response.statusName,
        transportStatus: response.hostStatus,
        transportStatusName: hostStatusName(response.hostStatus),
        driverStatus: response.driverStatus,
        driverStatusName: driverStatusName(response.driverStatus),
        category: resultCategoryName(response.category),
        tag: response.tag,
        info: response.info,
        durationMs: response.durationMs,
        sense: toHex(response.sense),
        ...(decoded ? { senseLine: formatSenseLine(decoded) } : {}),
        ...(received && saveFile === undefined ? { data: toHex(received) } : {}),
        ...(saveFile !== undefined ? { savedTo: saveFile } : {}),
        exitStatus,
      });
    } else {
      printLine(io, `${device} (${dev.kind}${abi === 'none' ? '' : `, SG_IO ${abi}`}): cdb ${toHex(cdb)}`);
      printLine(io, `SCSI status: ${scsiStatusName(response.status)} (0x${response.status.toString(16)})`);
      if (response.hostStatus !== 0 || response.driverStatus !== 0) {
        printLine(
          io,
          `host status: ${hostStatusName(response.hostStatus)} (0x${response.hostStatus.toString(16)}), driver status: ${driverStatusName(response.driverStatus)} (0x${response.driverStatus.toString(16)})`,
        );
      }
      if (decoded) printLine(io, `sense: ${formatSenseLine(decoded)}`);
      else if (response.sense.length > 0) printLine(io, `sense (undecodable): ${toHex(response.sense)}`);
      printLine(io, `data ${direction}: ${requested} bytes requested, residual ${residual}`);
      printLine(io, `duration: ${response.durationMs} ms`);
      if (received && saveFile !== undefined) printLine(io, `saved ${received.length} bytes to ${saveFile}`);
      else if (received) for (const line of hexDump(received)) printLine(io, line);
    }
    return exitStatus;
  },
};
