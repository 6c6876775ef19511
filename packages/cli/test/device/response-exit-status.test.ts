import { decodeSense, ResultCategory, resultCategoryOf, type ScsiResponse, scsiStatusName } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { exitStatusForResponse } from '../../src/device/exit-status.js';

function response(
  status: number,
  hostStatus: number,
  driverStatus: number,
  sense: number[] = [],
): ScsiResponse {
  const bytes = Uint8Array.from(sense);
  return {
    status,
    statusName: scsiStatusName(status),
    hostStatus,
    driverStatus,
    sense: bytes,
    ...(bytes.length > 0 ? { decodedSense: decodeSense(bytes) } : {}),
    dinResid: 0,
    doutResid: 0,
    durationMs: 0,
    info: 0,
    generatedTag: 0n,
    usrPtr: 0n,
    category: resultCategoryOf(status, hostStatus, driverStatus, bytes.length),
  };
}

const mediumError = [0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0];

describe("exit status of a completed command (sg3_utils' sg_err_category_new)", () => {
  it.each([
    ['GOOD, clean host and driver bytes', response(0, 0, 0), 0],
    ['GOOD with DID_TIME_OUT (the kernel timed it out): not 0', response(0, 0x03, 0), 33],
    ['GOOD with DID_NO_CONNECT', response(0, 0x01, 0), 33],
    ['GOOD with DID_BUS_BUSY', response(0, 0x02, 0), 33],
    ['DID_NEXUS_FAILURE', response(0, 0x11, 0), 24],
    ['driver DRIVER_TIMEOUT', response(0, 0, 0x06), 33],
    ['DID_ERROR', response(0, 0x07, 0), 35],
    ['CHECK CONDITION, MEDIUM ERROR sense', response(2, 0, 8, mediumError), 3],
    ['CHECK CONDITION with DID_TIME_OUT: the sense decides', response(2, 3, 8, mediumError), 3],
    ['CHECK CONDITION without sense', response(2, 0, 0), 98],
    ['BUSY', response(0x08, 0, 0), 26],
    ['RESERVATION CONFLICT', response(0x18, 0, 0), 24],
    ['TASK SET FULL', response(0x28, 0, 0), 27],
  ])('%s -> %i', (_name, r, status) => {
    expect(exitStatusForResponse(r)).toBe(status);
  });

  it('agrees with the result category on what is clean', () => {
    expect(response(0, 0x03, 0).category).toBe(ResultCategory.TRANSPORT_ERR);
  });
});
