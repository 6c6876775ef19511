/**
 * Unit attention conditions of one logical unit, per I_T nexus (SAM-6 5.14, SPC-6 5.x
 * "Unit attention conditions"): established by resets, reservation changes, mode and
 * capacity changes; reported once each, oldest first, and cleared when reported
 * (UA_INTLCK_CTRL = 00b in the Control mode page).
 * @module
 */
import type { AdditionalSense } from '../sense/additional-sense.js';

/** At most this many pending conditions per nexus; more set the overflow indication (SPC-6 4.4.2.4.6). */
const MAX_PENDING = 8;

/** The pending unit attentions of one LU. */
export class UnitAttentions {
  readonly #pending = new Map<string, AdditionalSense[]>();
  readonly #overflow = new Set<string>();

  /** Establishes `code` for the nexus `key` (no duplicate of a pending code). */
  establish(key: string, code: AdditionalSense): void {
    let q = this.#pending.get(key);
    if (q === undefined) {
      q = [];
      this.#pending.set(key, q);
    }
    if (q.some((c) => c.asc === code.asc && c.ascq === code.ascq)) return;
    if (q.length >= MAX_PENDING) {
      this.#overflow.add(key);
      return;
    }
    q.push(code);
  }

  /** Establishes `code` for every nexus in `keys`. */
  establishAll(keys: Iterable<string>, code: AdditionalSense, except?: string): void {
    for (const k of keys) if (k !== except) this.establish(k, code);
  }

  /** True when the nexus has a pending condition (cheap: the hot path asks this per command). */
  has(key: string): boolean {
    return (this.#pending.get(key)?.length ?? 0) > 0;
  }

  /** The oldest pending condition, without clearing it. */
  peek(key: string): AdditionalSense | undefined {
    return this.#pending.get(key)?.[0];
  }

  /** Pending conditions of the nexus. */
  count(key: string): number {
    return this.#pending.get(key)?.length ?? 0;
  }

  /** Reports and clears the oldest condition; `overflow` says whether some were lost. */
  take(key: string): { code: AdditionalSense; overflow: boolean } | undefined {
    const q = this.#pending.get(key);
    const code = q?.shift();
    if (code === undefined) return undefined;
    if (q?.length === 0) this.#pending.delete(key);
    const overflow = this.#overflow.delete(key);
    return { code, overflow };
  }

  /** Clears one specific pending code (REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED, SPC-6 6.33). */
  clear(key: string, code: AdditionalSense): void {
    const q = this.#pending.get(key);
    if (q === undefined) return;
    const i = q.findIndex((c) => c.asc === code.asc && c.ascq === code.ascq);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.#pending.delete(key);
  }

  /** Drops every condition of a nexus. */
  forget(key: string): void {
    this.#pending.delete(key);
    this.#overflow.delete(key);
  }
}
