/**
 * The addon against the real Linux 6.1 sg, bsg and sd drivers (scsi_debug), inside the lab guest.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createSgIoV4Header,
  decodeSgIoV4,
  InvalidFieldError,
  OsError,
  SG_FLAG_MMAP_IO,
  SG_INFO_CHECK,
} from '@sgv4/core';
import { openScsiHandle, type ScsiHandle, SgScsiReset } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFdCount } from './fd-count.js';
import { labNodes, latency, queueLimit, setLatency } from './lab-nodes.js';
import {
  dataInRequest,
  dataOutRequest,
  encodedHeader,
  inquiryCdb,
  pattern,
  read10Cdb,
  readCapacity10Cdb,
  write10Cdb,
} from './scsi-commands.js';

const BLOCK = 512;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

type Mode = 'sync' | 'promise';
const nodes = [
  ['sg', labNodes.sg, 'v3'],
  ['bsg', labNodes.bsg, 'v4'],
  ['block', labNodes.block, 'v3'],
] as const;

const fdsAtStart = openFdCount();
afterAll(() => {
  expect(openFdCount()).toBe(fdsAtStart);
});

describe('ioctls on the real drivers', () => {
  let sg: ScsiHandle;
  let bsg: ScsiHandle;
  let block: ScsiHandle;
  beforeAll(() => {
    sg = openScsiHandle(labNodes.sg, { readWrite: true });
    bsg = openScsiHandle(labNodes.bsg, { readWrite: true });
    block = openScsiHandle(labNodes.block, { readWrite: true });
  });
  afterAll(async () => {
    for (const h of [sg, bsg, block]) await h.close();
  });

  it('classifies the nodes with fstat', () => {
    expect([sg.kind, bsg.kind, block.kind]).toEqual(['sg', 'bsg', 'block']);
  });

  it('SG_GET_VERSION_NUM: sg 3.5.36, bsg and block SG_IO 3.5.27', () => {
    expect([sg.getVersionNum(), bsg.getVersionNum(), block.getVersionNum()]).toEqual([30536, 30527, 30527]);
  });

  it('SG_GET_SCSI_ID on sg; ENOTTY on bsg', () => {
    const id = sg.getScsiId();
    expect(id).toMatchObject({ channel: 0, scsiId: 0, lun: 0, scsiType: 0 });
    expect(id.dQueueDepth).toBeGreaterThan(0);
    expect(thrown(() => bsg.getScsiId())).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl(SG_GET_SCSI_ID)' });
  });

  it('SG_GET_SG_TABLESIZE is the queue max_segments', () => {
    expect(sg.getSgTablesize()).toBe(queueLimit('max_segments'));
  });

  it('SG_SET/GET_TIMEOUT in USER_HZ ticks on sg, bsg and block', () => {
    expect(sg.getTimeout()).toBe(6000); // SG_DEFAULT_TIMEOUT_USER
    for (const h of [sg, bsg, block]) {
      h.setTimeout(1234);
      expect(h.getTimeout()).toBe(1234);
    }
    expect(thrown(() => sg.setTimeout(-1))).toMatchObject({ code: 'EIO' });
  });

  it('SG_SET/GET_COMMAND_Q: sg per fd; bsg refuses < 1 (EINVAL)', () => {
    expect(sg.getCommandQ()).toBe(0);
    sg.setCommandQ(1);
    expect(sg.getCommandQ()).toBe(1);
    sg.setCommandQ(0);
    expect(sg.getCommandQ()).toBe(0);
    expect(bsg.getCommandQ()).toBe(64);
    expect(thrown(() => bsg.setCommandQ(0))).toMatchObject({ code: 'EINVAL' });
  });

  it('SG_GET_NUM_WAITING, SG_GET_PACK_ID and SG_GET_REQUEST_TABLE on an idle fd', () => {
    expect(sg.getNumWaiting()).toBe(0);
    expect(sg.getPackId()).toBe(-1);
    const table = sg.getRequestTable();
    expect(table).toHaveLength(16);
    expect(table.every((r) => r.reqState === 0)).toBe(true);
    expect(thrown(() => bsg.getNumWaiting())).toMatchObject({ code: 'ENOTTY' });
  });

  it('SG_SET/GET_KEEP_ORPHAN', () => {
    expect(sg.getKeepOrphan()).toBe(0);
    sg.setKeepOrphan(true);
    expect(sg.getKeepOrphan()).toBe(1);
    sg.setKeepOrphan(false);
    expect(sg.getKeepOrphan()).toBe(0);
  });

  it('SG_SCSI_RESET: NOTHING succeeds as root, an unknown value is EIO, bsg has no such ioctl', () => {
    sg.scsiReset(SgScsiReset.NOTHING);
    expect(thrown(() => sg.scsiReset(99))).toMatchObject({ code: 'EIO' });
    expect(thrown(() => bsg.scsiReset(SgScsiReset.NOTHING))).toMatchObject({ code: 'ENOTTY' });
  });

  it('SG_SCSI_RESET off the JS thread: the same answers as promises, on its own copy of the fd', async () => {
    await expect(sg.scsiResetAsync(SgScsiReset.NOTHING)).resolves.toBeUndefined();
    await expect(sg.scsiResetAsync(99)).rejects.toMatchObject({
      code: 'EIO',
      syscall: 'ioctl(SG_SCSI_RESET)',
      path: sg.path,
    });
    await expect(bsg.scsiResetAsync(SgScsiReset.NOTHING)).rejects.toMatchObject({ code: 'ENOTTY' });
    // The handle may close while the reset runs: the worker holds a duplicate of the fd.
    const other = openScsiHandle(sg.path, { readWrite: true });
    const reset = other.scsiResetAsync(SgScsiReset.NOTHING);
    await other.close();
    await expect(reset).resolves.toBeUndefined();
    await expect(other.scsiResetAsync(SgScsiReset.NOTHING)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('SG_EMULATED_HOST: bsg and the block path always answer 1', () => {
    expect([0, 1]).toContain(sg.getEmulatedHost());
    expect(bsg.getEmulatedHost()).toBe(1);
    expect(block.getEmulatedHost()).toBe(1);
  });

  it('SG_GET_LOW_DMA answers 0 and SG_GET_ACCESS_COUNT 1 on sg; bsg has neither', () => {
    expect(sg.getLowDma()).toBe(0);
    expect(sg.getAccessCount()).toBe(1);
    expect(thrown(() => bsg.getLowDma())).toMatchObject({ code: 'ENOTTY' });
    expect(thrown(() => bsg.getAccessCount())).toMatchObject({ code: 'ENOTTY' });
  });

  it('BLKSECTGET: bytes on sg, sectors on the block device, ENOTTY on bsg', () => {
    expect(sg.blkSectGet()).toBe(queueLimit('max_sectors_kb') * 1024);
    expect(block.blkSectGet()).toBe(queueLimit('max_sectors_kb') * 2);
    expect(thrown(() => bsg.blkSectGet())).toMatchObject({ code: 'ENOTTY' });
  });

  it('SG_SET/GET_RESERVED_SIZE', () => {
    sg.setReservedSize(65536);
    expect(sg.getReservedSize()).toBe(65536);
    expect(thrown(() => sg.setReservedSize(-1))).toMatchObject({ code: 'EINVAL' });
  });
});

describe.each(nodes)('SG_IO on %s (%s)', (_kind, path, abi) => {
  let handle: ScsiHandle;
  beforeAll(() => {
    handle = openScsiHandle(path, { readWrite: true });
  });
  afterAll(() => handle.close());

  const run = (mode: Mode, request: Parameters<ScsiHandle['sgIoSync']>[0]) =>
    mode === 'sync' ? Promise.resolve(handle.sgIoSync(request)) : handle.sgIo(request);

  it.each(['sync', 'promise'] as const)('INQUIRY (%s) returns scsi_debug identity', async (mode) => {
    const request = dataInRequest(inquiryCdb(96), 96);
    const result = await run(mode, request);
    expect(result.deviceStatus).toBe(0);
    expect(result.info & SG_INFO_CHECK).toBe(0);
    const text = new TextDecoder().decode(request.dataIn.subarray(8, 32));
    expect(text).toMatch(/^Linux\s+scsi_debug/);
    expect(result.dinResid).toBe(0);
  });

  it.each(['sync', 'promise'] as const)('READ CAPACITY(10) (%s) matches sysfs', async (mode) => {
    const request = dataInRequest(readCapacity10Cdb(), 8);
    await run(mode, request);
    const view = new DataView(request.dataIn.buffer);
    const sectors = Number.parseInt(readFileSync('/sys/block/sda/size', 'utf8'), 10);
    expect(view.getUint32(0) + 1).toBe(sectors);
    expect(view.getUint32(4)).toBe(BLOCK);
  });

  it.each(['sync', 'promise'] as const)(
    'WRITE(10) then READ(10) (%s) returns the data written',
    async (mode) => {
      const lba = 4096 + (abi === 'v4' ? 100 : 0) + (mode === 'sync' ? 0 : 50) + path.length;
      const data = pattern(8 * BLOCK, lba);
      const wrote = await run(mode, dataOutRequest(write10Cdb(lba, 8), data));
      expect(wrote.deviceStatus).toBe(0);
      expect(wrote.doutResid).toBe(0);
      const read = dataInRequest(read10Cdb(lba, 8), 8 * BLOCK);
      await run(mode, read);
      expect(read.dataIn).toEqual(data);
    },
  );

  it('reports CHECK CONDITION with sense for an unsupported VPD page', async () => {
    const request = dataInRequest(Uint8Array.of(0x12, 1, 0xfe, 0, 96, 0), 96);
    const result = await handle.sgIo(request);
    expect(result.deviceStatus).toBe(2);
    expect(result.driverStatus).toBe(8);
    expect(result.responseLen).toBeGreaterThan(0);
    expect(result.info & SG_INFO_CHECK).toBe(SG_INFO_CHECK);
    expect(request.sense[2]! & 0x0f).toBe(5); // ILLEGAL REQUEST
  });

  it('leaves sense and data untouched outside the lengths asked for', async () => {
    const request = dataInRequest(inquiryCdb(36), 36);
    const dataIn = new Uint8Array(64).fill(0xee);
    await handle.sgIo({ ...request, dataIn });
    expect(dataIn.subarray(36).every((b) => b === 0xee)).toBe(true);
  });
});

describe('an sg node opened read-only', () => {
  it('has no write()/read() queue (vfs_write needs FMODE_WRITE): SG_IO, synchronously and on addon threads', async () => {
    const h = openScsiHandle(labNodes.sg); // O_RDONLY: the kernel's command filter allows INQUIRY
    expect(h.capabilities).toMatchObject({ asyncQueue: false, batchedSubmit: false, mmapReserve: true });
    const sync = dataInRequest(inquiryCdb(96), 96);
    expect(h.sgIoSync(sync).deviceStatus).toBe(0);
    const promised = dataInRequest(inquiryCdb(96), 96);
    await expect(h.sgIo(promised)).resolves.toMatchObject({ deviceStatus: 0 });
    expect(new TextDecoder().decode(promised.dataIn.subarray(8, 16))).toMatch(/^Linux/);
    const stats = h.stats();
    expect([stats.ioctlCalls, stats.writeCalls, stats.readCalls]).toEqual([2, 0, 0]);
    await h.close();
  });
});

describe('what each ABI cannot carry', () => {
  it('bidi: refused before the syscall on sg (v3), EOPNOTSUPP from bsg', async () => {
    const sg = openScsiHandle(labNodes.sg, { readWrite: true });
    const bsg = openScsiHandle(labNodes.bsg, { readWrite: true });
    const bidi = {
      header: createSgIoV4Header({ requestLen: 10, doutXferLen: 512, dinXferLen: 512 }),
      cdb: read10Cdb(0, 1),
      dataOut: new Uint8Array(512),
      dataIn: new Uint8Array(512),
    };
    expect(thrown(() => sg.sgIoSync(bidi))).toMatchObject({ field: 'dout_xfer_len' });
    await expect(bsg.sgIo(bidi)).rejects.toMatchObject({ code: 'EOPNOTSUPP', syscall: 'ioctl(SG_IO)' });
    await sg.close();
    await bsg.close();
  });

  it('iovec: scattered READ on sg and block; refused on bsg (which ignores iovec counts)', async () => {
    for (const path of [labNodes.sg, labNodes.block]) {
      const h = openScsiHandle(path, { readWrite: true });
      const data = pattern(4 * BLOCK, 77);
      h.sgIoSync(dataOutRequest(write10Cdb(7000, 4), data));
      const segments = [new Uint8Array(100), new Uint8Array(1000), new Uint8Array(948)];
      const header = createSgIoV4Header({
        requestLen: 10,
        dinXferLen: 2048,
        dinIovecCount: 3,
        timeout: 20_000,
      });
      const result = await h.sgIo({ header, cdb: read10Cdb(7000, 4), dataIn: segments });
      expect(result.deviceStatus).toBe(0);
      const joined = new Uint8Array(2048);
      let at = 0;
      for (const s of segments) {
        joined.set(s, at);
        at += s.length;
      }
      expect(joined).toEqual(data);
      await h.close();
    }
    const bsg = openScsiHandle(labNodes.bsg, { readWrite: true });
    const header = createSgIoV4Header({ requestLen: 10, dinXferLen: 1024, dinIovecCount: 2 });
    expect(
      thrown(() =>
        bsg.sgIoSync({ header, cdb: read10Cdb(0, 2), dataIn: [new Uint8Array(512), new Uint8Array(512)] }),
      ),
    ).toMatchObject({ field: 'din_iovec_count' });
    await bsg.close();
  });

  it('CDB length: bsg refuses more than 32 bytes before the syscall; sg takes up to 252', async () => {
    const bsg = openScsiHandle(labNodes.bsg, { readWrite: true });
    const long = new Uint8Array(40);
    expect(
      thrown(() => bsg.sgIoSync({ header: createSgIoV4Header({ requestLen: 40 }), cdb: long })),
    ).toBeInstanceOf(InvalidFieldError);
    await bsg.close();
    const sg = openScsiHandle(labNodes.sg, { readWrite: true });
    // sg accepts 33..252 at submission and fails it in sg_start_req (cmd_len > 32 -> EINVAL), inside write().
    expect(
      thrown(() => sg.sgIoSync({ header: createSgIoV4Header({ requestLen: 40 }), cdb: long })),
    ).toMatchObject({ code: 'EINVAL', syscall: 'write' });
    await expect(
      sg.sgIo({ header: createSgIoV4Header({ requestLen: 40 }), cdb: long }),
    ).rejects.toMatchObject({
      code: 'EINVAL',
      syscall: 'write',
    });
    await sg.close();
  });
});

describe('mmap-ed IO through the sg reserved buffer', () => {
  it('reads through the mapping, zero-copy; detached on unmap', async () => {
    const h = openScsiHandle(labNodes.sg, { readWrite: true });
    h.setReservedSize(65536);
    const data = pattern(65536, 5);
    h.sgIoSync(dataOutRequest(write10Cdb(30_000, 128), data));
    const mapped = h.mapReservedBuffer(65536);
    expect(mapped.byteLength).toBe(65536);
    const header = encodedHeader({ requestLen: 10, dinXferLen: 65536, flags: SG_FLAG_MMAP_IO });
    await h.sgIoEncoded(header, read10Cdb(30_000, 128), new Uint8Array(32), null, null);
    expect(decodeSgIoV4(header).deviceStatus).toBe(0);
    expect(new Uint8Array(mapped)).toEqual(data);
    // mmap_called is never cleared: changing the reserve size is now EBUSY (sg_ioctl_common).
    expect(thrown(() => h.setReservedSize(32768))).toMatchObject({ code: 'EBUSY' });
    // dxfer_len above the reserve is ENOMEM at submission.
    const tooBig = encodedHeader({ requestLen: 10, dinXferLen: 131072, flags: SG_FLAG_MMAP_IO });
    expect(
      thrown(() => h.sgIoSyncEncoded(tooBig, read10Cdb(0, 256), new Uint8Array(32), null, null)),
    ).toMatchObject({
      code: 'ENOMEM',
      syscall: 'write',
    });
    expect(h.unmapReservedBuffer()).toBe(true);
    expect(mapped.byteLength).toBe(0);
    await h.close();
  });

  it('a second concurrent mmap-ed request on the same fd gets EBUSY from the driver', async () => {
    const h = openScsiHandle(labNodes.sg, { readWrite: true });
    h.setReservedSize(65536);
    h.mapReservedBuffer(65536);
    const saved = latency();
    await setLatency({ delay: 25 });
    try {
      const mmapRead = (lba: number) => ({
        header: createSgIoV4Header({ requestLen: 10, dinXferLen: 4096, flags: SG_FLAG_MMAP_IO }),
        cdb: read10Cdb(lba, 8),
      });
      // One batch, one writev: the second entry fails inside it and is sent again alone for its errno.
      const [first, second] = h.submitMany([mmapRead(0), mmapRead(8)]);
      await expect(second).rejects.toMatchObject({ code: 'EBUSY', syscall: 'write' });
      await expect(first).resolves.toMatchObject({ deviceStatus: 0 });
    } finally {
      await setLatency(saved);
    }
    await h.close();
  });

  it('close() unmaps and detaches the buffer', async () => {
    const h = openScsiHandle(labNodes.sg, { readWrite: true });
    const mapped = h.mapReservedBuffer(4096);
    await h.close();
    expect(mapped.byteLength).toBe(0);
    expect(() => new Uint8Array(mapped)).toThrow(TypeError);
  });

  it('a mapping moved away by another owner: close() still releases the sg fd (an O_EXCL open succeeds)', () => {
    // ArrayBuffer.prototype.transfer (behind a V8 flag on Node 20, shipped later) ignores
    // markAsUntransferable, so it can move the mapping into a new ArrayBuffer the addon cannot
    // detach. The range must then stay mapped until that buffer is collected; the sg vma
    // (and with it the sg file) must not stay that long.
    const script = `
      import { openScsiHandle } from './dist/index.js';
      const node = ${JSON.stringify(labNodes.sg)};
      const h = openScsiHandle(node, { readWrite: true });
      h.setReservedSize(8192);
      const mapped = h.mapReservedBuffer(8192);
      new Uint8Array(mapped).fill(7);
      const moved = mapped.transfer();
      const out = { mapped: mapped.byteLength, moved: moved.byteLength, before: new Uint8Array(moved)[0] };
      await h.close();
      try {
        const again = openScsiHandle(node, { readWrite: true, exclusive: true, nonBlocking: true });
        out.reopen = 'ok';
        await again.close();
      } catch (error) {
        out.reopen = error.code;
      }
      // Still mapped (no fault): anonymous memory now, the reserve's pages are gone with the fd.
      out.after = new Uint8Array(moved)[0];
      out.length = moved.byteLength;
      console.log(JSON.stringify(out));`;
    const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
    // Node 20 (V8 11.3) has transfer() only behind the flag; later versions ship it.
    const flags = 'transfer' in ArrayBuffer.prototype ? [] : ['--harmony-rab-gsab-transfer'];
    const run = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], {
      cwd: packageRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      mapped: 0,
      moved: 8192,
      before: 7,
      reopen: 'ok', // the old addon: EBUSY (the sg vma kept the file open)
      after: 0,
      length: 8192,
    });
  });

  it('mmap beyond the reserve is ENOMEM', async () => {
    const h = openScsiHandle(labNodes.sg, { readWrite: true });
    const size = h.getReservedSize();
    expect(thrown(() => h.mapReservedBuffer(size + 4096))).toMatchObject({ code: 'ENOMEM', syscall: 'mmap' });
    await h.close();
  });
});

describe('abuse on real nodes', () => {
  it('short buffers and huge lengths are typed errors before the syscall', async () => {
    for (const path of Object.values(labNodes)) {
      const h = openScsiHandle(path, { readWrite: true });
      const cases = [
        dataInRequest(read10Cdb(0, 8), 4096),
        dataInRequest(read10Cdb(0, 8), 4096, { dinXferLen: 0x7fff_ffff }),
        dataInRequest(read10Cdb(0, 8), 4096, { maxResponseLen: 200 }),
      ];
      cases[0]!.dataIn = new Uint8Array(4095);
      for (const request of cases) {
        const error = thrown(() => h.sgIoSync(request));
        expect(error).toBeInstanceOf(InvalidFieldError);
      }
      const closing = h.close();
      expect(h.close()).toBe(closing); // a second close is a no-op
      await closing;
      expect(thrown(() => h.getTimeout())).toBeInstanceOf(OsError);
    }
  });

  it('O_EXCL with O_RDONLY on sg is EPERM', () => {
    expect(thrown(() => openScsiHandle(labNodes.sg, { exclusive: true }))).toMatchObject({ code: 'EPERM' });
  });
});
