/**
 * READ CAPACITY (10) and (16) (SBC-5 5.20, 5.21).
 * @module
 */
import { buildCdb, parseReadCapacity10, parseReadCapacity16 } from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** The capacity of a direct-access logical unit. */
export interface Capacity {
  /** The command that answered. */
  readonly source: 'READ CAPACITY(10)' | 'READ CAPACITY(16)';
  /** RETURNED LOGICAL BLOCK ADDRESS: the last LBA. */
  readonly lastLba: bigint;
  /** Number of logical blocks (lastLba + 1). */
  readonly blocks: bigint;
  /** LOGICAL BLOCK LENGTH IN BYTES. */
  readonly blockSize: number;
  /** blocks x blockSize. */
  readonly bytes: bigint;
  /** PROT_EN (16 only). */
  readonly protectionEnabled?: boolean;
  /** P_TYPE (16 only): protection type - 1 when enabled. */
  readonly protectionType?: number;
  /** LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (16 only). */
  readonly logicalPerPhysicalExponent?: number;
  /** LBPME: logical block provisioning management enabled, i.e. thin (16 only). */
  readonly thinProvisioned?: boolean;
  /** LBPRZ: unmapped blocks read as zeros (16 only). */
  readonly unmappedReadsZero?: boolean;
  /** LOWEST ALIGNED LOGICAL BLOCK ADDRESS (16 only). */
  readonly lowestAlignedLba?: number;
}

/** READ CAPACITY(10): 8 bytes. A returned LBA of 0xFFFFFFFF means "ask READ CAPACITY(16)". */
export function readCapacity10Command(): ScsiCommand<Capacity> {
  return {
    name: 'READ CAPACITY(10)',
    cdb: buildCdb('read-capacity10'),
    dataInLength: 8,
    parse: (data) => {
      const f = parseReadCapacity10(data);
      const lastLba = BigInt(f.returnedLba as number);
      const blockSize = f.blockLength as number;
      return {
        source: 'READ CAPACITY(10)',
        lastLba,
        blocks: lastLba + 1n,
        blockSize,
        bytes: f.capacityBytes,
      };
    },
  };
}

/** READ CAPACITY(16) (SERVICE ACTION IN(16) 0x9e/0x10), 32 bytes asked. */
export function readCapacity16Command(): ScsiCommand<Capacity> {
  return {
    name: 'READ CAPACITY(16)',
    cdb: buildCdb('read-capacity16', { allocationLength: 32 }),
    dataInLength: 32,
    parse: (data) => {
      const f = parseReadCapacity16(data);
      const lastLba = f.returnedLba as bigint;
      const blockSize = f.blockLength as number;
      const n = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));
      const flag = (v: unknown): boolean | undefined => (v === undefined ? undefined : Number(v) === 1);
      const extra: { -readonly [K in keyof Capacity]?: Capacity[K] } = {
        protectionEnabled: flag(f.protEn),
        protectionType: n(f.pType),
        logicalPerPhysicalExponent: n(f.logicalBlocksPerPhysicalBlockExponent),
        thinProvisioned: flag(f.lbpme),
        unmappedReadsZero: flag(f.lbprz),
        lowestAlignedLba: n(f.lowestAlignedLba),
      };
      for (const key of Object.keys(extra) as (keyof Capacity)[])
        if (extra[key] === undefined) delete extra[key];
      return {
        source: 'READ CAPACITY(16)',
        lastLba,
        blocks: lastLba + 1n,
        blockSize,
        bytes: f.capacityBytes,
        ...extra,
      };
    },
  };
}
