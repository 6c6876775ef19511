/**
 * Building and decoding CDBs with the tables in {@link CDB_SPECS}.
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { MalformedDataError } from '../errors/malformed-data-error.js';
import { hexByte } from '../format/index.js';
import { CDB_SPECS, type CdbSpec } from './commands.js';
import { decodeTable, encodeTable, type FieldInput, type FieldValues, isBlobField } from './field-table.js';

const BY_KEY: ReadonlyMap<string, CdbSpec> = new Map(CDB_SPECS.map((s) => [s.key, s]));
const BY_OPCODE: ReadonlyMap<number, readonly CdbSpec[]> = (() => {
  const m = new Map<number, CdbSpec[]>();
  for (const s of CDB_SPECS) m.set(s.opcode, [...(m.get(s.opcode) ?? []), s]);
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

/** The table for a key (`read10`) or command name (`READ(10)`); InvalidFieldError when unknown. */
export function cdbSpec(command: string): CdbSpec {
  const s = BY_KEY.get(command) ?? CDB_SPECS.find((c) => c.name.toLowerCase() === command.toLowerCase());
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
 * `fields` (absent = 0). `buildCdb('read10', { lba: 0x1234, transferLength: 8 })`.
 */
export function buildCdb(command: string | CdbSpec, fields: FieldInput = {}): Uint8Array {
  const s = typeof command === 'string' ? cdbSpec(command) : command;
  if (fields.operationCode !== undefined || fields.serviceAction !== undefined) {
    const name = fields.operationCode !== undefined ? 'operationCode' : 'serviceAction';
    throw new InvalidFieldError(`${s.name}.${name}`, 'is fixed by the command table', fields[name]);
  }
  const cdb = encodeTable(s, fields);
  cdb[0] = s.opcode;
  if (s.serviceAction !== undefined) cdb[1] = ((cdb[1] ?? 0) & 0xe0) | s.serviceAction;
  return cdb;
}

/** A decoded CDB. */
export interface DecodedCdb {
  /** The table that matched. */
  readonly spec: CdbSpec;
  /** Field values by name (operationCode included). */
  readonly fields: FieldValues;
}

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
  return { spec: s, fields: decodeTable(s, cdb, 0, s.length) };
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
    if (isBlobField(f)) {
      usage.fill(0xff, f.byte, f.byte + f.length);
      continue;
    }
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
