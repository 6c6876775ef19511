/**
 * "Would Linux even send this?" The request's data layout is planned with the core's
 * transfer model (`planTransfer`, which models Linux 6.1's sg, bsg and block SG_IO paths
 * down to bio building and the HBA scatterlist) against the LU's QueueLimits; a refusal is
 * returned as the errno the syscall would fail with, before the command reaches the LU.
 * @module
 */
import { planTransfer, type QueueLimits, type TransferDirection, type TransferRefusal } from '@sgv4/core';
import type { DataLayout } from '../api/types.js';

/** Page-aligned address of the modelled default buffer. */
const DEFAULT_BUFFER_ADDRESS = 0x7f00_0000_0000;

/** Lengths remembered per path and direction for default layouts (a plan depends on nothing else). */
const CACHE_LIMIT = 512;

/** Checks requests against one LU's QueueLimits, caching the answers for flat default buffers. */
export class TransferCheck {
  readonly #limits: QueueLimits;
  /** Per path and direction: length -> refusal (null = mapped). */
  readonly #cache = new Map<string, Map<number, TransferRefusal | null>>();

  /** For an LU with `limits`. */
  constructor(limits: QueueLimits) {
    this.#limits = limits;
  }

  /**
   * The refusal for a request moving `dataOutLength` bytes to and `dataInLength` bytes from
   * the device with `layout`, or undefined when Linux would map it. Requests without data are
   * never refused. Bad layouts (negative lengths, ...) throw InvalidFieldError from the core.
   */
  check(
    dataOutLength: number,
    dataInLength: number,
    layout: DataLayout | undefined,
  ): TransferRefusal | undefined {
    if (dataOutLength === 0 && dataInLength === 0) return undefined;
    const direction: TransferDirection =
      dataOutLength > 0 && dataInLength > 0
        ? 'to-from-device'
        : dataOutLength > 0
          ? 'to-device'
          : 'from-device';
    const length = Math.max(dataOutLength, dataInLength);
    if (layout === undefined || (layout.iovecs === undefined && layout.sg === undefined)) {
      const iface = layout?.iface ?? 'bsg';
      const group =
        iface === 'bsg' && direction === 'from-device' ? 'bsg:from-device' : `${iface}:${direction}`;
      let byLength = this.#cache.get(group);
      if (byLength === undefined) {
        byLength = new Map();
        this.#cache.set(group, byLength);
      }
      const cached = byLength.get(length);
      if (cached !== undefined) return cached ?? undefined;
      const refusal = this.#plan(iface, direction, length, undefined, undefined);
      if (byLength.size >= CACHE_LIMIT) byLength.clear();
      byLength.set(length, refusal ?? null);
      return refusal;
    }
    return this.#plan(layout.iface ?? 'bsg', direction, length, layout.iovecs, layout.sg);
  }

  #plan(
    iface: NonNullable<DataLayout['iface']>,
    direction: TransferDirection,
    length: number,
    iovecs: DataLayout['iovecs'],
    sg: DataLayout['sg'],
  ): TransferRefusal | undefined {
    const plan = planTransfer({
      limits: this.#limits,
      iface,
      direction,
      iovecs: iovecs ?? [{ address: DEFAULT_BUFFER_ADDRESS, length }],
      ...(iovecs === undefined ? {} : { dxferLength: length }),
      ...(sg === undefined ? {} : { sg }),
    });
    return plan.outcome === 'refused' ? plan.refusal : undefined;
  }
}
