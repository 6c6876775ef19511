/**
 * Where permission tables attach: a registry mapping SCSI devices, request queues and
 * disks to tables, each inheriting from the level above and finally from a default.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { type CmdFilterAttribute, storeCmdFilter } from './cmdfilter-format.js';
import type { PermissionTable } from './permission-table.js';
import { LINUX_6_1_TABLE } from './tables/linux-6-1.js';

/** A level tables can attach to, most general first. */
export type PermissionAttachLevel = 'device' | 'queue' | 'disk';

/** Levels from general to specific: a disk inherits from its queue, a queue from its device. */
export const PERMISSION_ATTACH_LEVELS: readonly PermissionAttachLevel[] = ['device', 'queue', 'disk'];

/**
 * What a request reaches, by level: the SCSI device (`H:C:T:L`), its request queue and,
 * for block SG_IO only, the disk (`sda`). sg and bsg nodes reach the device and its
 * queue; block SG_IO also goes through the disk.
 */
export interface PermissionTarget {
  /** SCSI device address, `H:C:T:L`. */
  readonly device?: string;
  /** Request queue identifier. */
  readonly queue?: string;
  /** Disk name (`sda`). */
  readonly disk?: string;
}

/** The table that applies to a target and where it was attached. */
export interface ResolvedPermissionTable {
  /** The table. */
  readonly table: PermissionTable;
  /** The level it came from, or `default`. */
  readonly from: PermissionAttachLevel | 'default';
}

/**
 * A registry of tables. Linux attached its writable filter to the request queue and
 * exposed it per disk (2.6.25 `blk_register_filter`), then collapsed to one global
 * table; this registry answers "where should tables attach" with all three levels:
 * the most specific attached table wins, else the default.
 */
export class PermissionTableRegistry {
  #default: PermissionTable;
  readonly #attached = new Map<string, PermissionTable>();

  /** `defaultTable` (linux-6.1 unless given) applies where nothing is attached. */
  constructor(defaultTable: PermissionTable = LINUX_6_1_TABLE) {
    this.#default = defaultTable;
  }

  /** The default table. */
  get defaultTable(): PermissionTable {
    return this.#default;
  }

  /** Replaces the default table. */
  setDefault(table: PermissionTable): void {
    this.#default = table;
  }

  /** Attaches `table` at `level` for `id`, replacing what was there. */
  attach(level: PermissionAttachLevel, id: string, table: PermissionTable): void {
    this.#attached.set(this.#key(level, id), table);
  }

  /** Removes the table at `level`/`id`; true when there was one. */
  detach(level: PermissionAttachLevel, id: string): boolean {
    return this.#attached.delete(this.#key(level, id));
  }

  /** The table attached exactly at `level`/`id`, if any. */
  attachedAt(level: PermissionAttachLevel, id: string): PermissionTable | undefined {
    return this.#attached.get(this.#key(level, id));
  }

  /** The table for `target`: its disk's, else its queue's, else its device's, else the default. */
  resolve(target: PermissionTarget): ResolvedPermissionTable {
    for (const level of [...PERMISSION_ATTACH_LEVELS].reverse()) {
      const id = target[level];
      if (id === undefined) continue;
      const table = this.#attached.get(this.#key(level, id));
      if (table) return { table, from: level };
    }
    return { table: this.#default, from: 'default' };
  }

  /**
   * A sysfs-style write at `level` of `target`: starts from the table in force there
   * (inherited when nothing is attached at that level), applies `text` with the kernel's
   * store rules, and attaches the result at that level. Bad tokens throw
   * CmdFilterSyntaxError (EINVAL) and leave the registry unchanged.
   */
  writeCmdFilter(
    target: PermissionTarget,
    level: PermissionAttachLevel,
    attribute: CmdFilterAttribute,
    text: string,
  ): PermissionTable {
    const id = target[level];
    if (id === undefined)
      throw new InvalidFieldError(`target.${level}`, `is needed to write at level ${level}`, id);
    const upTo: PermissionTarget = Object.fromEntries(
      PERMISSION_ATTACH_LEVELS.slice(0, PERMISSION_ATTACH_LEVELS.indexOf(level) + 1).map((l) => [
        l,
        target[l],
      ]),
    );
    const current = this.resolve(upTo).table;
    const readOk =
      attribute === 'read_table' ? storeCmdFilter(attribute, text, current.readTable()) : current.readTable();
    const writeOk =
      attribute === 'write_table'
        ? storeCmdFilter(attribute, text, current.writeTable())
        : current.writeTable();
    const name = current.name.endsWith(`@${level}:${id}`) ? current.name : `${current.name}@${level}:${id}`;
    const table = current.withBitmaps(readOk, writeOk, name);
    this.attach(level, id, table);
    return table;
  }

  #key(level: PermissionAttachLevel, id: string): string {
    if (!PERMISSION_ATTACH_LEVELS.includes(level)) {
      throw new InvalidFieldError('level', `must be one of ${PERMISSION_ATTACH_LEVELS.join(', ')}`, level);
    }
    if (id === '') throw new InvalidFieldError(level, 'id must not be empty', id);
    return `${level}\u0000${id}`;
  }
}
