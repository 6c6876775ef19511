/**
 * PERSISTENT RESERVE IN and OUT (SPC-6 6.16, 6.17): registration keys and reservations.
 * @module
 */
import {
  buildCdb,
  decodeTableStrict,
  encodeTable,
  InvalidFieldError,
  PR_IN_HEADER,
  PR_OUT_PARAMETER_LIST,
  PR_RESERVATION_DESCRIPTOR,
} from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** Reservation types (SPC-6 table 216). */
export const ReservationType = {
  WRITE_EXCLUSIVE: 1,
  EXCLUSIVE_ACCESS: 3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 8,
} as const;
/** One of the {@link ReservationType} codes. */
export type ReservationType = (typeof ReservationType)[keyof typeof ReservationType];

/** PERSISTENT RESERVE OUT service actions (SPC-6 table 222). */
export const PersistentReserveOutAction = {
  REGISTER: 0,
  RESERVE: 1,
  RELEASE: 2,
  CLEAR: 3,
  PREEMPT: 4,
  PREEMPT_AND_ABORT: 5,
  REGISTER_AND_IGNORE_EXISTING_KEY: 6,
} as const;
/** One of the {@link PersistentReserveOutAction} codes. */
export type PersistentReserveOutAction =
  (typeof PersistentReserveOutAction)[keyof typeof PersistentReserveOutAction];

/** The core's CDB table of each PERSISTENT RESERVE OUT service action, by its code. */
const PR_OUT_KEYS = [
  'prout-register',
  'prout-reserve',
  'prout-release',
  'prout-clear',
  'prout-preempt',
  'prout-preempt-and-abort',
  'prout-register-and-ignore',
] as const;

/** READ KEYS data: the generation and the registered keys. */
export interface RegisteredKeys {
  /** PRGENERATION. */
  readonly generation: number;
  /** Registered reservation keys. */
  readonly keys: readonly bigint[];
}

/** READ RESERVATION data. */
export interface ReservationStatus {
  /** PRGENERATION. */
  readonly generation: number;
  /** The reservation, when one is held. */
  readonly reservation?: { readonly key: bigint; readonly scope: number; readonly type: number };
}

function u32(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

function u64(b: Uint8Array, at: number): bigint {
  return (BigInt(u32(b, at)) << 32n) | BigInt(u32(b, at + 4));
}

/** PERSISTENT RESERVE IN, READ KEYS (service action 0). */
export function readKeysCommand(allocationLength = 8 + 8 * 64): ScsiCommand<RegisteredKeys> {
  return {
    name: 'PERSISTENT RESERVE IN',
    cdb: buildCdb('prin-read-keys', { allocationLength }),
    dataInLength: allocationLength,
    parse: (data) => {
      const header = decodeTableStrict(PR_IN_HEADER, data, 0, 'READ KEYS data');
      const end = Math.min(data.length, 8 + (header.additionalLength as number));
      const keys: bigint[] = [];
      for (let at = 8; at + 8 <= end; at += 8) keys.push(u64(data, at));
      return { generation: header.prGeneration as number, keys };
    },
  };
}

/** PERSISTENT RESERVE IN, READ RESERVATION (service action 1). */
export function readReservationCommand(): ScsiCommand<ReservationStatus> {
  return {
    name: 'PERSISTENT RESERVE IN',
    cdb: buildCdb('prin-read-reservation', { allocationLength: 24 }),
    dataInLength: 24,
    parse: (data) => {
      const header = decodeTableStrict(PR_IN_HEADER, data, 0, 'READ RESERVATION data');
      const generation = header.prGeneration as number;
      if ((header.additionalLength as number) < 16) return { generation };
      const r = decodeTableStrict(PR_RESERVATION_DESCRIPTOR, data, 8, 'READ RESERVATION descriptor');
      return {
        generation,
        reservation: { key: r.reservationKey as bigint, scope: r.scope as number, type: r.type as number },
      };
    },
  };
}

/** PERSISTENT RESERVE OUT parameters (SPC-6 6.17.3, the basic 24-byte list). */
export interface PersistentReserveOutParameters {
  /** RESERVATION KEY: the caller's registered key (0 when registering). */
  readonly key?: bigint;
  /** SERVICE ACTION RESERVATION KEY: the new key (REGISTER) or the one to preempt. */
  readonly serviceActionKey?: bigint;
  /** TYPE, for RESERVE, RELEASE and PREEMPT. */
  readonly type?: ReservationType;
  /** APTPL: keep the registrations across power loss. */
  readonly persistThroughPowerLoss?: boolean;
  /** ALL_TG_PT: register on all target ports. */
  readonly allTargetPorts?: boolean;
}

function checkKey(name: string, key: bigint): void {
  if (typeof key !== 'bigint' || key < 0n || key > 0xffff_ffff_ffff_ffffn) {
    throw new InvalidFieldError(name, 'must be a bigint in 0..2^64-1', key);
  }
}

/** PERSISTENT RESERVE OUT with `action` and the basic parameter list. */
export function persistentReserveOutCommand(
  action: PersistentReserveOutAction,
  parameters: PersistentReserveOutParameters = {},
): ScsiCommand<void> {
  if (!Object.values(PersistentReserveOutAction).includes(action)) {
    throw new InvalidFieldError(
      'action',
      `must be one of ${Object.keys(PersistentReserveOutAction).join(', ')}`,
      action,
    );
  }
  const key = parameters.key ?? 0n;
  const saKey = parameters.serviceActionKey ?? 0n;
  checkKey('key', key);
  checkKey('serviceActionKey', saKey);
  const list = encodeTable(PR_OUT_PARAMETER_LIST, {
    reservationKey: key,
    serviceActionReservationKey: saKey,
    allTgPt: parameters.allTargetPorts ?? false,
    aptpl: parameters.persistThroughPowerLoss ?? false,
  });
  return {
    name: 'PERSISTENT RESERVE OUT',
    // `action` was checked against PersistentReserveOutAction above: it indexes PR_OUT_KEYS.
    cdb: buildCdb(PR_OUT_KEYS[action] as (typeof PR_OUT_KEYS)[number], {
      scope: 0,
      type: parameters.type ?? 0,
      parameterListLength: list.length,
    }),
    dataOut: list,
    parse: () => undefined,
  };
}
