/** `sgv4 sense <hex...>`: decode sense data into one sg3_utils-style line, or fields with --json. */
import { decodeSense, formatSenseLine } from '@sgv4/core';
import type { Command } from '../framework/command.js';
import { parseHexArguments } from '../framework/hex-arguments.js';
import { printJson, printLine } from '../framework/output.js';

export const senseCommand: Command = {
  name: 'sense',
  summary: 'decode SCSI sense data (fixed or descriptor format) into one line',
  usage: '<hex...> [--json]',
  details:
    'Prints e.g. "Medium Error: Unrecovered read error, lba 0x1234" (sense key, T10 ASC/ASCQ text, then the\n' +
    'INFORMATION field and the field pointer when present). Exit status 97 (malformed) when the bytes are not\n' +
    'sense data.\n' +
    '--json fields: format ("fixed"|"descriptor"), responseCode, current, senseKey, senseKeyName, asc, ascq,\n' +
    'ascText, information (decimal string, when valid), commandSpecificInformation, fieldReplaceableUnit,\n' +
    'senseKeySpecific ({kind,...}), filemark, endOfMedium, incorrectLength, overflow, descriptors\n' +
    '([{type,typeName,bytes (hex),fields}]), length, and line (the one-line summary).\n' +
    'Example: sgv4 sense 70 00 03 00 00 00 00 0a 00 00 00 00 11 00',
  json: true,
  positionals: { min: 1, max: 260 },
  run(invocation, io) {
    const sense = decodeSense(parseHexArguments('the sense data', invocation.positionals));
    const line = formatSenseLine(sense);
    if (invocation.json) printJson(io, { ...sense, line });
    else printLine(io, line);
    return 0;
  },
};
