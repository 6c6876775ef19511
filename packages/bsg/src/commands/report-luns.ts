/**
 * REPORT LUNS (SPC-6 6.33).
 * @module
 */
import { buildCdb, InvalidFieldError, parseReportLuns, type ReportedLun } from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** The LUN list and the length the device said it has (more than returned when the buffer was short). */
export interface LunReport {
  /** LUN LIST LENGTH in bytes (8 per LUN). */
  readonly lunListLength: number;
  /** The complete LUN entries received. */
  readonly luns: readonly ReportedLun[];
}

/** REPORT LUNS with SELECT REPORT `selectReport` (0 = all logical units but well-known ones). */
export function reportLunsCommand(selectReport = 0, allocationLength = 8 + 8 * 256): ScsiCommand<LunReport> {
  if (!Number.isInteger(selectReport) || selectReport < 0 || selectReport > 0xff) {
    throw new InvalidFieldError('selectReport', 'must be an integer in 0..255', selectReport);
  }
  if (!Number.isInteger(allocationLength) || allocationLength < 16) {
    throw new InvalidFieldError(
      'allocationLength',
      'must be an integer >= 16 (SPC-6: less is an error)',
      allocationLength,
    );
  }
  return {
    name: 'REPORT LUNS',
    cdb: buildCdb('report-luns', { selectReport, allocationLength }),
    dataInLength: allocationLength,
    parse: (data) => parseReportLuns(data),
  };
}
