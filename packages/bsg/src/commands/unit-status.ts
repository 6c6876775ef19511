/**
 * TEST UNIT READY (SPC-6 6.47) and REQUEST SENSE (SPC-6 6.39): is the logical unit ready, and
 * what is its pending sense data.
 * @module
 */
import { buildCdb, type DecodedSense, decodeSense, InvalidFieldError } from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** TEST UNIT READY: GOOD when ready; NOT READY / UNIT ATTENTION as DeviceError otherwise. */
export function testUnitReadyCommand(): ScsiCommand<void> {
  return { name: 'TEST UNIT READY', cdb: buildCdb('tur'), parse: () => undefined };
}

/**
 * REQUEST SENSE: the logical unit's sense data (descriptor format with `descriptor`), or
 * undefined when it returned none. Allocation length 252, the most SPC allows.
 */
export function requestSenseCommand(
  descriptor = false,
  allocationLength = 252,
): ScsiCommand<DecodedSense | undefined> {
  if (!Number.isInteger(allocationLength) || allocationLength < 1 || allocationLength > 255) {
    throw new InvalidFieldError('allocationLength', 'must be an integer in 1..255', allocationLength);
  }
  return {
    name: 'REQUEST SENSE',
    cdb: buildCdb('request-sense', { desc: descriptor, allocationLength }),
    dataInLength: allocationLength,
    parse: (data) => (data.length === 0 ? undefined : decodeSense(data)),
  };
}
