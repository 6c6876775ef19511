/**
 * The mode pages of a logical unit (SPC-6 7.5, SBC-5 6.5): Read-Write Error Recovery
 * (0x01), Caching (0x08), Control (0x0a) and Informational Exceptions Control (0x1c), each
 * with default, saved, current and changeable values, built and checked with the core's
 * field tables. Saved values live as long as the logical unit; a LOGICAL UNIT RESET makes
 * the saved values current again (SPC-6 7.5.x "Mode parameters ... after a reset").
 * @module
 */
import {
  CACHING_MODE_PAGE,
  CONTROL_MODE_PAGE,
  decodeTable,
  encodeTable,
  type FieldInput,
  type FieldTable,
  type FieldValues,
  INFORMATIONAL_EXCEPTIONS_CONTROL_MODE_PAGE,
  isBlobField,
  READ_WRITE_ERROR_RECOVERY_MODE_PAGE,
} from '@sgv4/core';

/** One page's definition: its table, default values and the fields an initiator may change. */
interface ModePageDefinition {
  readonly code: number;
  readonly table: FieldTable;
  readonly defaults: FieldInput;
  readonly changeable: readonly string[];
}

const page = (
  code: number,
  table: FieldTable,
  defaults: FieldInput,
  changeable: string[],
): ModePageDefinition => ({
  code,
  table,
  defaults: { ...defaults, pageCode: code, pageLength: table.length - 2 },
  changeable,
});

/**
 * The pages, in page-code order (MODE SENSE with page 0x3f returns them so, SPC-6 7.5.x).
 * Defaults: automatic reallocation on (AWRE, ARRE); write cache enabled (WCE = 1: writes
 * are durable after SYNCHRONIZE CACHE or with FUA, which the file backing honours); task set
 * shared by all I_T nexuses (TST = 000b), restricted reordering (QUEUE ALGORITHM MODIFIER 0),
 * fixed-format sense (D_SENSE = 0), no TASK ABORTED status (TAS = 0); informational
 * exceptions disabled (DEXCPT = 1).
 */
export const MODE_PAGES: readonly ModePageDefinition[] = [
  page(
    0x01,
    READ_WRITE_ERROR_RECOVERY_MODE_PAGE,
    { awre: 1, arre: 1, readRetryCount: 0, writeRetryCount: 0 },
    [],
  ),
  page(0x08, CACHING_MODE_PAGE, { wce: 1, rcd: 0 }, ['wce', 'rcd']),
  page(0x0a, CONTROL_MODE_PAGE, { tst: 0, gltsd: 1, queueAlgorithmModifier: 0, dSense: 0, tas: 0, swp: 0 }, [
    'queueAlgorithmModifier',
    'dSense',
    'tas',
    'swp',
  ]),
  page(0x1c, INFORMATIONAL_EXCEPTIONS_CONTROL_MODE_PAGE, { dexcpt: 1, mrie: 0 }, [
    'perf',
    'dexcpt',
    'ewasc',
    'mrie',
    'intervalTimer',
    'reportCount',
  ]),
];

const BY_CODE: ReadonlyMap<number, ModePageDefinition> = new Map(MODE_PAGES.map((p) => [p.code, p]));

/** The changeable mask of a page: every bit of a changeable field set (SPC-6 7.5.x, PC = 01b). */
function changeableMask(def: ModePageDefinition): Uint8Array {
  const values: Record<string, number | bigint> = {};
  for (const f of def.table.fields) {
    if (isBlobField(f) || !def.changeable.includes(f.name)) continue;
    values[f.name] = f.width > 32 ? (1n << BigInt(f.width)) - 1n : 2 ** f.width - 1;
  }
  const mask = encodeTable(def.table, values);
  mask[0] = def.code;
  mask[1] = def.table.length - 2;
  return mask;
}

/** Page control values of MODE SENSE (SPC-6 6.13.x PC field). */
export type PageControl = 'current' | 'changeable' | 'default' | 'saved';

/** Why a MODE SELECT page was refused: the byte (and bit) in the page. */
export interface ModeSelectRefusal {
  /** Offset of the bad byte within the page. */
  readonly byte: number;
  /** Bit, when one field is wrong. */
  readonly bit?: number;
}

/** Mode page state of one logical unit. */
export class ModePages {
  readonly #current = new Map<number, Uint8Array>();
  readonly #saved = new Map<number, Uint8Array>();
  readonly #defaults = new Map<number, Uint8Array>();
  readonly #masks = new Map<number, Uint8Array>();
  /** Decoded current Control page fields, cached for the hot path (D_SENSE, TAS, SWP, QAM). */
  #control: FieldValues = {};
  #caching: FieldValues = {};

  /** All pages at their defaults. */
  constructor() {
    for (const def of MODE_PAGES) {
      const bytes = encodeTable(def.table, def.defaults);
      this.#defaults.set(def.code, bytes);
      this.#saved.set(def.code, bytes.slice());
      this.#current.set(def.code, bytes.slice());
      this.#masks.set(def.code, changeableMask(def));
    }
    this.#refresh();
  }

  #refresh(): void {
    this.#control = decodeTable(CONTROL_MODE_PAGE, this.#current.get(0x0a) as Uint8Array);
    this.#caching = decodeTable(CACHING_MODE_PAGE, this.#current.get(0x08) as Uint8Array);
  }

  /** Page codes implemented. */
  get codes(): readonly number[] {
    return MODE_PAGES.map((p) => p.code);
  }

  /** True when `code` is an implemented page. */
  has(code: number): boolean {
    return BY_CODE.has(code);
  }

  /** D_SENSE: descriptor-format sense data (SPC-6 7.5.10). */
  get descriptorSense(): boolean {
    return this.#control.dSense === 1;
  }

  /** TAS: tasks aborted by another I_T nexus end with TASK ABORTED status (SAM-6 5.6). */
  get taskAbortedStatus(): boolean {
    return this.#control.tas === 1;
  }

  /** SWP: software write protect (SPC-6 7.5.10; writes fail with 27/02). */
  get softwareWriteProtect(): boolean {
    return this.#control.swp === 1;
  }

  /** QUEUE ALGORITHM MODIFIER: 0 restricted reordering, 1 unrestricted (SAM-6 8.x, SPC-6 7.5.10). */
  get unrestrictedReordering(): boolean {
    return this.#control.queueAlgorithmModifier === 1;
  }

  /** WCE: write cache enabled (SBC-5 6.5.6); when 0 every write is written through (durable). */
  get writeCacheEnabled(): boolean {
    return this.#caching.wce === 1;
  }

  /** The page bytes for a page control value (PS set for current/saved/default: the page is savable). */
  read(code: number, pc: PageControl): Uint8Array {
    const source =
      pc === 'changeable'
        ? this.#masks
        : pc === 'default'
          ? this.#defaults
          : pc === 'saved'
            ? this.#saved
            : this.#current;
    const bytes = (source.get(code) as Uint8Array).slice();
    bytes[0] = (bytes[0] ?? 0) | 0x80; // PS: the page can be saved (SPC-6 7.5.7)
    return bytes;
  }

  /**
   * Checks one page of a MODE SELECT parameter list (`bytes` = the page, header included)
   * against the changeable mask: a field that cannot change must equal its current value
   * (SPC-6 7.5.x: otherwise INVALID FIELD IN PARAMETER LIST). Returns the refusal or undefined.
   */
  check(code: number, bytes: Uint8Array): ModeSelectRefusal | undefined {
    const def = BY_CODE.get(code);
    if (def === undefined) return { byte: 0, bit: 5 };
    if (bytes.length !== def.table.length || bytes[1] !== def.table.length - 2) return { byte: 1 };
    const current = this.#current.get(code) as Uint8Array;
    const mask = this.#masks.get(code) as Uint8Array;
    for (let i = 2; i < bytes.length; i++) {
      const diff = ((bytes[i] ?? 0) ^ (current[i] ?? 0)) & ~(mask[i] ?? 0) & 0xff;
      if (diff !== 0) return { byte: i, bit: 31 - Math.clz32(diff) };
    }
    return undefined;
  }

  /** Applies a checked page; with `save` it also becomes the saved value. Returns true when something changed. */
  apply(code: number, bytes: Uint8Array, save: boolean): boolean {
    const current = this.#current.get(code) as Uint8Array;
    const page = bytes.slice();
    page[0] = code; // PS and SPF are not stored
    const changed = page.some((b, i) => b !== current[i]);
    this.#current.set(code, page);
    if (save) this.#saved.set(code, page.slice());
    this.#refresh();
    return changed;
  }

  /** Sets fields of the current page directly (configuration, tests). */
  set(code: number, values: FieldInput): void {
    const def = BY_CODE.get(code) as ModePageDefinition;
    const page = (this.#current.get(code) as Uint8Array).slice();
    encodeTable(def.table, values, page, 0);
    this.#current.set(code, page);
    this.#refresh();
  }

  /** LOGICAL UNIT RESET / power on: the saved values become current. */
  reset(): void {
    for (const [code, bytes] of this.#saved) this.#current.set(code, bytes.slice());
    this.#refresh();
  }
}
