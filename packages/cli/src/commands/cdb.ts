/** `sgv4 cdb <hex...>` decodes a CDB with the field tables; `sgv4 cdb build <command> --field value...` builds one. */
import {
  CDB_SPECS,
  type CdbSpec,
  cdbSpec,
  decodeCdb,
  encodeCdb,
  type FieldInput,
  type FieldValues,
} from '@sgv4/core';
import type { Command, OptionSpec } from '../framework/command.js';
import { parseHexArguments } from '../framework/hex-arguments.js';
import { parseIntegerArgument } from '../framework/invocation.js';
import { formatTable, printJson, printLine } from '../framework/output.js';

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every settable field of every table, as one `--kebab-name VALUE` option each (built from the tables). */
const fieldOptions: Record<string, OptionSpec> = (() => {
  const options: Record<string, OptionSpec> = {};
  for (const spec of CDB_SPECS) {
    for (const f of spec.fields) {
      if (f.name === 'operationCode' || f.name === 'serviceAction') continue;
      const key = kebab(f.name);
      const existing = options[key];
      const users = existing ? `${existing.description.replace(/^field of /, '')}, ${spec.key}` : spec.key;
      options[key] = { type: 'string', valueName: 'N', description: `field of ${users}` };
    }
  }
  return options;
})();

const buildCommand: Command = {
  name: 'build',
  summary: 'build a CDB from its field table',
  usage: '<command> [--<field> VALUE ...] [--json]',
  details:
    `Commands: ${CDB_SPECS.map((s) => s.key).join(', ')}.\n` +
    'Fields are the table fields in kebab-case (--lba, --transfer-length, --fua 1); values are decimal or\n' +
    '0x-hex; absent fields are 0. A field the command does not have is an error naming it.\n' +
    '--json prints {"command","name","cdb" (hex),"fields":{...}} with the decoded fields (64-bit values as\n' +
    'decimal strings).\nExample: sgv4 cdb build read10 --lba 0x1234 --transfer-length 8',
  options: fieldOptions,
  json: true,
  positionals: { min: 1, max: 1 },
  run(invocation, io) {
    const spec: CdbSpec = cdbSpec(invocation.positionals[0] ?? '');
    const values: Record<string, bigint> = {};
    for (const [option] of Object.entries(fieldOptions)) {
      const raw = invocation.string(option);
      if (raw === undefined) continue;
      const name = option.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      const text = raw.trim();
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
        parseIntegerArgument(`--${option}`, raw, { min: 0, max: Number.MAX_SAFE_INTEGER });
      }
      values[name] = BigInt(text);
    }
    const field = (name: string, v: bigint): number | bigint => {
      const f = spec.fields.find((x) => x.name === name);
      return f && f.width <= 32 && v <= 0xffff_ffffn ? Number(v) : v;
    };
    const input: FieldInput = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, field(k, v)]));
    const cdb = encodeCdb(spec, input);
    if (invocation.json) {
      printJson(io, { command: spec.key, name: spec.name, cdb, fields: decodeCdb(cdb).fields });
    } else {
      printLine(io, Buffer.from(cdb).toString('hex'));
    }
    return 0;
  },
};

export const cdbCommand: Command = {
  name: 'cdb',
  summary: 'decode a CDB with the field tables, or build one (sgv4 cdb build)',
  usage: '<hex...> [--json]',
  details:
    'Finds the table by opcode (and service action) and prints each field. Exit status 97 when the opcode has\n' +
    'no table or the CDB is too short.\n' +
    '--json prints {"command","name","length","direction" ("none"|"in"|"out"),"fields":{...}}.\n' +
    'Example: sgv4 cdb 28 00 00 00 12 34 00 00 08 00',
  json: true,
  positionals: { min: 1, max: 40 },
  subcommands: [buildCommand],
  run(invocation, io) {
    const decoded = decodeCdb(parseHexArguments('the CDB', invocation.positionals));
    // Any command's table and fields: the printing below walks the table, whichever it is.
    const spec: CdbSpec = decoded.spec;
    const fields: FieldValues = decoded.fields;
    if (invocation.json) {
      printJson(io, {
        command: spec.key,
        name: spec.name,
        length: spec.length,
        direction: spec.direction,
        fields,
      });
      return 0;
    }
    printLine(io, `${spec.name} (${spec.length} bytes, data ${spec.direction})`);
    const rows = [['field', 'value', 'bits']];
    for (const f of spec.fields) {
      const v = fields[f.name];
      if (v === undefined) continue;
      const where = `byte ${f.byte}${f.bit > 0 || f.width < 8 ? ` bit ${f.bit}` : ''} width ${f.width}`;
      const shown =
        typeof v === 'number' || typeof v === 'bigint'
          ? v > 9
            ? `0x${v.toString(16)}`
            : String(v)
          : String(v);
      rows.push([f.name, shown, where]);
    }
    for (const line of formatTable(rows)) printLine(io, `  ${line}`);
    return 0;
  },
};
