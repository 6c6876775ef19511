/**
 * Reservations of one logical unit: SPC-2 RESERVE/RELEASE and SPC-3+ persistent reservations
 * (SPC-6 5.14 "Reservations"; the PERSISTENT RESERVE IN/OUT data is built in
 * commands/persistent-reservations.ts). All state is scoped by I_T nexus, as SAM-6 4.6 and
 * SPC-6 5.14.x require: registrations, the reservation holder, and the SPC-2 reservation.
 *
 * The access rules are SPC-6 5.14.1 "commands allowed in the presence of various
 * reservations" and SBC-5 4.x (the same table for SBC commands), reduced to an access class
 * per command: `always` (INQUIRY, REPORT LUNS, ...), `read` (medium reads and reads of device
 * state: allowed to everyone under a Write Exclusive type) and `write` (medium or state changes).
 * @module
 */
import type { NexusInfo } from '../nexus.js';

/** PERSISTENT RESERVE OUT TYPE codes (SPC-6 6.17.2 "TYPE field"). */
export const PrType = {
  WRITE_EXCLUSIVE: 1,
  EXCLUSIVE_ACCESS: 3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 8,
} as const;

/** The defined TYPE values. */
export const PR_TYPES: ReadonlySet<number> = new Set(Object.values(PrType));

/** How a command interacts with reservations (see the module comment). */
export type ReservationAccess = 'always' | 'read' | 'write';

/** One registration (SPC-6 5.14.7): an I_T nexus and its reservation key. */
export interface Registration {
  /** The registered I_T nexus. */
  readonly nexus: NexusInfo;
  /** Its reservation key (non-zero). */
  key: bigint;
}

/** The persistent reservation. */
export interface PersistentReservation {
  /** The nexus that created it (for all-registrants types every registrant holds it). */
  holder: string;
  /** TYPE. */
  type: number;
  /** SCOPE (0 = logical unit, the only scope SPC-6 keeps). */
  scope: number;
}

/** True for the "registrants only" and "all registrants" types. */
export function isRegistrantsType(type: number): boolean {
  return type >= PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;
}

/** True for the "all registrants" types (every registrant is a holder, SPC-6 5.14.10). */
export function isAllRegistrantsType(type: number): boolean {
  return type === PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS || type === PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

function isWriteExclusive(type: number): boolean {
  return (
    type === PrType.WRITE_EXCLUSIVE ||
    type === PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY ||
    type === PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS
  );
}

/** Reservation state of a logical unit. */
export class Reservations {
  /** Registrations by nexus key, in registration order (READ KEYS and READ FULL STATUS list them so). */
  readonly registrations = new Map<string, Registration>();
  /** The persistent reservation, if any. */
  reservation: PersistentReservation | undefined;
  /** PRGENERATION (SPC-6 6.16.2): a 32-bit wrapping counter bumped by registration changes. */
  generation = 0;
  /** The nexus holding an SPC-2 RESERVE(6)/(10) reservation. */
  spc2Holder: string | undefined;

  /** Bumps PRGENERATION. */
  bump(): void {
    this.generation = (this.generation + 1) >>> 0;
  }

  /** True when the nexus holds the persistent reservation (SPC-6 5.14.10). */
  isHolder(key: string): boolean {
    const r = this.reservation;
    if (r === undefined) return false;
    if (isAllRegistrantsType(r.type)) return this.registrations.has(key);
    return r.holder === key;
  }

  /**
   * Whether a command from the nexus `key` conflicts with a reservation: an SPC-2 reservation
   * held by another nexus blocks everything except `spc2Allowed` commands (SPC-2 5.5.1);
   * a persistent reservation held by another nexus blocks by type and access class
   * (SPC-6 5.14.1 tables; a registered nexus of a registrants-only or all-registrants type
   * has full access).
   */
  conflicts(key: string, access: ReservationAccess, spc2Allowed: boolean): boolean {
    if (this.spc2Holder !== undefined && this.spc2Holder !== key && !spc2Allowed) return true;
    const r = this.reservation;
    if (r === undefined || access === 'always' || this.isHolder(key)) return false;
    const registered = this.registrations.has(key);
    if (registered && isRegistrantsType(r.type)) return false;
    return access === 'write' || !isWriteExclusive(r.type);
  }

  /** Drops the SPC-2 reservation (LOGICAL UNIT RESET, SPC-2 5.5.1; I_T nexus loss of its holder). */
  releaseSpc2(ifHeldBy?: string): void {
    if (ifHeldBy === undefined || this.spc2Holder === ifHeldBy) this.spc2Holder = undefined;
  }
}
