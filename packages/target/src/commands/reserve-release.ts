/**
 * RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 7.21..7.24; obsolete since SPC-3 but still sent
 * by initiators and tested by libiscsi's `Reserve6` suite), with the compatible reservation
 * handling of SPC-6 5.14.3 (REPORT CAPABILITIES says CRH = 1).
 * @module
 */
import { ScsiStatus } from '@sgv4/core';
import { isRegistrantsType } from '../logical-unit/reservations.js';
import { invalidFieldInCdb } from '../sense/check-condition.js';
import type { CommandContext, CommandResult } from './command-context.js';

const CONFLICT: CommandResult = Object.freeze({ status: ScsiStatus.RESERVATION_CONFLICT });

/**
 * CRH = 1 exceptions (SPC-6 5.14.3): from a persistent reservation holder, or a registered
 * nexus while a registrants-only / all-registrants reservation exists, RESERVE and RELEASE
 * complete with GOOD and change nothing (`ignore`); from any other nexus while registrations
 * exist they conflict; otherwise SPC-2 rules apply.
 */
function crh(ctx: CommandContext): 'ignore' | 'conflict' | 'spc2' {
  const r = ctx.lu.reservations;
  const key = ctx.nexus.key;
  if (r.isHolder(key)) return 'ignore';
  if (r.registrations.has(key) && r.reservation !== undefined && isRegistrantsType(r.reservation.type))
    return 'ignore';
  return r.registrations.size > 0 ? 'conflict' : 'spc2';
}

/**
 * RESERVE: the LU becomes reserved to the I_T nexus (again, if it already holds it); held by
 * another nexus, RESERVATION CONFLICT. The obsolete third-party and extent forms are INVALID
 * FIELD IN CDB.
 */
export function reserve(ctx: CommandContext): CommandResult | undefined {
  const f = ctx.fields;
  if (f.extent === 1) throw invalidFieldInCdb(1, 0);
  if (f.thirdParty === 1) throw invalidFieldInCdb(1, 4);
  const mode = crh(ctx);
  if (mode === 'ignore') return undefined;
  if (mode === 'conflict') return CONFLICT;
  const r = ctx.lu.reservations;
  if (r.spc2Holder !== undefined && r.spc2Holder !== ctx.nexus.key) return CONFLICT;
  r.spc2Holder = ctx.nexus.key;
  return undefined;
}

/** RELEASE: releases the nexus's own reservation; from another nexus GOOD with no effect (SPC-2 7.23). */
export function release(ctx: CommandContext): CommandResult | undefined {
  const f = ctx.fields;
  if (f.extent === 1) throw invalidFieldInCdb(1, 0);
  if (f.thirdParty === 1) throw invalidFieldInCdb(1, 4);
  const mode = crh(ctx);
  if (mode === 'ignore') return undefined;
  if (mode === 'conflict') return CONFLICT;
  ctx.lu.reservations.releaseSpc2(ctx.nexus.key);
  return undefined;
}
