/**
 * Tour step: sense data. Decodes a fixed-format medium error and a descriptor-format
 * illegal request, prints them the way sg3_utils does, and shows the error and exit status
 * a request with that sense would end in.
 */
import {
  ASC_ASCQ_COUNTS,
  createSgIoV4Header,
  decodeSense,
  formatSenseLine,
  responseError,
  responseFromSgIoV4,
} from '@sgv4/core';
import { printLine } from '../../framework/output.js';
import type { TourStep } from '../tour-step.js';

const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

export const senseStep: TourStep = {
  id: 'sense',
  title: 'Sense data: fixed and descriptor formats, T10 ASC/ASCQ strings',
  run(io) {
    printLine(io, `T10 ASC/ASCQ table: ${ASC_ASCQ_COUNTS.pairs} pairs + ${ASC_ASCQ_COUNTS.ranges} ranges`);
    const samples = [
      'f0 00 03 00 00 12 34 0a 00 00 00 00 11 00 00 00 00 00',
      '72 05 24 00 00 00 00 08 02 06 00 00 c0 00 02 00',
      '70 00 06 00 00 00 00 0a 00 00 00 00 29 00 00 00 00 00',
    ];
    for (const s of samples) {
      const bytes = fromHex(s);
      const sense = decodeSense(bytes);
      printLine(io, `${s}`);
      printLine(io, `  ${sense.format} format -> ${formatSenseLine(sense)}`);
    }
    const first = fromHex(samples[0] ?? '');
    const response = responseFromSgIoV4(
      createSgIoV4Header({ deviceStatus: 0x02, driverStatus: 0x08, responseLen: first.length }),
      first,
    );
    const error = responseError(response);
    printLine(
      io,
      `as a completed request: category ${response.category} -> ${error?.name}: ${error?.message} (exit status ${error?.exitStatus})`,
    );
  },
};
