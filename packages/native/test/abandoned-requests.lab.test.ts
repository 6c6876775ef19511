/**
 * Requests the kernel still holds when their sg queue fails, with a synchronous call among
 * them: the device is deleted while a synchronous call waits in poll() for its command.
 * drivers/scsi/sg.c: sg_remove_device sets `detaching` and wakes the fd's readers, and
 * sg_poll then reports EPOLLHUP, while the commands themselves are still at the device
 * (__scsi_remove_device waits for them later, in blk_mq_destroy_queue). The queue fails
 * (ENODEV, poll) with every request in its slot: the asynchronous ones reject, the
 * synchronous call throws, and all of them stay with the handle until close(), which
 * frees them: a synchronous call's request exactly once (not as a spare and again at
 * close), a prepared command's request not before (release() or GC of the command must
 * not free it under its slot), their bounce blocks not back to the pool. Run under ASan by
 * `pnpm test:lab:asan`, where a double free or use after free aborts.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OsError } from '@sgv4/core';
import { deleteDeviceWhenBusy, settleDevice } from '@sgv4/lab';
import { openScsiHandle, type PreparedCommand, type ScsiHandle } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFdCount } from './fd-count.js';
import { hctlOfSg, type Latency, labNodes, latency, setLatency } from './lab-nodes.js';
import { dataInRequest, dataOutRequest, pattern, read10Cdb, write10Cdb } from './scsi-commands.js';

const SCSI_DEBUG = '/sys/bus/pseudo/drivers/scsi_debug';
const ALLOW_DIO = '/sys/module/sg/parameters/allow_dio';
const SG_FLAG_DIRECT_IO = 1;
const SG_INFO_DIRECT_IO = 2;
const BLOCK = 512;
/** scsi_debug `delay` in jiffies (1 s at HZ=250): the commands are at the device while it is deleted. */
const DELAY = 250;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collects garbage until finalizers (ScsiHandle, PreparedCommand natives) had their turn. */
async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(10);
  }
}

/**
 * A private scsi_debug host (`add_host`) whose one LUN the test deletes; the host is removed
 * after. Returns once sd has probed the LUN (READ CAPACITY, the partition table read, ...,
 * at the lab's own latency, before the test raises it): no command but the test's reaches
 * the LUN from then on, so device_busy counts only the test's.
 */
async function addPrivateDevice(): Promise<{ node: string; hctl: string }> {
  const before = new Set(readdirSync('/sys/class/scsi_generic'));
  writeFileSync(`${SCSI_DEBUG}/add_host`, '1');
  const added = readdirSync('/sys/class/scsi_generic').find((name) => !before.has(name));
  if (added === undefined) throw new Error('scsi_debug add_host made no new sg node');
  const node = `/dev/${added}`;
  for (let i = 0; i < 100 && !existsSync(node); i++) await sleep(20);
  const hctl = hctlOfSg(node);
  const dir = `/sys/class/scsi_device/${hctl}/device`;
  for (let i = 0; i < 200 && !existsSync(`${dir}/block`); i++) await sleep(20);
  await settleDevice(hctl);
  return { node, hctl };
}

/** What `fn` threw (undefined when it returned). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** What a promise settled with, without an unhandled rejection meanwhile. */
function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (e: unknown) => e,
  );
}

const directIo = { flags: SG_FLAG_DIRECT_IO };
const fdsAtStart = openFdCount();
let saved: Latency;
let allowDio: string;
beforeAll(() => {
  saved = latency();
  allowDio = readFileSync(ALLOW_DIO, 'utf8').trim();
  writeFileSync(ALLOW_DIO, '1');
});
afterAll(async () => {
  // The guest is shared by every lab file.
  await setLatency(saved);
  writeFileSync(ALLOW_DIO, allowDio);
  expect(openFdCount()).toBe(fdsAtStart);
});

describe('the device deleted under a synchronous call on the sg queue', () => {
  it('a one-off call throws OsError(poll) ENODEV; asynchronous plain and direct-IO requests reject; close() frees each request once', async () => {
    const { node, hctl } = await addPrivateDevice();
    try {
      await setLatency({ delay: DELAY });
      let h: ScsiHandle | undefined = openScsiHandle(node, { readWrite: true });
      const deleter = await deleteDeviceWhenBusy(hctl, 3);
      try {
        const plain = outcome(h.sgIo(dataInRequest(read10Cdb(0, 16), 16 * BLOCK)));
        const direct = outcome(h.sgIo(dataInRequest(read10Cdb(16, 16), 16 * BLOCK, directIo)));
        expect(h.inFlight).toBe(2);
        const thrown = thrownBy(() => h?.sgIoSync(dataInRequest(read10Cdb(32, 16), 16 * BLOCK, directIo)));
        expect(thrown).toBeInstanceOf(OsError);
        expect(thrown).toMatchObject({ code: 'ENODEV', syscall: 'poll', path: node });
        for (const settled of [await plain, await direct]) {
          expect(settled).toBeInstanceOf(OsError);
          expect(settled).toMatchObject({ code: 'ENODEV', syscall: 'poll' });
        }
        expect(h.failure).toMatchObject({ code: 'ENODEV', syscall: 'poll' });
        // The three are still at the device (scsi_debug answers after DELAY): the fd closes now.
        await h.close();
        expect(h.inFlight).toBe(0);
        expect(thrownBy(() => h?.sgIoSync(dataInRequest(read10Cdb(0, 1), BLOCK)))).toMatchObject({
          code: 'EBADF',
        });
        // The delete returns once the midlayer drained the commands (blk_mq_destroy_queue).
        expect(await deleter.exited).toBe(0);
      } finally {
        deleter.child.kill();
      }
      h = undefined; // its finalizer deletes the spare requests: each exactly once
      await collectGarbage();
    } finally {
      writeFileSync(`${SCSI_DEBUG}/add_host`, '-1');
      await setLatency(saved);
    }
    // The addon's bounce pool still hands out blocks that hold what the device sent.
    const sg = openScsiHandle(labNodes.sg, { readWrite: true });
    try {
      const lba = 41_000;
      await sg.sgIo(dataOutRequest(write10Cdb(lba, 16), pattern(16 * BLOCK, 7)));
      for (const extra of [{}, directIo]) {
        const reads = Array.from({ length: 4 }, () => dataInRequest(read10Cdb(lba, 16), 16 * BLOCK, extra));
        await Promise.all(reads.map((r) => sg.sgIo(r)));
        for (const r of reads) expect(r.dataIn).toEqual(pattern(16 * BLOCK, 7));
      }
    } finally {
      await sg.close();
    }
  });

  it('a prepared command stays running until close(); released meanwhile, its request is freed by close(), not before', async () => {
    const { node, hctl } = await addPrivateDevice();
    try {
      await setLatency({ delay: DELAY });
      let h: ScsiHandle | undefined = openScsiHandle(node, { readWrite: true });
      const deleter = await deleteDeviceWhenBusy(hctl, 2);
      try {
        let command: PreparedCommand | undefined = h.prepare(
          dataInRequest(read10Cdb(0, 16), 16 * BLOCK, directIo),
        );
        const other = outcome(h.sgIo(dataInRequest(read10Cdb(16, 16), 16 * BLOCK, directIo)));
        const thrown = thrownBy(() => command?.runSync());
        expect(thrown).toBeInstanceOf(OsError);
        expect(thrown).toMatchObject({ code: 'ENODEV', syscall: 'poll', path: node });
        expect(await other).toMatchObject({ code: 'ENODEV', syscall: 'poll' });
        // The kernel still holds its request: the command is running, a second run is refused.
        const runningAfterThrow = command.running;
        const secondRun = thrownBy(() => command?.runSync());
        // Released while the kernel holds its request: freed by close(), not now (checked
        // after close(), which reaches the request through its slot).
        command.release();
        await collectGarbage();
        await h.close();
        expect(runningAfterThrow).toBe(true);
        expect(secondRun).toMatchObject({ name: 'InvalidFieldError', field: 'command' });
        expect(command.running).toBe(false);
        command = undefined;
        expect(await deleter.exited).toBe(0);
      } finally {
        deleter.child.kill();
      }
      h = undefined;
      await collectGarbage();
    } finally {
      writeFileSync(`${SCSI_DEBUG}/add_host`, '-1');
      await setLatency(saved);
    }
  });
});

describe('a synchronous direct-IO call on sg (bounced: a failed queue may abandon it)', () => {
  it('plain and SharedArrayBuffer memory: the data arrives, and sg did direct IO', async () => {
    const sg = openScsiHandle(labNodes.sg, { readWrite: true });
    try {
      const lba = 41_200;
      const data = pattern(16 * BLOCK, 11);
      sg.sgIoSync(dataOutRequest(write10Cdb(lba, 16), data));
      for (const dataIn of [new Uint8Array(16 * BLOCK), new Uint8Array(new SharedArrayBuffer(16 * BLOCK))]) {
        const request = { ...dataInRequest(read10Cdb(lba, 16), 16 * BLOCK, directIo), dataIn };
        const result = sg.sgIoSync(request);
        expect(result.deviceStatus).toBe(0);
        expect(result.info & SG_INFO_DIRECT_IO).toBe(SG_INFO_DIRECT_IO); // bounce blocks are page-aligned
        expect(dataIn).toEqual(data);
      }
    } finally {
      await sg.close();
    }
  });
});
