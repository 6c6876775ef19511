/**
 * Building and decoding CDBs with the tables in {@link CDB_SPECS}.
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { MalformedDataError } from '../errors/malformed-data-error.js';
import { hexByte } from '../format/index.js';
import {
  CDB_SPECS,
  type CdbCommand,
  type CdbInput,
  type CdbKey,
  type CdbSpec,
  type CdbTable,
  type CdbTableOf,
} from './commands.js';
import { type DecodedFields, decodeTable, encodeTable, type FieldInput } from './field-table.js';

// CDB_SPECS lists exactly the tables of the CdbTable union (commands.ts declares both).
const BUILT_IN = CDB_SPECS as readonly CdbTable[];
const BY_KEY: ReadonlyMap<string, CdbTable> = new Map(BUILT_IN.map((s) => [s.key, s]));
const BY_OPCODE: ReadonlyMap<number, readonly CdbTable[]> = (() => {
  const m = new Map<number, CdbTable[]>();
  for (const s of BUILT_IN) m.set(s.opcode, [...(m.get(s.opcode) ?? []), s]);
  return m;
})();

/**
 * CDB length implied by the opcode's group code (SPC-6 4.2.5.1, the kernel's
 * `COMMAND_SIZE()` in include/scsi/scsi_common.h: groups 0..7 -> 6, 10, 10, 12(reserved),
 * 16, 12, 10(vendor), 10(vendor)); 0x7f variable-length CDBs take their length from byte 7.
 */
export function cdbLengthForOpcode(opcode: number): number {
  const sizes = [6, 10, 10, 12, 16, 12, 10, 10];
  return sizes[(opcode >> 5) & 7] ?? 10;
}

/**
 * The table for a key (`read10`) or command name (`READ(10)`, any case); InvalidFieldError
 * when unknown. A literal key or name gives that command's table type.
 */
export function cdbSpec<C extends CdbCommand>(command: C): CdbTableOf<C>;
/** The table for a key or name known only at run time (the CLI's argument). */
export function cdbSpec(command: string): CdbTable;
export function cdbSpec(command: string): CdbTable {
  const s = BY_KEY.get(command) ?? BUILT_IN.find((c) => c.name.toLowerCase() === command.toLowerCase());
  if (s === undefined) {
    throw new InvalidFieldError(
      'command',
      `must be one of ${CDB_SPECS.map((c) => c.key).join(', ')}`,
      command,
    );
  }
  return s;
}

/**
 * Builds a CDB: OPERATION CODE (and SERVICE ACTION) from the table, other fields from
 * `fields` (absent = 0). `buildCdb('read10', { lba: 0x1234, transferLength: 8 })`: the
 * command's key, name or table fixes which fields and values the type checker accepts.
 * Values are checked again at run time ({@link InvalidFieldError} naming `<command>.<field>`).
 */
export function buildCdb<C extends CdbCommand>(
  command: C | CdbTableOf<C>,
  fields?: NoInfer<CdbInput<C>>,
): Uint8Array;
/**
 * Builds a CDB from a command and fields known only at run time (a `string`, not a literal,
 * or a table typed as {@link CdbSpec}): every name and value is checked at run time.
 */
export function buildCdb<S extends string | CdbSpec>(
  command: S & (string extends (S extends CdbSpec ? S['key'] : S) ? unknown : never),
  fields?: FieldInput,
): Uint8Array;
export function buildCdb(command: string | CdbSpec, fields: FieldInput = {}): Uint8Array {
  return encodeCdb(typeof command === 'string' ? cdbSpec(command) : command, fields);
}

/**
 * Encodes a CDB with any {@link CdbSpec} (a built-in table or one of your own): OPERATION
 * CODE and SERVICE ACTION from the table, the other fields from `fields`, all checked at run
 * time. {@link buildCdb} is the typed front end for the built-in commands.
 */
export function encodeCdb(s: CdbSpec, fields: FieldInput = {}): Uint8Array {
  if (fields.operationCode !== undefined || fields.serviceAction !== undefined) {
    const name = fields.operationCode !== undefined ? 'operationCode' : 'serviceAction';
    throw new InvalidFieldError(`${s.name}.${name}`, 'is fixed by the command table', fields[name]);
  }
  const cdb = encodeTable(s, fields);
  cdb[0] = s.opcode;
  if (s.serviceAction !== undefined) cdb[1] = ((cdb[1] ?? 0) & 0xe0) | s.serviceAction;
  return cdb;
}

/** A CDB decoded with table `T`. */
export interface DecodedCdbOf<T extends CdbTable> {
  /** The command's key: the discriminant (`if (d.key === 'read10') d.fields.lba`). */
  readonly key: T['key'];
  /** OPERATION CODE. */
  readonly opcode: T['opcode'];
  /** SERVICE ACTION, for the commands that have one (undefined otherwise). */
  readonly serviceAction: T['serviceAction'];
  /** The table that matched. */
  readonly spec: T;
  /** The fields, typed by the table (operationCode included). */
  readonly fields: DecodedFields<T>;
}

/**
 * What {@link decodeCdb} returns: a union over the built-in commands, discriminated by
 * `key` (or by `opcode` and then `serviceAction`), so narrowing gives typed fields.
 */
export type DecodedCdb = { [K in CdbKey]: DecodedCdbOf<CdbTableOf<K>> }[CdbKey];

/**
 * Finds the table for a CDB by opcode (and service action) and decodes it. Throws
 * {@link MalformedDataError} when the opcode has no table or the CDB is shorter than the
 * command's length.
 */
export function decodeCdb(cdb: Uint8Array): DecodedCdb {
  MalformedDataError.require('CDB', cdb, 0, 1);
  const opcode = cdb[0] ?? 0;
  const candidates = BY_OPCODE.get(opcode) ?? [];
  const sa = (cdb[1] ?? 0) & 0x1f;
  const s = candidates.find((c) => c.serviceAction === undefined || c.serviceAction === sa);
  if (s === undefined) {
    throw new MalformedDataError({
      what: 'CDB',
      offset: candidates.length > 0 ? 1 : 0,
      needed: candidates.length > 0 ? (candidates[0]?.serviceAction ?? 0) : 0,
      available: candidates.length > 0 ? sa : opcode,
      reason:
        candidates.length > 0
          ? `service action 0x${sa.toString(16)} of opcode 0x${opcode.toString(16)} has no field table`
          : `opcode ${hexByte(opcode)} has no field table`,
    });
  }
  MalformedDataError.require(s.name, cdb, 0, s.length);
  // Every field fits in the table's length (checked above), so all are present; `s` is one
  // table of the union and the fields are the ones it declares, so the pairing is exact.
  return {
    key: s.key,
    opcode: s.opcode,
    serviceAction: s.serviceAction,
    spec: s,
    fields: decodeTable(s, cdb, 0, s.length),
  } as DecodedCdb;
}

/**
 * CDB USAGE DATA of REPORT SUPPORTED OPERATION CODES, one-command format (SPC-6 6.35.4),
 * derived from the command's field table: byte 0 is the OPERATION CODE; every other bit is 1
 * where a field of the table lies (the device server evaluates it), with the SERVICE ACTION
 * field carrying the service action itself. The CONTROL byte reports `controlUsage` (default
 * 0x04: NACA is evaluated, because a device without NormACA must reject NACA = 1, SAM-6 5.x).
 */
export function cdbUsageData(spec: CdbSpec, controlUsage = 0x04): Uint8Array {
  const usage = new Uint8Array(spec.length);
  for (const f of spec.fields) {
    if (f.name === 'operationCode' || f.name === 'serviceAction' || f.name === 'control') continue;
    // Set the field's bits: `width` bits ending at bit `bit` of the field's last byte.
    const bit = f.bit ?? 0;
    const lastByte = f.byte + Math.ceil((bit + f.width) / 8) - 1;
    for (let i = 0; i < f.width; i++) {
      const abs = bit + i; // bit index counted from the last byte's bit 0 upwards
      const byte = lastByte - Math.floor(abs / 8);
      usage[byte] = (usage[byte] ?? 0) | (1 << (abs % 8));
    }
  }
  usage[0] = spec.opcode;
  if (spec.serviceAction !== undefined) usage[1] = ((usage[1] ?? 0) & 0xe0) | spec.serviceAction;
  const control = spec.fields.find((f) => f.name === 'control');
  if (control !== undefined) usage[control.byte] = controlUsage;
  return usage;
}
