import { describe, expect, it } from 'vitest';
import {
  buildCdb,
  createSgIoV4Header,
  DeviceError,
  decodeSgIoV4,
  ExitStatus,
  encodeSgIoV4,
  InvalidFieldError,
  ResultCategory,
  requestFieldsFromSgIoV4,
  requestToSgIoV4,
  responseError,
  responseFromSgIoV4,
  resultCategoryOf,
  TransportError,
} from '../../src/index.js';

describe('request model <-> sg_io_v4', () => {
  it('converts a request with iovecs, tag, attribute, priority and queue position', () => {
    const cdb = buildCdb('read10', { lba: 0x1234, transferLength: 8 });
    const h = requestToSgIoV4(
      {
        cdb,
        dataIn: [new Uint8Array(2048), new Uint8Array(2048)],
        timeoutMs: 5000,
        queueAt: 'tail',
        tag: 7n,
        attribute: 'ORDERED',
        priority: 3,
        usrPtr: 0xdeadn,
        packId: 11,
      },
      { cdb: 0x1000n, sense: 0x2000n, dataIn: 0x3000n },
    );
    expect(h).toMatchObject({
      guard: 0x51,
      requestLen: 10,
      request: 0x1000n,
      response: 0x2000n,
      maxResponseLen: 96,
      dinIovecCount: 2,
      dinXferLen: 4096,
      dinXferp: 0x3000n,
      doutXferLen: 0,
      timeout: 5000,
      flags: 0x10,
      requestTag: 7n,
      requestAttr: 2,
      requestPriority: 3,
      requestExtra: 11,
      usrPtr: 0xdeadn,
    });
    const back = requestFieldsFromSgIoV4(decodeSgIoV4(encodeSgIoV4(h)));
    expect(back).toMatchObject({
      queueAt: 'tail',
      tag: 7n,
      attribute: 'ORDERED',
      priority: 3,
      packId: 11,
      timeoutMs: 5000,
    });
  });

  it('rejects bad requests naming the field', () => {
    const cdb = buildCdb('tur');
    const bad: [Record<string, unknown>, string][] = [
      [{ cdb: new Uint8Array(33) }, 'cdb'],
      [{ cdb: new Uint8Array(0) }, 'cdb'],
      [{ cdb, timeoutMs: -1 }, 'timeoutMs'],
      [{ cdb, priority: 16 }, 'priority'],
      [{ cdb, tag: -1n }, 'tag'],
      [{ cdb, dataIn: [] }, 'dataIn'],
      [{ cdb, dataOut: ['x'] }, 'dataOut'],
      [{ cdb, queueAt: 'middle' }, 'queueAt'],
      [{ cdb, attribute: 'NONE' }, 'attribute'],
    ];
    for (const [req, field] of bad) {
      let caught: unknown;
      try {
        requestToSgIoV4(req as never);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidFieldError);
      expect((caught as InvalidFieldError).field).toBe(field);
    }
  });

  it('builds responses with the sg3_utils result category', () => {
    const sense = Uint8Array.from(Buffer.from('f00003000012340a0000000011000000000000', 'hex'));
    const h = createSgIoV4Header({
      deviceStatus: 2,
      driverStatus: 8,
      responseLen: 18,
      dinResid: 4096,
      duration: 3,
      info: 1,
    });
    const r = responseFromSgIoV4(h, sense);
    expect(r).toMatchObject({
      statusName: 'CHECK CONDITION',
      category: ResultCategory.SENSE,
      dinResid: 4096,
      durationMs: 3,
    });
    expect(r.sense.length).toBe(18);
    const err = responseError(r);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err?.message).toBe('CHECK CONDITION: Medium Error: Unrecovered read error, lba 0x1234');
    expect(err?.exitStatus).toBe(ExitStatus.MEDIUM_HARD_WITH_INFO);
    expect(responseError(responseFromSgIoV4(createSgIoV4Header({ transportStatus: 1 })))).toBeInstanceOf(
      TransportError,
    );
    expect(responseError(responseFromSgIoV4(createSgIoV4Header()))).toBeUndefined();
    expect(resultCategoryOf(0x08, 0, 0, 0)).toBe(ResultCategory.STATUS);
    expect(resultCategoryOf(0x02, 0, 8, 0)).toBe(ResultCategory.STATUS);
    expect(resultCategoryOf(0, 0, 0x06, 0)).toBe(ResultCategory.TRANSPORT_ERR);
    expect(resultCategoryOf(0, 0, 0x08, 0)).toBe(ResultCategory.GOOD);
  });
});
