/**
 * MODE SENSE and MODE SELECT, 6- and 10-byte (SPC-6 6.13..6.16).
 * @module
 */
import {
  buildCdb,
  buildModeSelectParameterList,
  InvalidFieldError,
  type ModeParameters,
  type ModeSelectPages,
  parseModeParameters,
} from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** Which values MODE SENSE returns (PC field). */
export type PageControl = 'current' | 'changeable' | 'default' | 'saved';
const PC: Readonly<Record<PageControl, number>> = { current: 0, changeable: 1, default: 2, saved: 3 };

/** MODE SENSE options. */
export interface ModeSenseOptions {
  /** PAGE CODE, 0x3f = all pages (default). */
  readonly page?: number;
  /** SUBPAGE CODE (default 0). */
  readonly subpage?: number;
  /** PC (default current). */
  readonly pageControl?: PageControl;
  /** DBD: no block descriptors. */
  readonly disableBlockDescriptors?: boolean;
  /** 6 or 10 (default 10). */
  readonly variant?: 6 | 10;
  /** ALLOCATION LENGTH (default 252 for 6, 4096 for 10). */
  readonly allocationLength?: number;
}

/** MODE SENSE (10 by default): header, block descriptors and pages, parsed by the core. */
export function modeSenseCommand(options: ModeSenseOptions = {}): ScsiCommand<ModeParameters> {
  const variant = options.variant ?? 10;
  const page = options.page ?? 0x3f;
  if (!Number.isInteger(page) || page < 0 || page > 0x3f)
    throw new InvalidFieldError('page', 'must be a page code 0..63', page);
  const pc = PC[options.pageControl ?? 'current'];
  if (pc === undefined)
    throw new InvalidFieldError(
      'pageControl',
      `must be one of ${Object.keys(PC).join(', ')}`,
      options.pageControl,
    );
  const allocationLength = options.allocationLength ?? (variant === 6 ? 252 : 4096);
  const fields = {
    pageCode: page,
    subpageCode: options.subpage ?? 0,
    pc,
    dbd: options.disableBlockDescriptors ?? false,
    allocationLength,
  };
  return {
    name: `MODE SENSE(${variant})`,
    cdb: buildCdb(variant === 6 ? 'mode-sense6' : 'mode-sense10', fields),
    dataInLength: allocationLength,
    parse: (data) => parseModeParameters(variant, data),
  };
}

/** MODE SELECT options. */
export interface ModeSelectOptions {
  /** SP: save the pages (they survive a power cycle). */
  readonly save?: boolean;
  /** 6 or 10 (default 10). */
  readonly variant?: 6 | 10;
}

/** MODE SELECT (PF set) of the Caching and/or Control pages, with the core's parameter list builder. */
export function modeSelectCommand(
  pages: ModeSelectPages,
  options: ModeSelectOptions = {},
): ScsiCommand<void> {
  const variant = options.variant ?? 10;
  const list = buildModeSelectParameterList(variant, pages);
  return {
    name: `MODE SELECT(${variant})`,
    cdb: buildCdb(variant === 6 ? 'mode-select6' : 'mode-select10', {
      pf: 1,
      sp: options.save ?? false,
      parameterListLength: list.length,
    }),
    dataOut: list,
    parse: () => undefined,
  };
}
