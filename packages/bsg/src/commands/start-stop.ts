/**
 * START STOP UNIT (SBC-5 5.25).
 * @module
 */
import { buildCdb, InvalidFieldError } from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** START STOP UNIT options. */
export interface StartStopOptions {
  /** START: 1 spins up / makes ready, 0 stops. */
  readonly start: boolean;
  /** LOEJ: load (with start) or eject (without) the medium. */
  readonly loadEject?: boolean;
  /** IMMED: answer before the operation completes. */
  readonly immediate?: boolean;
  /** POWER CONDITION (0 = use START; 1 active, 2 idle, 3 standby...). */
  readonly powerCondition?: number;
  /** NO_FLUSH: do not flush the cache when stopping. */
  readonly noFlush?: boolean;
}

/** START STOP UNIT with the given options. */
export function startStopCommand(options: StartStopOptions): ScsiCommand<void> {
  const power = options.powerCondition ?? 0;
  if (!Number.isInteger(power) || power < 0 || power > 15) {
    throw new InvalidFieldError('powerCondition', 'must be an integer in 0..15', power);
  }
  return {
    name: 'START STOP UNIT',
    cdb: buildCdb('start-stop', {
      start: options.start,
      loej: options.loadEject ?? false,
      immed: options.immediate ?? false,
      powerCondition: power,
      noFlush: options.noFlush ?? false,
    }),
    parse: () => undefined,
  };
}
