/**
 * PERSISTENT RESERVE IN and OUT (SPC-6 6.16, 6.17): registration keys and reservations.
 * @module
 */
import { buildCdb, InvalidFieldError, MalformedDataError } from '@sgv4/core';
import { PERSISTENT_RESERVE_IN, PERSISTENT_RESERVE_OUT } from './cdb-tables.js';
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
    cdb: buildCdb(PERSISTENT_RESERVE_IN, { action: 0, allocationLength }),
    dataInLength: allocationLength,
    parse: (data) => {
      MalformedDataError.require('READ KEYS data', data, 0, 8);
      const additional = u32(data, 4);
      const end = Math.min(data.length, 8 + additional);
      const keys: bigint[] = [];
      for (let at = 8; at + 8 <= end; at += 8) keys.push(u64(data, at));
      return { generation: u32(data, 0), keys };
    },
  };
}

/** PERSISTENT RESERVE IN, READ RESERVATION (service action 1). */
export function readReservationCommand(): ScsiCommand<ReservationStatus> {
  return {
    name: 'PERSISTENT RESERVE IN',
    cdb: buildCdb(PERSISTENT_RESERVE_IN, { action: 1, allocationLength: 24 }),
    dataInLength: 24,
    parse: (data) => {
      MalformedDataError.require('READ RESERVATION data', data, 0, 8);
      const generation = u32(data, 0);
      if (u32(data, 4) < 16) return { generation };
      MalformedDataError.require('READ RESERVATION descriptor', data, 8, 16);
      const scopeType = data[21] ?? 0;
      return {
        generation,
        reservation: { key: u64(data, 8), scope: scopeType >> 4, type: scopeType & 0x0f },
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
  const list = new Uint8Array(24);
  const view = new DataView(list.buffer);
  view.setBigUint64(0, key);
  view.setBigUint64(8, saKey);
  list[20] = (parameters.allTargetPorts ? 0x04 : 0) | (parameters.persistThroughPowerLoss ? 0x01 : 0);
  return {
    name: 'PERSISTENT RESERVE OUT',
    cdb: buildCdb(PERSISTENT_RESERVE_OUT, {
      action,
      scope: 0,
      type: parameters.type ?? 0,
      parameterListLength: 24,
    }),
    dataOut: list,
    parse: () => undefined,
  };
}
