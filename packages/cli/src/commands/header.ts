/** `sgv4 header decode|encode`: the 160-byte struct sg_io_v4, from hex to fields and back. */
import {
  createSgIoV4Header,
  decodeSgIoV4,
  encodeSgIoV4,
  InvalidFieldError,
  SG_IO_V4_LAYOUT,
  SG_IO_V4_SIZE,
  type SgIoV4Header,
} from '@sgv4/core';
import type { Command } from '../framework/command.js';
import { parseHexArguments } from '../framework/hex-arguments.js';
import type { Invocation } from '../framework/invocation.js';
import { formatTable, printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

const formatOption = {
  format: {
    type: 'string',
    valueName: 'FMT',
    description: 'header format: v4 (struct sg_io_v4, 160 bytes; the only one so far, and the default)',
  },
} as const;

function requireV4(invocation: Invocation): void {
  invocation.choice('format', ['v4'] as const, 'v4');
}

function formatValue(v: number | bigint, cName: string): string {
  const pointerLike = typeof v === 'bigint' || cName === 'flags' || cName === 'info' || cName === 'guard';
  return pointerLike && v !== 0 && v !== 0n ? `0x${v.toString(16)}` : String(v);
}

const decodeCommand: Command = {
  name: 'decode',
  summary: 'decode 160 hex bytes of a struct sg_io_v4 into its fields',
  usage: '<hex...> [--format v4] [--json]',
  details:
    'Prints every field with its offset in bsg.h order. --json prints {"format":"v4","size":160,"fields":{...}}\n' +
    'with the camelCase field names of SgIoV4Header (guard, protocol, ..., generatedTag, spareOut, padding);\n' +
    '__u64 fields (request, requestTag, response, doutXferp, dinXferp, usrPtr, generatedTag) are decimal strings.',
  options: formatOption,
  json: true,
  positionals: { min: 1, max: 200 },
  run(invocation, io) {
    requireV4(invocation);
    const bytes = parseHexArguments('the header', invocation.positionals);
    if (bytes.length !== SG_IO_V4_SIZE) {
      throw new UsageError(`a struct sg_io_v4 is ${SG_IO_V4_SIZE} bytes, got ${bytes.length}`);
    }
    const header = decodeSgIoV4(bytes);
    if (invocation.json) {
      printJson(io, { format: 'v4', size: SG_IO_V4_SIZE, fields: header });
      return 0;
    }
    const rows = [['offset', 'field', 'value']];
    for (const f of SG_IO_V4_LAYOUT) {
      rows.push([String(f.offset), f.cName, formatValue(header[f.name], f.cName)]);
    }
    for (const line of formatTable(rows)) printLine(io, line);
    return 0;
  },
};

function parseFieldValue(name: string, type: 's32' | 'u32' | 'u64', raw: unknown): number | bigint {
  if (type === 'u64') {
    if (typeof raw === 'number' && Number.isSafeInteger(raw)) return BigInt(raw);
    if (typeof raw === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(raw.trim())) return BigInt(raw.trim());
    throw new InvalidFieldError(name, 'must be an integer or a decimal/0x-hex string', raw);
  }
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(raw.trim())) return Number(raw.trim());
  throw new InvalidFieldError(name, 'must be an integer', raw);
}

const encodeCommand: Command = {
  name: 'encode',
  summary: 'encode a JSON object of sg_io_v4 fields into 160 hex bytes',
  usage: "'<json>' [--format v4]",
  details:
    'The JSON object uses the camelCase field names that `sgv4 header decode --json` prints; absent fields are 0\n' +
    "and guard defaults to 'Q' (0x51). __u64 fields accept numbers or decimal/0x-hex strings.\n" +
    'Example: sgv4 header encode \'{"requestLen":6,"dinXferLen":96,"timeout":5000}\'',
  options: formatOption,
  positionals: { min: 1, max: 1 },
  run(invocation, io) {
    requireV4(invocation);
    let parsed: unknown;
    try {
      parsed = JSON.parse(invocation.positionals[0] ?? '');
    } catch (error) {
      throw new UsageError(`the fields must be a JSON object: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError('the fields must be a JSON object');
    }
    const partial: Record<string, number | bigint> = {};
    for (const [name, raw] of Object.entries(parsed)) {
      const layout = SG_IO_V4_LAYOUT.find((f) => f.name === name);
      if (layout === undefined) {
        throw new InvalidFieldError(
          name,
          'is not a struct sg_io_v4 field (see sgv4 header decode --json)',
          raw,
        );
      }
      partial[name] = parseFieldValue(name, layout.type, raw);
    }
    const bytes = encodeSgIoV4(createSgIoV4Header(partial as Partial<SgIoV4Header>));
    printLine(io, Buffer.from(bytes).toString('hex'));
    return 0;
  },
};

export const headerCommand: Command = {
  name: 'header',
  summary: 'decode or encode a struct sg_io_v4 header',
  subcommands: [decodeCommand, encodeCommand],
};
