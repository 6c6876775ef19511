import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSgIoV4Header, encodeSgIoV4, InvalidFieldError, OsError } from '@sgv4/core';
import { openScsiHandle, type ScsiHandle } from '@sgv4/native';
import { afterAll, describe, expect, it } from 'vitest';
import { openFdCount } from './fd-count.js';

const INQUIRY = Uint8Array.of(0x12, 0, 0, 0, 96, 0);

function inquiryHeader(overrides: Parameters<typeof createSgIoV4Header>[0] = {}): Uint8Array {
  return encodeSgIoV4(
    createSgIoV4Header({ requestLen: 6, dinXferLen: 96, maxResponseLen: 32, ...overrides }),
  );
}

/** Calls `f` and returns what it threw (fails the test if nothing was thrown). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const dir = mkdtempSync(join(tmpdir(), 'sgv4-native-'));
const regularFile = join(dir, 'plain');
writeFileSync(regularFile, 'not a device');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('argument validation before any system call', () => {
  const handle: ScsiHandle = openScsiHandle('/dev/null', { readWrite: true });
  afterAll(() => handle.close());
  const call = (header: unknown, cdb: unknown, sense: unknown, out: unknown, inn: unknown) =>
    thrown(() =>
      // Deliberately wrong types: the addon must answer with a TypeError, not crash.
      handle.sgIoSyncEncoded(
        header as Uint8Array,
        cdb as Uint8Array,
        sense as null,
        out as null,
        inn as null,
      ),
    );

  it('refuses wrong argument types with a TypeError naming the argument', () => {
    const hdr = inquiryHeader();
    for (const [args, name] of [
      [[undefined, INQUIRY, null, null, null], 'header'],
      [['x'.repeat(160), INQUIRY, null, null, null], 'header'],
      [[new Uint16Array(80), INQUIRY, null, null, null], 'header'],
      [[hdr, [0x12, 0, 0, 0, 96, 0], null, null, null], 'cdb'],
      [[hdr, INQUIRY, 42, null, new Uint8Array(96)], 'sense'],
      [[hdr, INQUIRY, new Uint8Array(32), null, {}], 'dataIn'],
      [[hdr, INQUIRY, new Uint8Array(32), null, [new Uint8Array(8), 'x']], 'dataIn[1]'],
    ] as const) {
      const error = call(...(args as unknown as [unknown, unknown, unknown, unknown, unknown]));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message.startsWith(`${name}:`)).toBe(true);
    }
  });

  it('refuses every length that does not fit its buffer with an InvalidFieldError naming the field', () => {
    const sense = new Uint8Array(32);
    const cases: [Uint8Array, Uint8Array, Uint8Array | null, Uint8Array | null, unknown, string][] = [
      [new Uint8Array(159), INQUIRY, sense, null, new Uint8Array(96), 'header'],
      [inquiryHeader({ guard: 0x53 }), INQUIRY, sense, null, new Uint8Array(96), 'guard'],
      [inquiryHeader({ requestLen: 10 }), INQUIRY, sense, null, new Uint8Array(96), 'request_len'],
      [inquiryHeader({ requestLen: 5 }), INQUIRY, sense, null, new Uint8Array(96), 'request_len'],
      [inquiryHeader({ requestLen: 33 }), new Uint8Array(40), sense, null, new Uint8Array(96), 'request_len'],
      [inquiryHeader({ maxResponseLen: 33 }), INQUIRY, sense, null, new Uint8Array(96), 'max_response_len'],
      [inquiryHeader({ maxResponseLen: 1 }), INQUIRY, null, null, new Uint8Array(96), 'max_response_len'],
      [inquiryHeader(), INQUIRY, sense, null, new Uint8Array(95), 'din_xfer_len'],
      [inquiryHeader({ dinXferLen: 0xffff_ffff }), INQUIRY, sense, null, new Uint8Array(96), 'din_xfer_len'],
      [inquiryHeader(), INQUIRY, sense, null, null, 'din_xfer_len'],
      [
        inquiryHeader({ dinIovecCount: 3 }),
        INQUIRY,
        sense,
        null,
        [new Uint8Array(48), new Uint8Array(48)],
        'din_iovec_count',
      ],
      [inquiryHeader({ dinIovecCount: 1 }), INQUIRY, sense, null, new Uint8Array(96), 'din_iovec_count'],
      [
        inquiryHeader({ dinIovecCount: 2 }),
        INQUIRY,
        sense,
        null,
        [new Uint8Array(48), new Uint8Array(47)],
        'din_xfer_len',
      ],
      [
        inquiryHeader({ doutXferLen: 8 }),
        INQUIRY,
        sense,
        new Uint8Array(8),
        new Uint8Array(96),
        'dout_xfer_len',
      ],
      [inquiryHeader({ protocol: 1 }), INQUIRY, sense, null, new Uint8Array(96), 'protocol'],
      [
        inquiryHeader({ maxResponseLen: 256 }),
        INQUIRY,
        new Uint8Array(256),
        null,
        new Uint8Array(96),
        'max_response_len',
      ],
      [inquiryHeader({ flags: 0x4 }), INQUIRY, sense, null, new Uint8Array(96), 'flags'],
    ];
    for (const [header, cdb, senseBuffer, out, inn, field] of cases) {
      const error = call(header, cdb, senseBuffer, out, inn);
      expect(error, field).toBeInstanceOf(InvalidFieldError);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as InvalidFieldError).field).toBe(field);
    }
  });

  it('sends a well-formed request to the kernel and surfaces its errno (ENOTTY on /dev/null)', () => {
    const error = call(inquiryHeader(), INQUIRY, new Uint8Array(32), null, new Uint8Array(96));
    expect(error).toBeInstanceOf(OsError);
    expect(error).toMatchObject({ errno: 25, code: 'ENOTTY', syscall: 'ioctl(SG_IO)', path: '/dev/null' });
  });

  it('turns validation failures of promise methods into rejections', async () => {
    const error = await handle
      .sgIo({
        header: inquiryHeader({ requestLen: 40 }),
        cdb: new Uint8Array(40),
        dataIn: new Uint8Array(96),
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'request_len' });
  });

  it('rejects a request on an addon thread with an OsError; the caller stack only on request', async () => {
    const request = {
      header: inquiryHeader(),
      cdb: INQUIRY,
      sense: new Uint8Array(32),
      dataIn: new Uint8Array(96),
    };
    const plain = await handle.sgIo(request).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(OsError);
    expect((plain as OsError).code).toBe('ENOTTY');
    expect((plain as Error).stack).not.toContain('abuse.test.ts');
    const debug = openScsiHandle('/dev/null', { readWrite: true, captureStacks: true });
    const traced = await debug.sgIo(request).catch((e: unknown) => e);
    expect((traced as OsError).code).toBe('ENOTTY');
    expect((traced as Error).stack).toContain('abuse.test.ts');
    await debug.close();
  });

  it('refuses the async write()/read() interface on a node that is not sg', async () => {
    const error = await handle
      .submit({
        header: inquiryHeader(),
        cdb: INQUIRY,
        sense: new Uint8Array(32),
        dataIn: new Uint8Array(96),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect((error as InvalidFieldError).field).toBe('handle.kind');
  });

  it('refuses ioctls outside the supported list and bad ioctl values', () => {
    expect(thrown(() => handle.setTimeout(2 ** 40))).toBeInstanceOf(InvalidFieldError);
    expect(thrown(() => handle.setTimeout(1.5))).toBeInstanceOf(InvalidFieldError);
    expect(thrown(() => handle.mapReservedBuffer(0))).toBeInstanceOf(InvalidFieldError);
    expect(thrown(() => handle.mapReservedBuffer(-1))).toBeInstanceOf(InvalidFieldError);
  });

  it('surfaces each ioctl errno from a non-SCSI node', () => {
    for (const ioctl of [
      () => handle.getVersionNum(),
      () => handle.getScsiId(),
      () => handle.getSgTablesize(),
      () => handle.getTimeout(),
      () => handle.getRequestTable(),
      () => handle.getNumWaiting(),
      () => handle.blkSectGet(),
    ]) {
      const error = thrown(ioctl);
      expect(error).toBeInstanceOf(OsError);
      expect((error as OsError).code).toBe('ENOTTY');
      expect((error as OsError).syscall).toMatch(/^ioctl\((SG_|BLK)/);
    }
  });
});

describe('open, close and classification', () => {
  it('classifies non-SCSI nodes as other', () => {
    const devNull = openScsiHandle('/dev/null');
    const plain = openScsiHandle(regularFile);
    expect([devNull.kind, plain.kind]).toEqual(['other', 'other']);
    devNull.close();
    plain.close();
  });

  it('surfaces open errors as OsError with the path', () => {
    expect(thrown(() => openScsiHandle(join(dir, 'missing')))).toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(thrown(() => openScsiHandle(`${dir}/a\u0000b`))).toBeInstanceOf(InvalidFieldError);
  });

  it('close() waits for the kernel, settles requests with their results, and a second close is the same promise', async () => {
    const before = openFdCount();
    for (let i = 0; i < 50; i++) {
      const handle = openScsiHandle(regularFile, { readWrite: true });
      const pending = handle.sgIo({
        header: inquiryHeader(),
        cdb: INQUIRY,
        sense: new Uint8Array(32),
        dataIn: new Uint8Array(96),
      });
      const closing = handle.close();
      expect(handle.close()).toBe(closing);
      // It reached the kernel before close(): it settles with its real result (ENOTTY).
      await expect(pending).rejects.toMatchObject({ code: 'ENOTTY', syscall: 'ioctl(SG_IO)' });
      await closing;
      expect(thrown(() => handle.getVersionNum())).toMatchObject({ code: 'EBADF' });
      expect(thrown(() => handle.sgIoSyncEncoded(inquiryHeader(), INQUIRY, null, null, null))).toMatchObject({
        code: 'EBADF',
      });
      await expect(handle.sgIo({ header: inquiryHeader(), cdb: INQUIRY })).rejects.toMatchObject({
        code: 'EBADF',
      });
      expect(handle.fd).toBe(-1);
    }
    expect(openFdCount()).toBe(before);
  });
});
