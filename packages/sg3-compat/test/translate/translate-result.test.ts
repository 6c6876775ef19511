/**
 * Response -> v3 outputs: the table of sg's and block SG_IO's rules (sense copy, DRIVER_SENSE,
 * SG_INFO_CHECK, masked_status, resid side), and the way back.
 */
import {
  createSgIoV4Header,
  DriverStatus,
  HostStatus,
  responseFromSgIoV4,
  type ScsiResponse,
  ScsiStatus,
  SG_INFO_CHECK,
  SG_INFO_DIRECT_IO,
  type TransferDirection,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { responseFromSgV3Result, type SgInterface, sgV3ResultFromResponse } from '../../src/index.js';

/** Fixed-format sense, ILLEGAL REQUEST / INVALID FIELD IN CDB, additional length 10 (18 bytes). */
const FIXED = Uint8Array.of(0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0);
/** Recovered error sense with GOOD status (the device reports sense without CHECK CONDITION). */
const RECOVERED = Uint8Array.of(0x70, 0, 0x01, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x17, 0, 0, 0, 0, 0);

function response(partial: {
  status?: number;
  host?: number;
  driver?: number;
  sense?: Uint8Array;
  din?: number;
  dout?: number;
  info?: number;
}): ScsiResponse {
  const sense = partial.sense ?? new Uint8Array();
  return responseFromSgIoV4(
    createSgIoV4Header({
      deviceStatus: partial.status ?? 0,
      transportStatus: partial.host ?? 0,
      driverStatus: partial.driver ?? 0,
      responseLen: sense.length,
      dinResid: partial.din ?? 0,
      doutResid: partial.dout ?? 0,
      duration: 12,
      info: partial.info ?? 0,
    }),
    sense,
  );
}

interface Row {
  readonly name: string;
  readonly iface: SgInterface;
  readonly response: ScsiResponse;
  readonly mxSbLen: number;
  readonly hasSenseBuffer?: boolean;
  readonly direction?: TransferDirection;
  readonly expected: Partial<
    Record<'status' | 'maskedStatus' | 'sbLenWr' | 'driverStatus' | 'info' | 'resid' | 'hostStatus', number>
  >;
}

const CC = ScsiStatus.CHECK_CONDITION;
const rows: readonly Row[] = [
  {
    name: 'GOOD',
    iface: 'sg',
    response: response({}),
    mxSbLen: 32,
    expected: { status: 0, maskedStatus: 0, sbLenWr: 0, driverStatus: 0, info: 0 },
  },
  {
    name: 'CHECK CONDITION: 8 + sense[7] bytes, DRIVER_SENSE, CHECK',
    iface: 'sg',
    response: response({ status: CC, driver: DriverStatus.DRIVER_SENSE, sense: FIXED }),
    mxSbLen: 32,
    expected: { status: 2, maskedStatus: 1, sbLenWr: 18, driverStatus: 8, info: SG_INFO_CHECK },
  },
  {
    name: 'CHECK CONDITION into a smaller buffer',
    iface: 'sg',
    response: response({ status: CC, sense: FIXED }),
    mxSbLen: 8,
    expected: { sbLenWr: 8, driverStatus: 8, info: SG_INFO_CHECK },
  },
  {
    name: 'CHECK CONDITION with mx_sb_len 0: no sense, no DRIVER_SENSE on sg (bsg would say 8)',
    iface: 'sg',
    response: response({ status: CC, driver: DriverStatus.DRIVER_SENSE, sense: FIXED }),
    mxSbLen: 0,
    expected: { sbLenWr: 0, driverStatus: 0, info: SG_INFO_CHECK },
  },
  {
    name: 'CHECK CONDITION with a NULL sbp',
    iface: 'sg',
    response: response({ status: CC, sense: FIXED }),
    mxSbLen: 32,
    hasSenseBuffer: false,
    expected: { sbLenWr: 0, driverStatus: 0 },
  },
  {
    name: 'CHECK CONDITION without sense bytes still copies 8 (sg_new_read reads its zeroed sense_b)',
    iface: 'sg',
    response: response({ status: CC }),
    mxSbLen: 32,
    expected: { sbLenWr: 8, driverStatus: 8 },
  },
  {
    name: 'GOOD with sense: the midlayer keeps no sense for a zero result, nothing is copied',
    iface: 'sg',
    response: response({ sense: RECOVERED }),
    mxSbLen: 32,
    expected: { status: 0, sbLenWr: 0, driverStatus: 0, info: 0 },
  },
  {
    name: 'BUSY with sense: kept (non-zero result) and copied, as sense_b starts with 0x70',
    iface: 'sg',
    response: response({ status: ScsiStatus.BUSY, sense: RECOVERED }),
    mxSbLen: 32,
    expected: { maskedStatus: 4, sbLenWr: 18, driverStatus: 8, info: SG_INFO_CHECK },
  },
  {
    name: 'CHECK CONDITION with invalid sense (response code 0): eight zero bytes',
    iface: 'sg',
    response: response({ status: CC, sense: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8) }),
    mxSbLen: 32,
    expected: { sbLenWr: 8, driverStatus: 8 },
  },
  {
    name: 'COMMAND TERMINATED (masked 0x11) counts as CHECK CONDITION on sg',
    iface: 'sg',
    response: response({ status: ScsiStatus.COMMAND_TERMINATED, sense: FIXED }),
    mxSbLen: 96,
    expected: { maskedStatus: 0x11, sbLenWr: 18, driverStatus: 8 },
  },
  {
    name: 'BUSY: masked 4, CHECK, no sense',
    iface: 'sg',
    response: response({ status: ScsiStatus.BUSY }),
    mxSbLen: 32,
    expected: { maskedStatus: 4, sbLenWr: 0, driverStatus: 0, info: SG_INFO_CHECK },
  },
  {
    name: 'DID_TIME_OUT: host byte, CHECK',
    iface: 'sg',
    response: response({ host: HostStatus.DID_TIME_OUT }),
    mxSbLen: 32,
    expected: { hostStatus: 3, info: SG_INFO_CHECK },
  },
  {
    name: 'direct IO bit kept',
    iface: 'sg',
    response: response({ info: SG_INFO_DIRECT_IO, din: 100 }),
    mxSbLen: 32,
    expected: { info: SG_INFO_DIRECT_IO, resid: 100 },
  },
  {
    name: 'resid of data-out is dout_resid',
    iface: 'sg',
    response: response({ din: 5, dout: 7 }),
    mxSbLen: 32,
    direction: 'to-device',
    expected: { resid: 7 },
  },
  {
    name: 'block: CHECK CONDITION copies min(mx_sb_len, sense_len = 8 + sense[7])',
    iface: 'block',
    response: response({ status: CC, sense: FIXED }),
    mxSbLen: 32,
    expected: { sbLenWr: 18, driverStatus: 8, info: SG_INFO_CHECK },
  },
  {
    name: 'block: into a smaller buffer',
    iface: 'block',
    response: response({ status: CC, sense: FIXED }),
    mxSbLen: 10,
    expected: { sbLenWr: 10, driverStatus: 8 },
  },
  {
    name: 'block: CHECK CONDITION without valid sense copies nothing',
    iface: 'block',
    response: response({ status: CC }),
    mxSbLen: 32,
    expected: { sbLenWr: 0, driverStatus: 8, info: SG_INFO_CHECK },
  },
  {
    name: 'block: DRIVER_SENSE even with mx_sb_len 0',
    iface: 'block',
    response: response({ status: CC, sense: FIXED }),
    mxSbLen: 0,
    expected: { sbLenWr: 0, driverStatus: 8 },
  },
  {
    name: 'block: sense with GOOD is not kept, so not copied',
    iface: 'block',
    response: response({ sense: RECOVERED }),
    mxSbLen: 18,
    expected: { sbLenWr: 0, driverStatus: 0, info: 0 },
  },
  {
    name: 'block: COMMAND TERMINATED is not CHECK CONDITION for DRIVER_SENSE',
    iface: 'block',
    response: response({ status: ScsiStatus.COMMAND_TERMINATED }),
    mxSbLen: 32,
    expected: { driverStatus: 0, sbLenWr: 0, info: SG_INFO_CHECK },
  },
];

describe('response -> v3 result', () => {
  it.each(rows)('$iface: $name', (row) => {
    const out = sgV3ResultFromResponse(row.response, {
      interface: row.iface,
      direction: row.direction ?? 'from-device',
      mxSbLen: row.mxSbLen,
      hasSenseBuffer: row.hasSenseBuffer ?? true,
    });
    expect(out.result).toMatchObject({ msgStatus: 0, duration: 12, ...row.expected });
    expect(out.sense.length).toBe(out.result.sbLenWr);
    const padded = new Uint8Array(96);
    if ((row.response.sense[0]! & 0x70) === 0x70) padded.set(row.response.sense);
    expect(out.sense).toEqual(padded.subarray(0, out.result.sbLenWr));
  });

  it('comes back as the response it stands for', () => {
    const out = sgV3ResultFromResponse(response({ status: CC, sense: FIXED, din: 4 }), {
      direction: 'from-device',
      mxSbLen: 32,
      hasSenseBuffer: true,
    });
    const back = responseFromSgV3Result(out.result, out.sense, 'from-device', 9n);
    expect(back).toMatchObject({
      status: CC,
      driverStatus: 8,
      dinResid: 4,
      doutResid: 0,
      usrPtr: 9n,
      durationMs: 12,
    });
    expect(back.decodedSense?.senseKey).toBe(5);
  });
});
