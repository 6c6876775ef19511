/**
 * Every promise settles, whatever happens to the fd: read() refusing (sg_check_file_access
 * after the process changed credentials), the device going away (sg_poll EPOLLHUP), an
 * environment torn down with SG_IO in flight on the addon's threads (worker.terminate()
 * returns without waiting for the command).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { AbortedError, createSgIoV4Header, encodeSgIoV4, OsError } from '@sgv4/core';
import { addonPath, openScsiHandle } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFdCount } from './fd-count.js';
import { hctlOfSg, type Latency, labNodes, latency, setLatency } from './lab-nodes.js';
import { dataInRequest, read10Cdb } from './scsi-commands.js';

const SCSI_DEBUG = '/sys/bus/pseudo/drivers/scsi_debug';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const readHeader = Buffer.from(
  encodeSgIoV4(createSgIoV4Header({ requestLen: 10, dinXferLen: 4096, maxResponseLen: 32, timeout: 20_000 })),
).toString('base64');

let saved: Latency;
beforeAll(async () => {
  saved = latency();
  await setLatency({ delay: 25 }); // 100 ms: requests are in the kernel when the fd goes bad
});
afterAll(async () => {
  await setLatency(saved); // the guest is shared by every lab file
});

describe('read() errors', () => {
  it('a process that changed credentials: every pending request rejects with OsError(read), the handle says why', () => {
    // In a child: changing the effective gid (and back) gives the process a new struct
    // cred (commit_creds), and sg_check_file_access (drivers/scsi/sg.c) then refuses read()
    // and write() on fds opened before: f_cred != current_real_cred() -> EPERM.
    const script = `
      const addon = require(process.env.ADDON);
      addon.configure((errno, syscall) => Object.assign(new Error(syscall), { errno, syscall }),
        (field) => new RangeError(field), (what) => new Error(what));
      const h = new addon.NativeHandle('/dev/sg0', true, false, false);
      const header = Buffer.from(process.env.HEADER, 'base64');
      const cdb = Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0);
      // The raw addon throws what ScsiHandle turns into rejections (validation, a failed handle).
      const submit = () => { try { return h.sgIo(new Uint8Array(header), cdb, new Uint8Array(32), null, new Uint8Array(4096), 0); } catch (e) { return Promise.reject(e); } };
      const outcome = (p) => p.then(() => ({ ok: true }), (e) => ({ ok: false, errno: e.errno, syscall: e.syscall }));
      const pending = [];
      for (let i = 0; i < 8; i++) pending.push(outcome(submit()));
      const gid = process.getegid();
      process.setegid(gid === 1 ? 2 : 1);
      process.setegid(gid);
      Promise.all(pending).then(async (results) => {
        const failure = h.failure && { errno: h.failure.errno, syscall: h.failure.syscall };
        const late = await outcome(submit());
        await h.close();
        console.log(JSON.stringify({ results, failure, late }));
      });`;
    const run = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, ADDON: addonPath(), HEADER: readHeader },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.signal).toBeNull(); // not killed by the timeout: nothing hung
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      results: { ok: boolean; errno?: number; syscall?: string }[];
      failure?: { errno: number; syscall: string };
      late: { ok: boolean; errno?: number; syscall?: string };
    };
    expect(report.results).toEqual(
      Array.from({ length: 8 }, () => ({ ok: false, errno: 1, syscall: 'read' })),
    );
    expect(report.failure).toEqual({ errno: 1, syscall: 'read' });
    expect(report.late).toEqual({ ok: false, errno: 1, syscall: 'read' });
  });
});

describe('the device goes away', () => {
  it('requests in flight settle, then poll reports the hang-up: later requests reject with OsError(poll) ENODEV', async () => {
    const before = new Set(readdirSync('/sys/class/scsi_generic'));
    writeFileSync(`${SCSI_DEBUG}/add_host`, '1');
    try {
      const added = readdirSync('/sys/class/scsi_generic').find((name) => !before.has(name));
      expect(added).toBeDefined();
      const node = `/dev/${added}`;
      for (let i = 0; i < 50 && !existsSync(node); i++) await sleep(20);
      const hctl = hctlOfSg(node);
      const h = openScsiHandle(node, { readWrite: true });
      const pending = Array.from({ length: 8 }, (_, i) =>
        h.sgIo(dataInRequest(read10Cdb(i * 8, 8), 4096)).then(
          (r) => r.deviceStatus,
          (e: unknown) => e,
        ),
      );
      // Blocks until the midlayer drained the queue (blk_mq_destroy_queue waits for the requests).
      writeFileSync(`/sys/class/scsi_device/${hctl}/device/delete`, '1');
      const settled = await Promise.all(pending);
      for (const outcome of settled) {
        if (typeof outcome !== 'number') expect(outcome).toBeInstanceOf(OsError);
      }
      for (let i = 0; i < 100 && h.failure === undefined; i++) await sleep(20);
      expect(h.failure).toMatchObject({ code: 'ENODEV', syscall: 'poll' });
      await expect(h.sgIo(dataInRequest(read10Cdb(0, 8), 4096))).rejects.toMatchObject({
        code: 'ENODEV',
        syscall: 'poll',
      });
      await h.close();
    } finally {
      writeFileSync(`${SCSI_DEBUG}/add_host`, '-1');
    }
  });
});

describe('environment teardown with requests in flight', () => {
  /** A worker that submits one request and reports; plain JS (workers skip vitest's transform). */
  const workerSource = `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(workerData.addonPath);
    const h = new addon.NativeHandle(workerData.path, true, false, false);
    const header = new Uint8Array(Buffer.from(workerData.header, 'base64'));
    const cdb = Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0);
    for (let i = 0; i < 4; i++) h.sgIo(header.slice(), cdb, new Uint8Array(32), null, new Uint8Array(4096), 0).catch(() => {});
    parentPort.postMessage(h.inFlight);`;

  it.each([
    ['bsg (SG_IO on addon threads)', labNodes.bsg],
    ['sg (the write/read queue)', labNodes.sg],
  ] as const)(
    '%s: worker.terminate() does not wait for the commands, and every fd is closed once they finish',
    async (_name, path) => {
      const fds = openFdCount();
      await setLatency({ delay: 1250 }); // 5 s
      try {
        const worker = new Worker(workerSource, {
          eval: true,
          workerData: { addonPath: addonPath(), path, header: readHeader },
        });
        const inFlight = await new Promise<number>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        expect(inFlight).toBe(4);
        await sleep(200); // the pool threads are inside SG_IO
        const start = performance.now();
        await worker.terminate();
        expect(performance.now() - start).toBeLessThan(2500);
      } finally {
        await setLatency({ delay: 25 }); // waits until the commands are done
      }
      for (let i = 0; i < 100 && openFdCount() !== fds; i++) await sleep(50);
      expect(openFdCount()).toBe(fds);
    },
  );

  it('AbortedError for requests never sent when the handle closes', async () => {
    // 1 s: on a loaded, emulated machine, submitting 16 requests can take longer than the
    // file's 100 ms, and a completion reaped meanwhile would let the 17th into the kernel.
    await setLatency({ delay: 250 });
    try {
      const h = openScsiHandle(labNodes.sg, { readWrite: true });
      const outcomes = Array.from({ length: 17 }, (_, i) =>
        h.sgIo(dataInRequest(read10Cdb(i * 8, 8), 4096)).then(
          (r) => r.deviceStatus,
          (e: unknown) => e,
        ),
      );
      expect(h.stats().libraryQueued).toBe(1); // the 17th waits in the library
      await h.close();
      const settled = await Promise.all(outcomes);
      expect(settled.slice(0, 16)).toEqual(Array.from({ length: 16 }, () => 0));
      expect(settled[16]).toBeInstanceOf(AbortedError);
    } finally {
      await setLatency({ delay: 25 });
    }
  });
});
