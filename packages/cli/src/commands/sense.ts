/**
 * `sgv4 sense <hex...>`: decode sense data into one sg3_utils-style line, or fields with --json.
 * `sgv4 sense <device>`: fetch the device's pending sense data with REQUEST SENSE (like
 * sg_requests) and decode it the same way.
 */
import { decodeSense, formatSenseLine } from '@sgv4/core';
import {
  looksLikeDevice,
  openDevice,
  READONLY_OPTION,
  TIMEOUT_OPTION,
  timeoutOf,
} from '../device/open-device.js';
import type { Command } from '../framework/command.js';
import { parseHexArguments } from '../framework/hex-arguments.js';
import { printJson, printLine } from '../framework/output.js';

export const senseCommand: Command = {
  name: 'sense',
  summary: "decode SCSI sense data into one line, or fetch a device's with REQUEST SENSE",
  usage: '<hex...> | <device> [--desc] [--json]',
  details:
    'Prints e.g. "Medium Error: Unrecovered read error, lba 0x1234" (sense key, T10 ASC/ASCQ text, then the\n' +
    'INFORMATION field and the field pointer when present). Exit status 97 (malformed) when the bytes are not\n' +
    'sense data.\n' +
    'With a <device> (a path or emu:...) it sends REQUEST SENSE (--desc asks for descriptor format) and\n' +
    'decodes the answer; "no sense data" when the device returned none.\n' +
    '--json fields: format ("fixed"|"descriptor"), responseCode, current, senseKey, senseKeyName, asc, ascq,\n' +
    'ascText, information (decimal string, when valid), commandSpecificInformation, fieldReplaceableUnit,\n' +
    'senseKeySpecific ({kind,...}), filemark, endOfMedium, incorrectLength, overflow, descriptors\n' +
    '([{type,typeName,bytes (hex),fields}]), length, and line (the one-line summary); with a <device> also\n' +
    'device, or {device, sense: null} when there was none.\n' +
    'Examples: sgv4 sense 70 00 03 00 00 00 00 0a 00 00 00 00 11 00      sgv4 sense /dev/sg0',
  json: true,
  positionals: { min: 1, max: 260 },
  options: {
    desc: { type: 'boolean', description: 'with a device: ask for descriptor-format sense (DESC=1)' },
    timeout: TIMEOUT_OPTION,
    readonly: READONLY_OPTION,
  },
  async run(invocation, io) {
    const [first] = invocation.positionals as [string];
    if (invocation.positionals.length === 1 && looksLikeDevice(first)) {
      const timeoutMs = timeoutOf(invocation);
      const device = await openDevice(first, invocation, { identify: false });
      let sense: ReturnType<typeof decodeSense> | undefined;
      try {
        sense = await device.requestSense({
          descriptor: invocation.flag('desc'),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        });
      } finally {
        await device.close();
      }
      if (sense === undefined) {
        if (invocation.json) printJson(io, { device: first, sense: null });
        else printLine(io, `${first}: no sense data`);
        return 0;
      }
      const line = formatSenseLine(sense);
      if (invocation.json) printJson(io, { device: first, ...sense, line });
      else printLine(io, `${first}: ${line}`);
      return 0;
    }
    const bytes = parseHexArguments('the sense data', invocation.positionals);
    const sense = decodeSense(bytes);
    const line = formatSenseLine(sense);
    if (invocation.json) printJson(io, { ...sense, line });
    else printLine(io, line);
    return 0;
  },
};
