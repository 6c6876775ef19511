/**
 * A SCSI command permission table: per opcode (and, where one opcode carries several
 * commands, per service action or device type) a class and a name.
 * @module
 */

import { hexByte } from '../format/index.js';
import type { PermissionCommandClass, PermissionCommandEntry } from './command-class.js';
import { invalidPermissionField } from './permission-errors.js';
import { permissionServiceAction, SERVICE_ACTION_OPCODES } from './service-action.js';

/** What a table is built from. */
export interface PermissionTableSpec {
  /** Short name (`linux-6.1`), used by `sgv4 perm --table`. */
  readonly name: string;
  /** One sentence: where the table comes from. */
  readonly description: string;
  /**
   * Opcodes "anybody who can open the device" may send: the historic `read_ok` bitmap,
   * or the first group of cases in 6.1 `scsi_cmd_allowed()`.
   */
  readonly readOk: readonly number[];
  /** Opcodes allowed on a writable open: the historic `write_ok` bitmap. */
  readonly writeOk: readonly number[];
  /** Names of opcodes (byte 0). Opcodes in neither bitmap may be named too (privileged). */
  readonly names: Readonly<Record<number, string>>;
  /**
   * Refinements consulted only by service-action-aware policies: entries with a
   * `serviceAction` and/or `deviceType`. For an opcode that has service-action entries,
   * a service action the table does not list is privileged.
   */
  readonly refinements?: readonly PermissionCommandEntry[];
}

/** How a CDB was matched to an entry. */
export type PermissionMatch =
  /** CDB byte 0 only, as Linux does. */
  | 'opcode'
  /** A service-action entry of the table. */
  | 'service-action'
  /** A service action the table does not list for an opcode it refines. */
  | 'unlisted-service-action'
  /** The CDB is too short to hold the service action its opcode needs. */
  | 'truncated-service-action'
  /** An entry for the device's peripheral type. */
  | 'device-type';

/** A CDB's entry in a table, and how it was found. */
export interface PermissionLookup {
  /** The entry (synthesised, privileged, for an opcode or service action the table does not list). */
  readonly entry: PermissionCommandEntry;
  /** How it was matched. */
  readonly match: PermissionMatch;
  /** The opcode is in the table (read or write bitmap, or a refinement). */
  readonly listed: boolean;
}

const CLASS_PRIVILEGED = 0;
const CLASS_READ = 1;
const CLASS_WRITE = 2;
const CLASS_NAMES: readonly PermissionCommandClass[] = ['privileged', 'read-safe', 'write-safe'];

function checkByte(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    invalidPermissionField(field, 'must be an opcode, an integer 0..255', value);
  }
}

/**
 * An immutable permission table. The byte-0 view (`readOk`, `writeOk`, {@link opcodeClass})
 * is exactly what a Linux table holds; {@link lookup} with `refine` also consults
 * service-action and device-type entries (the sgv4 proposal).
 *
 * Class of an opcode follows `blk_verify_command()` (block/scsi_ioctl.c, 2.6.30..5.14):
 * `read_ok` is tested first, so an opcode in both bitmaps is read-safe.
 */
export class PermissionTable {
  /** Short name. */
  readonly name: string;
  /** Where the table comes from. */
  readonly description: string;
  readonly #read: Uint8Array;
  readonly #write: Uint8Array;
  /** Byte-0 class code per opcode (0 privileged, 1 read, 2 write): the fast path. */
  readonly #classCode: Uint8Array;
  readonly #names: ReadonlyMap<number, string>;
  readonly #byServiceAction: ReadonlyMap<number, ReadonlyMap<number, PermissionLookup>>;
  readonly #byDeviceType: ReadonlyMap<number, ReadonlyMap<number, PermissionLookup>>;
  /** The byte-0 lookup of every opcode, built once: the kernel path allocates nothing. */
  readonly #byOpcode: readonly PermissionLookup[];
  /** 1 for opcodes with service-action or device-type refinements. */
  readonly #refined: Uint8Array;
  readonly #unlisted = new Map<number, PermissionLookup>();
  readonly #refinements: readonly PermissionCommandEntry[];

  /** Builds a table; bad opcodes or service actions throw an InvalidFieldError naming the field. */
  constructor(spec: PermissionTableSpec) {
    if (spec.name.trim() === '') invalidPermissionField('name', 'must not be empty', spec.name);
    this.name = spec.name;
    this.description = spec.description;
    this.#read = new Uint8Array(256);
    this.#write = new Uint8Array(256);
    spec.readOk.forEach((op, i) => {
      checkByte(`readOk[${i}]`, op);
      this.#read[op] = 1;
    });
    spec.writeOk.forEach((op, i) => {
      checkByte(`writeOk[${i}]`, op);
      this.#write[op] = 1;
    });
    this.#classCode = new Uint8Array(256);
    for (let op = 0; op < 256; op++) {
      this.#classCode[op] = this.#read[op] ? CLASS_READ : this.#write[op] ? CLASS_WRITE : CLASS_PRIVILEGED;
    }
    const names = new Map<number, string>();
    for (const [key, value] of Object.entries(spec.names)) {
      const op = Number(key);
      checkByte(`names[${key}]`, op);
      names.set(op, value);
    }
    this.#names = names;
    const bySa = new Map<number, Map<number, PermissionLookup>>();
    const byType = new Map<number, Map<number, PermissionLookup>>();
    this.#refined = new Uint8Array(256);
    const refinements = spec.refinements ?? [];
    refinements.forEach((entry, i) => {
      checkByte(`refinements[${i}].opcode`, entry.opcode);
      if (entry.serviceAction !== undefined) {
        const max = entry.opcode === 0x7f ? 0xffff : 0x1f;
        if (!SERVICE_ACTION_OPCODES.includes(entry.opcode)) {
          invalidPermissionField(
            `refinements[${i}].serviceAction`,
            `opcode ${hexByte(entry.opcode)} has no service action field`,
            entry.serviceAction,
          );
        }
        if (!Number.isInteger(entry.serviceAction) || entry.serviceAction < 0 || entry.serviceAction > max) {
          invalidPermissionField(
            `refinements[${i}].serviceAction`,
            `must be an integer 0..${max}`,
            entry.serviceAction,
          );
        }
        const m = bySa.get(entry.opcode) ?? new Map<number, PermissionLookup>();
        bySa.set(entry.opcode, m);
        m.set(entry.serviceAction, Object.freeze({ entry, match: 'service-action', listed: true }));
        this.#refined[entry.opcode] = 1;
      } else if (entry.deviceType !== undefined) {
        if (!Number.isInteger(entry.deviceType) || entry.deviceType < 0 || entry.deviceType > 0x1f) {
          invalidPermissionField(
            `refinements[${i}].deviceType`,
            'must be a peripheral device type 0..31',
            entry.deviceType,
          );
        }
        const m = byType.get(entry.deviceType) ?? new Map<number, PermissionLookup>();
        byType.set(entry.deviceType, m);
        m.set(entry.opcode, Object.freeze({ entry, match: 'device-type', listed: true }));
        this.#refined[entry.opcode] = 1;
      } else {
        invalidPermissionField(`refinements[${i}]`, 'needs a serviceAction or a deviceType', entry.opcode);
      }
    });
    this.#byServiceAction = bySa;
    this.#byDeviceType = byType;
    this.#refinements = refinements;
    const byOpcode: PermissionLookup[] = [];
    for (let op = 0; op < 256; op++) {
      const code = this.#classCode[op] ?? CLASS_PRIVILEGED;
      byOpcode.push(
        Object.freeze({
          entry: Object.freeze({
            opcode: op,
            name: this.opcodeName(op),
            commandClass: CLASS_NAMES[code] ?? 'privileged',
          }),
          match: 'opcode',
          listed: code !== CLASS_PRIVILEGED,
        }),
      );
    }
    this.#byOpcode = byOpcode;
  }

  /** The byte-0 class of `opcode` (what Linux checks). */
  opcodeClass(opcode: number): PermissionCommandClass {
    return CLASS_NAMES[this.#classCode[opcode & 0xff] ?? CLASS_PRIVILEGED] ?? 'privileged';
  }

  /** Byte-0 class codes (0 privileged, 1 read-safe, 2 write-safe), for hot loops that cannot afford objects. */
  classCodeOf(opcode: number): number {
    return this.#classCode[opcode & 0xff] ?? CLASS_PRIVILEGED;
  }

  /** The name the table gives `opcode`, or `opcode 0xNN` when it names none. */
  opcodeName(opcode: number): string {
    return this.#names.get(opcode) ?? `opcode ${hexByte(opcode)}`;
  }

  /** Whether byte-0 `opcode` is in the read bitmap. */
  inReadTable(opcode: number): boolean {
    return this.#read[opcode] === 1;
  }

  /** Whether byte-0 `opcode` is in the write bitmap. */
  inWriteTable(opcode: number): boolean {
    return this.#write[opcode] === 1;
  }

  /** The read bitmap as a sorted opcode list (sysfs `read_table`). */
  readTable(): number[] {
    return this.#bits(this.#read);
  }

  /** The write bitmap as a sorted opcode list (sysfs `write_table`). */
  writeTable(): number[] {
    return this.#bits(this.#write);
  }

  /** Every byte-0 entry the table classes as read-safe or write-safe, by opcode. */
  opcodeEntries(): PermissionCommandEntry[] {
    const out: PermissionCommandEntry[] = [];
    for (let op = 0; op < 256; op++) {
      const cls = this.opcodeClass(op);
      if (cls !== 'privileged' || this.#names.has(op)) {
        out.push({ opcode: op, name: this.opcodeName(op), commandClass: cls });
      }
    }
    return out;
  }

  /** The service-action and device-type entries. */
  refinements(): readonly PermissionCommandEntry[] {
    return this.#refinements;
  }

  /**
   * The entry for `cdb`. Without `refine` only byte 0 counts (Linux). With `refine`,
   * a device-type entry wins, then a service-action entry (an unlisted service action of
   * a refined opcode is privileged), then the byte-0 entry.
   */
  lookup(cdb: Uint8Array, refine: boolean, deviceType = 0): PermissionLookup {
    const opcode = cdb[0] ?? 0;
    if (refine && this.#refined[opcode] === 1) {
      const typed = this.#byDeviceType.get(deviceType)?.get(opcode);
      if (typed) return typed;
      const sas = this.#byServiceAction.get(opcode);
      if (sas) {
        const field = permissionServiceAction(cdb);
        if (field.kind === 'truncated') return this.#synthesised(opcode, -1, field.needed);
        if (field.kind === 'present')
          return sas.get(field.serviceAction) ?? this.#synthesised(opcode, field.serviceAction, 0);
      }
    }
    return this.#byOpcode[opcode] as PermissionLookup;
  }

  /** A privileged lookup for an unlisted (sa >= 0) or truncated (sa = -1) service action, cached. */
  #synthesised(opcode: number, serviceAction: number, needed: number): PermissionLookup {
    const key = opcode * 0x20000 + serviceAction + 1;
    const cached = this.#unlisted.get(key);
    if (cached) return cached;
    const base = this.opcodeName(opcode);
    const made: PermissionLookup =
      serviceAction < 0
        ? {
            entry: {
              opcode,
              name: `${base} (CDB too short for its service action: ${needed} bytes needed)`,
              commandClass: 'privileged',
            },
            match: 'truncated-service-action',
            listed: false,
          }
        : {
            entry: {
              opcode,
              serviceAction,
              name: `${base} service action 0x${serviceAction.toString(16)}`,
              commandClass: 'privileged',
            },
            match: 'unlisted-service-action',
            listed: false,
          };
    this.#unlisted.set(key, made);
    return made;
  }

  /**
   * A copy with other bitmaps (same names and refinements): what a cmdfilter write
   * produces. `name` defaults to `<this name>+cmdfilter`.
   */
  withBitmaps(readOk: readonly number[], writeOk: readonly number[], name?: string): PermissionTable {
    return new PermissionTable({
      name: name ?? `${this.name}+cmdfilter`,
      description: `${this.description} Modified through the cmdfilter read_table/write_table format.`,
      readOk,
      writeOk,
      names: Object.fromEntries(this.#names),
      refinements: this.#refinements,
    });
  }

  #bits(bitmap: Uint8Array): number[] {
    const out: number[] = [];
    for (let op = 0; op < 256; op++) if (bitmap[op]) out.push(op);
    return out;
  }
}
