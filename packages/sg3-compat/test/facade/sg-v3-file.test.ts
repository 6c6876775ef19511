/**
 * The SgV3 facade on the embedded target: the glue between the fd model and a device (data
 * through the kernel buffer the model picked, sense and header written back, waiting, mmap,
 * pack_ids, interrupts) and the two places it departs from the kernel unless kernelExact.
 * The rules themselves are the model's, compared with /dev/sg in the lab.
 */
import {
  defaultQueueLimits,
  InvalidFieldError,
  OsError,
  sgLinkReserve,
  sgToFromDevRefusal,
} from '@sgv4/core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AddressSpace,
  createSgIoHdr,
  decodeSgIoHdr,
  encodeSgIoHdr,
  POLLIN,
  POLLOUT,
  type ScsiExecutor,
  SG_DXFER_FROM_DEV,
  SG_DXFER_NONE,
  SG_DXFER_TO_DEV,
  SG_DXFER_TO_FROM_DEV,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_GET_NUM_WAITING,
  SG_GET_PACK_ID,
  SG_GET_REQUEST_TABLE,
  SG_GET_RESERVED_SIZE,
  SG_GET_SCSI_ID,
  SG_GET_VERSION_NUM,
  SG_IO,
  SG_SET_FORCE_PACK_ID,
  SG_SET_KEEP_ORPHAN,
  SG_SET_RESERVED_SIZE,
  SgDriverError,
  SgV3File,
  type SgV3OpenOptions,
} from '../../src/index.js';
import { TargetExecutor } from '../support/target-executor.js';

const inquiry = (len = 96) => Uint8Array.of(0x12, 0, 0, 0, len, 0);
const read10 = (lba: number, blocks: number) =>
  Uint8Array.of(0x28, 0, 0, 0, lba >> 8, lba & 0xff, 0, 0, blocks, 0);
const write10 = (lba: number, blocks: number) =>
  Uint8Array.of(0x2a, 0, 0, 0, lba >> 8, lba & 0xff, 0, 0, blocks, 0);
const tur = () => new Uint8Array(6);

function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof OsError) return error.code;
    throw error;
  }
  return undefined;
}

async function rejectsWith(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (error instanceof OsError) return error.code;
    throw error;
  }
  return 'resolved';
}

let executor: TargetExecutor;
let open: (options?: SgV3OpenOptions) => SgV3File;

beforeEach(async () => {
  executor = await TargetExecutor.create();
  open = (options = {}) => new SgV3File(executor, options);
});

/** Writes `blocks` blocks of a pattern at `lba` through the facade (SG_IO, data-out). */
async function fill(sg: SgV3File, lba: number, blocks: number, seed: number): Promise<Uint8Array> {
  const data = Uint8Array.from({ length: blocks * 512 }, (_, i) => (seed + i * 7) & 0xff);
  const reply = await sg.ioctl(SG_IO, { dxferDirection: SG_DXFER_TO_DEV, cmd: write10(lba, blocks), data });
  expect(reply.status).toBe(0);
  return data;
}

describe('SG_IO', () => {
  it('runs a header given as buffers: data in, resid, header fields back', async () => {
    const sg = open();
    const data = new Uint8Array(96);
    const sense = new Uint8Array(32);
    const reply = await sg.ioctl(SG_IO, {
      dxferDirection: SG_DXFER_FROM_DEV,
      cmd: inquiry(),
      data,
      sense,
      packId: 7,
      usrPtr: 0x1234n,
      timeout: 5000,
    });
    expect(reply).toMatchObject({
      status: 0,
      hostStatus: 0,
      driverStatus: 0,
      sbLenWr: 0,
      packId: 7,
      usrPtr: 0x1234n,
    });
    expect(Buffer.from(data.subarray(8, 12)).toString()).toBe('SGV4');
    expect(reply.resid).toBe(96 - (data[4]! + 5));
    expect(sg.outstanding).toBe(0);
  });

  it('writes CHECK CONDITION sense to the sense buffer (DRIVER_SENSE, sb_len_wr)', async () => {
    const sg = open();
    const sense = new Uint8Array(32);
    const reply = await sg.ioctl(SG_IO, {
      dxferDirection: SG_DXFER_NONE,
      cmd: Uint8Array.of(0xff, 0, 0, 0, 0, 0),
      sense,
    });
    expect(reply.status).toBe(2);
    expect(reply.maskedStatus).toBe(1);
    expect(reply.driverStatus).toBe(0x08);
    expect(reply.sbLenWr).toBe(Math.min(32, 8 + sense[7]!));
    expect(sense[2]! & 0x0f).toBe(5); // ILLEGAL REQUEST
    expect(reply.sense).toEqual(sense.subarray(0, reply.sbLenWr));
    expect(reply.info & 1).toBe(1);
  });

  it.each(['lp64', 'ilp32'] as const)(
    'runs an sg_io_hdr struct (%s) whose pointers name the caller memory',
    async (abi) => {
      const memory = new AddressSpace({ abi });
      const sg = open({ memory, abi });
      await fill(sg, 10, 2, 3);
      const data = new Uint8Array(1024);
      const cdb = read10(10, 2);
      const bytes = encodeSgIoHdr(
        createSgIoHdr({
          dxferDirection: SG_DXFER_FROM_DEV,
          cmdLen: cdb.length,
          cmdp: memory.map(cdb),
          dxferLen: data.length,
          dxferp: memory.map(data),
          mxSbLen: 0,
          packId: 5,
        }),
        abi,
      );
      expect(bytes.length).toBe(abi === 'lp64' ? 88 : 64);
      await sg.ioctl(SG_IO, bytes);
      expect(data[1]).toBe((3 + 7) & 0xff);
      const back = decodeSgIoHdr(bytes, abi);
      expect(back).toMatchObject({ status: 0, resid: 0, packId: 5, info: 0 });
    },
  );

  it('gathers iovecs into the kernel buffer and scatters the reply back', async () => {
    const sg = open();
    const written = await fill(sg, 20, 2, 11);
    const parts = [new Uint8Array(100), new Uint8Array(412), new Uint8Array(512)];
    const reply = await sg.ioctl(SG_IO, {
      dxferDirection: SG_DXFER_FROM_DEV,
      cmd: read10(20, 2),
      data: parts,
    });
    expect(reply.iovecCount).toBe(3);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(written));
    expect(executor.submitted.at(-1)?.dataIn).toBeInstanceOf(Uint8Array);
  });

  it('faults on an unmapped cmdp (EFAULT) and frees the slot', async () => {
    const sg = open();
    const hdr = createSgIoHdr({ dxferDirection: SG_DXFER_NONE, cmdLen: 6, cmdp: 0x5000n });
    expect(await rejectsWith(sg.ioctl(SG_IO, hdr))).toBe('EFAULT');
    expect(sg.outstanding).toBe(0);
  });

  it('an interrupted SG_IO is EINTR and its request an orphan, dropped unless KEEP_ORPHAN', async () => {
    const sg = open();
    sg.ioctl(SG_SET_KEEP_ORPHAN, 1);
    const controller = new AbortController();
    controller.abort();
    const data = new Uint8Array(96);
    const call = sg.ioctl(
      SG_IO,
      { dxferDirection: SG_DXFER_FROM_DEV, cmd: inquiry(), data, packId: 9 },
      {
        signal: controller.signal,
      },
    );
    expect(await rejectsWith(call)).toBe('EINTR');
    await sg.drain();
    expect(sg.ioctl(SG_GET_NUM_WAITING)).toBe(1);
    const reply = await sg.read();
    expect(reply.packId).toBe(9);
    expect(Buffer.from(data.subarray(8, 12)).toString()).toBe('SGV4');
  });
});

describe('write() / read() / poll()', () => {
  it('queues with pack_ids; SG_SET_FORCE_PACK_ID picks a reply; NUM_WAITING, PACK_ID, the table', async () => {
    const sg = open();
    for (const packId of [3, 1, 2]) sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId });
    await sg.drain();
    expect(sg.ioctl(SG_GET_NUM_WAITING)).toBe(3);
    expect(sg.ioctl(SG_GET_PACK_ID)).toBe(3);
    const table = sg.ioctl(SG_GET_REQUEST_TABLE);
    expect(table.slice(0, 4).map((e) => [e.reqState, e.packId])).toEqual([
      [2, 3],
      [2, 1],
      [2, 2],
      [0, 0],
    ]);
    expect(sg.poll() & POLLIN).toBe(POLLIN);
    sg.ioctl(SG_SET_FORCE_PACK_ID, 1);
    expect((await sg.read({ packId: 2 })).packId).toBe(2);
    expect((await sg.read({ packId: -1 })).packId).toBe(3);
    sg.ioctl(SG_SET_FORCE_PACK_ID, 0);
    expect((await sg.read({ packId: 99 })).packId).toBe(1);
    expect(sg.poll() & POLLIN).toBe(0);
    expect(sg.poll() & POLLOUT).toBe(POLLOUT);
  });

  it('O_NONBLOCK: read() with nothing ready is EAGAIN; a blocking read() waits for the completion', async () => {
    const nb = open({ nonBlocking: true });
    expect(await rejectsWith(nb.read())).toBe('EAGAIN');
    const sg = open();
    const waiting = sg.read();
    sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId: 4 });
    expect((await waiting).packId).toBe(4);
  });

  it('pollWait resolves with POLLIN once a reply is ready, or the mask at the timeout', async () => {
    const sg = open();
    expect(await sg.pollWait(POLLIN, { timeoutMs: 5 })).toBe(sg.poll());
    sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId: 1 });
    expect((await sg.pollWait(POLLIN)) & POLLIN).toBe(POLLIN);
  });

  it('a ported `while (waiting < n) poll()` loop cannot starve completions that arrive as I/O events', async () => {
    const late: ScsiExecutor = {
      submit: (request) =>
        new Promise((resolve, reject) => {
          setTimeout(() => executor.submit(request).then(resolve, reject), 2);
        }),
    };
    const sg = new SgV3File(late);
    sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId: 1 });
    sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId: 2 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId: 3 });
    let polls = 0;
    while (sg.ioctl(SG_GET_NUM_WAITING) < 3) {
      await sg.pollWait(POLLIN);
      polls++;
    }
    expect(polls).toBeGreaterThan(0);
  });

  it('a read() buffer shorter than the header is EINVAL and the reply is lost; a full one gets the header', async () => {
    const sg = open();
    sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId: 1 });
    sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur(), packId: 2 });
    await sg.drain();
    expect(await rejectsWith(sg.read(new Uint8Array(63)))).toBe('EINVAL');
    const buffer = new Uint8Array(88);
    await sg.read(buffer);
    expect(decodeSgIoHdr(buffer, 'lp64').packId).toBe(2);
    expect(sg.ioctl(SG_GET_NUM_WAITING)).toBe(0);
  });

  it('data reaches the caller at read() time, as the kernel copies it in sg_finish_rem_req()', async () => {
    const sg = open();
    const written = await fill(sg, 30, 1, 5);
    const data = new Uint8Array(512);
    sg.write({ dxferDirection: SG_DXFER_FROM_DEV, cmd: read10(30, 1), data, packId: 1 });
    await sg.drain();
    expect(data.every((b) => b === 0)).toBe(true);
    await sg.read();
    expect(data).toEqual(written);
  });

  it('close(): calls fail with EBADF and a waiting read() is woken with EBADF', async () => {
    const sg = open();
    const waiting = sg.read();
    sg.close();
    expect(await rejectsWith(waiting)).toBe('EBADF');
    expect(errnoOf(() => sg.ioctl(SG_GET_NUM_WAITING))).toBe('EBADF');
    expect(errnoOf(() => sg.write({ dxferDirection: SG_DXFER_NONE, cmd: tur() }))).toBe('EBADF');
  });
});

describe('the reserve, mmap() and SG_FLAG_MMAP_IO', () => {
  it('rounds the reserve as the driver does and maps it as an ArrayBuffer', () => {
    const sg = open();
    expect(sg.ioctl(SG_GET_RESERVED_SIZE)).toBe(32768);
    sg.ioctl(SG_SET_RESERVED_SIZE, 1000); // max(1000, PAGE_SIZE) = 4096 (sg_build_reserve)
    expect(sg.ioctl(SG_GET_RESERVED_SIZE)).toBe(4096);
    sg.ioctl(SG_SET_RESERVED_SIZE, 10000); // rounded up to 512: 10240
    expect(sg.ioctl(SG_GET_RESERVED_SIZE)).toBe(10240);
    expect(errnoOf(() => sg.mmap(12288))).toBe('ENOMEM'); // three pages > 10240
    expect(errnoOf(() => sg.mmap(4096, { pageOffset: 1 }))).toBe('EINVAL');
    const mapped = sg.mmap(8192);
    expect(mapped.byteLength).toBe(10240);
    expect(errnoOf(() => sg.ioctl(SG_SET_RESERVED_SIZE, 65536))).toBe('EBUSY');
    expect(sg.ioctl(SG_SET_RESERVED_SIZE, 10240)).toBe(0);
  });

  it('moves MMAP_IO data through the mapping; one mmap-ed request at a time (EBUSY); ENOMEM; EINVAL with DIRECT_IO', async () => {
    const sg = open();
    const written = await fill(sg, 40, 8, 9);
    sg.ioctl(SG_SET_RESERVED_SIZE, 8192);
    const map = new Uint8Array(sg.mmap(8192));
    const mmapRead = {
      dxferDirection: SG_DXFER_FROM_DEV,
      cmd: read10(40, 8),
      dxferLen: 4096,
      flags: SG_FLAG_MMAP_IO,
    };
    sg.write({ ...mmapRead, packId: 1 });
    expect(errnoOf(() => sg.write({ ...mmapRead, packId: 2 }))).toBe('EBUSY');
    expect(errnoOf(() => sg.write({ ...mmapRead, dxferLen: 8193, packId: 3 }))).toBe('ENOMEM');
    expect(errnoOf(() => sg.write({ ...mmapRead, flags: SG_FLAG_MMAP_IO | SG_FLAG_DIRECT_IO }))).toBe(
      'EINVAL',
    );
    const reply = await sg.read();
    expect(reply.packId).toBe(1);
    expect(map.subarray(0, 4096)).toEqual(written.subarray(0, 4096));
    sg.write({ ...mmapRead, packId: 4 });
    expect((await sg.read()).packId).toBe(4);
  });

  it('SG_FLAG_MMAP_IO before mmap() is a typed error naming flags; kernelExact runs it on the unmapped reserve', async () => {
    const sg = open();
    let error: unknown;
    try {
      sg.write({
        dxferDirection: SG_DXFER_FROM_DEV,
        cmd: read10(0, 1),
        dxferLen: 512,
        flags: SG_FLAG_MMAP_IO,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect((error as InvalidFieldError).field).toBe('flags');
    expect(sg.outstanding).toBe(0);
    const exact = open({ kernelExact: true });
    const reply = await exact.ioctl(SG_IO, {
      dxferDirection: SG_DXFER_FROM_DEV,
      cmd: read10(0, 1),
      dxferLen: 512,
      flags: SG_FLAG_MMAP_IO,
    });
    expect(reply.status).toBe(0);
  });

  it('kernelExact: a write through the reserve sends what the last request left in it', async () => {
    const exact = open({ kernelExact: true });
    const first = await fill(exact, 50, 1, 21); // indirect via the reserve: the data is now in it
    await exact.ioctl(SG_IO, {
      dxferDirection: SG_DXFER_TO_DEV,
      cmd: write10(51, 1),
      dxferLen: 512,
      flags: SG_FLAG_MMAP_IO,
    });
    const back = new Uint8Array(512);
    await exact.ioctl(SG_IO, { dxferDirection: SG_DXFER_FROM_DEV, cmd: read10(51, 1), data: back });
    expect(back).toEqual(first);
  });
});

describe('SG_DXFER_TO_FROM_DEV', () => {
  const toFromDev = (data: Uint8Array) => ({ dxferDirection: SG_DXFER_TO_FROM_DEV, cmd: inquiry(200), data });

  it('runs as sg documents it by default: bytes copied in, the whole buffer copied back', async () => {
    const sg = open();
    const data = new Uint8Array(200).fill(0xaa);
    const reply = await sg.ioctl(SG_IO, toFromDev(data));
    const got = 200 - reply.resid;
    expect(Buffer.from(data.subarray(8, 12)).toString()).toBe('SGV4');
    expect(data.subarray(got).every((b) => b === 0xaa)).toBe(true);
  });

  it('kernelExact fails it as Linux 6.1.80+ does (core rule sg-to-from-dev-regression); MMAP_IO with a NULL dxferp is EFAULT either way', async () => {
    const exact = open({ kernelExact: true });
    const linked = sgLinkReserve(exact.model.reserve.buffer, 200);
    const expected = sgToFromDevRefusal(200, linked, defaultQueueLimits()).errno;
    expect(await rejectsWith(exact.ioctl(SG_IO, toFromDev(new Uint8Array(200))))).toBe(expected);
    const sg = open();
    sg.mmap(4096);
    const mmap = {
      dxferDirection: SG_DXFER_TO_FROM_DEV,
      cmd: inquiry(200),
      dxferLen: 200,
      flags: SG_FLAG_MMAP_IO,
    };
    expect(await rejectsWith(sg.ioctl(SG_IO, mmap))).toBe('EFAULT');
  });
});

describe('ioctls', () => {
  it('SG_GET_VERSION_NUM and SG_GET_SCSI_ID', () => {
    const sg = open({ scsiId: { hostNo: 2, scsiType: 0, dQueueDepth: 32 } });
    expect(sg.ioctl(SG_GET_VERSION_NUM)).toBe(30536);
    const bytes = new Uint8Array(32);
    const id = sg.ioctl(SG_GET_SCSI_ID, bytes);
    expect(id).toMatchObject({ hostNo: 2, dQueueDepth: 32, lun: 0 });
    expect(bytes[0]).toBe(2);
  });

  it('errors carry errno, code, the rule and the sg.c function', () => {
    const sg = open();
    try {
      sg.ioctl(SG_SET_RESERVED_SIZE, -1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SgDriverError);
      expect(error).toMatchObject({ errno: 22, code: 'EINVAL', kernelFunction: 'sg_ioctl_common' });
    }
  });
});
