/** The `--json` record of a response, shared by the device commands. */
import type { DeviceResponse } from '@sgv4/bsg';
import { driverStatusName, formatSenseLine, hostStatusName, resultCategoryName } from '@sgv4/core';
import { toHex } from './hex-dump.js';

/**
 * Fields: status, statusName, hostStatus, hostStatusName, driverStatus, driverStatusName,
 * category (GOOD|STATUS|SENSE|TRANSPORT_ERR), tag (decimal string), tagOnWire, transferred,
 * dinResid, doutResid, durationMs, info, sense (hex, "" when none), senseLine (when sense decodes).
 */
export function responseRecord(r: DeviceResponse): Record<string, unknown> {
  return {
    status: r.status,
    statusName: r.statusName,
    hostStatus: r.hostStatus,
    hostStatusName: hostStatusName(r.hostStatus),
    driverStatus: r.driverStatus,
    driverStatusName: driverStatusName(r.driverStatus),
    category: resultCategoryName(r.category),
    tag: r.tag,
    tagOnWire: r.tagOnWire,
    transferred: r.transferred,
    dinResid: r.dinResid,
    doutResid: r.doutResid,
    durationMs: r.durationMs,
    info: r.info,
    sense: toHex(r.sense),
    ...(r.decodedSense ? { senseLine: formatSenseLine(r.decodedSense) } : {}),
  };
}
