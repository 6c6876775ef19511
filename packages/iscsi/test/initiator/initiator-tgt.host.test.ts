/**
 * The initiator against a real tgt (tgtd on 127.0.0.1, file-backed LUs), cross-checked with
 * libiscsi's tools and a libiscsi reader: login and negotiation, every write path (immediate
 * data, unsolicited Data-Out, R2T), digests, discovery, task attributes, task management with
 * a command held in flight, and the CmdSN window.
 */
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AbortedError,
  buildCdb,
  DeviceError,
  parseReadCapacity16,
  parseReportLuns,
  parseStandardInquiry,
  ResultCategory,
  responseError,
  SenseKey,
  TagCollisionError,
  TimeoutError,
} from '@sgv4/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IscsiCommandResult,
  IscsiSession,
  type IscsiSessionOptions,
  serialLessThan,
} from '../../src/index.js';
import { haveTgt, startTgt, type TgtTarget } from '../support/tgt-target.js';

const exec = promisify(execFile);
const PORT = 13262;
const BLOCK = 512;
const haveLibiscsiTools = existsSync('/usr/bin/iscsi-inq') && existsSync('/usr/bin/iscsi-ls');

let tgt: TgtTarget;
let probe: string | undefined;
const probeDir = mkdtempSync(join(tmpdir(), 'sgv4-libiscsi-probe-'));

beforeAll(async () => {
  if (!haveTgt) return;
  tgt = await startTgt({ port: PORT, controlPort: 13292, luns: [64 << 20, 8 << 20] });
  try {
    probe = join(probeDir, 'libiscsi-read');
    execFileSync('gcc', [
      '-O1',
      '-o',
      probe,
      join(import.meta.dirname, '../../../lab/probes/libiscsi-read.c'), // every C probe lives in packages/lab/probes
      '-l:libiscsi.so.7',
    ]);
  } catch {
    probe = undefined;
  }
});
afterAll(async () => {
  await tgt?.stop();
  rmSync(probeDir, { recursive: true, force: true });
});

function login(options: Partial<IscsiSessionOptions> = {}): Promise<IscsiSession> {
  return IscsiSession.login({ host: '127.0.0.1', port: PORT, targetName: tgt.iqn, lun: 1, ...options });
}

/** tgt's target parameters for the next logins (tgtadm --op update --mode target --params). */
async function targetParams(...params: string[]): Promise<void> {
  for (const param of params) {
    const [name, value] = param.split('=') as [string, string];
    await tgt.admin('--op', 'update', '--mode', 'target', '--tid', '1', '--name', name, '--value', value);
  }
}

const read16 = (lba: number, blocks: number) => buildCdb('READ(16)', { lba, transferLength: blocks });
const write16 = (lba: number, blocks: number) => buildCdb('WRITE(16)', { lba, transferLength: blocks });

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Splits a buffer into uneven iovecs (odd lengths, a 1-byte piece) to exercise scattered placement. */
function scatter(buffer: Uint8Array): Uint8Array[] {
  const cuts = [0, 1, 4097, Math.floor(buffer.length / 2) + 3, buffer.length].filter(
    (c) => c <= buffer.length,
  );
  const unique = [...new Set(cuts)].sort((a, b) => a - b);
  return unique.slice(1).map((end, i) => buffer.subarray(unique[i], end));
}

function fileBytes(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

function good(r: IscsiCommandResult): IscsiCommandResult {
  const error = responseError(r);
  if (error) throw error;
  return r;
}

/** Runs one command, retrying once past the unit attention every new I_T nexus sees first. */
async function run(
  session: IscsiSession,
  command: Parameters<IscsiSession['execute']>[0],
): Promise<IscsiCommandResult> {
  const r = await session.execute(command);
  if (r.decodedSense?.senseKey === SenseKey.UNIT_ATTENTION) return good(await session.execute(command));
  return good(r);
}

describe.skipIf(!haveTgt)('initiator against tgt', () => {
  it('logs in with RFC 7143 text negotiation and takes what tgt answers', async () => {
    const session = await login();
    try {
      expect(session.tsih).toBeGreaterThan(0);
      expect(session.targetPortalGroupTag).toBe(1);
      // tgt's defaults (usr/iscsi/param.c): it declares MaxRecvDataSegmentLength 8192 and
      // answers FirstBurstLength 65536 (min with our 262144) and InitialR2T=Yes (OR with our No).
      expect(session.parameters).toMatchObject({
        headerDigest: false,
        dataDigest: false,
        maxRecvDataSegmentLength: 262144,
        peerMaxRecvDataSegmentLength: 8192,
        maxBurstLength: 262144,
        firstBurstLength: 65536,
        initialR2T: true,
        immediateData: true,
        errorRecoveryLevel: 0,
      });
      const w = session.commandWindow;
      expect(w.cmdSN).toBe(w.expCmdSN);
    } finally {
      await session.logout();
    }
    expect(session.state).toBe('closed');
    await expect(session.execute({ cdb: buildCdb('TEST UNIT READY') })).rejects.toThrow(
      /session is closed \(logged out\)/,
    );
  });

  it('writes and reads back through every Data-Out path and with digests, as tgt stores it and libiscsi reads it', async () => {
    const defaults = [
      'InitialR2T=Yes',
      'ImmediateData=Yes',
      'MaxRecvDataSegmentLength=8192',
      'FirstBurstLength=65536',
      'MaxBurstLength=262144',
      'HeaderDigest=None',
      'DataDigest=None',
    ];
    const variants: { name: string; target: string[]; options: Partial<IscsiSessionOptions> }[] = [
      { name: 'immediate data + R2T', target: [], options: {} },
      {
        name: 'unsolicited Data-Out + R2T, 4 KiB segments',
        target: ['InitialR2T=No', 'ImmediateData=No', 'MaxRecvDataSegmentLength=4096'],
        options: {},
      },
      {
        name: 'immediate + unsolicited + R2T, small bursts',
        target: ['InitialR2T=No', 'FirstBurstLength=16384', 'MaxBurstLength=32768'],
        options: {},
      },
      {
        name: 'R2T only, header and data digests',
        // tgt offers digests only when configured to (and then answers None to a lone
        // CRC32C offer it is not configured for, which this initiator refuses).
        target: ['HeaderDigest=CRC32C,None', 'DataDigest=CRC32C,None'],
        options: {
          immediateData: false,
          headerDigest: 'CRC32C',
          dataDigest: 'CRC32C',
          maxRecvDataSegmentLength: 16384,
        },
      },
    ];
    const sizes = [BLOCK, 17 * BLOCK, 600 * BLOCK, 2048 * BLOCK];
    let lba = 0;
    try {
      for (const [v, variant] of variants.entries()) {
        await targetParams(...defaults, ...variant.target);
        const session = await login(variant.options);
        try {
          if (variant.options.headerDigest)
            expect(session.parameters).toMatchObject({ headerDigest: true, dataDigest: true });
          for (const [i, size] of sizes.entries()) {
            const data = pattern(size, 1000 * v + i + 1);
            const blocks = size / BLOCK;
            await run(session, { cdb: write16(lba, blocks), dataOut: i % 2 ? scatter(data) : data });
            const back = new Uint8Array(size);
            const r = await run(session, { cdb: read16(lba, blocks), dataIn: i % 2 ? back : scatter(back) });
            expect(r.dataInLength, `${variant.name}, ${size} bytes`).toBe(size);
            expect(Buffer.compare(back, data), `${variant.name}: read back ${size} bytes`).toBe(0);
            expect(
              Buffer.compare(fileBytes(tgt.files.get(1)!, lba * BLOCK, size), data),
              `${variant.name}: tgt's file`,
            ).toBe(0);
            lba += blocks;
          }
        } finally {
          await session.logout();
        }
      }
    } finally {
      await targetParams(...defaults);
    }
    if (probe) {
      // An independent initiator reads the whole written range (and once more with a header digest).
      const all = fileBytes(tgt.files.get(1)!, 0, lba * BLOCK);
      for (const digest of [[], ['crc32c']]) {
        const { stdout } = await exec(
          probe,
          [`127.0.0.1:${PORT}`, tgt.iqn, '1', '0', String(lba), String(BLOCK), ...digest],
          {
            encoding: 'buffer',
            maxBuffer: 64 << 20,
          },
        );
        expect(Buffer.compare(stdout, all)).toBe(0);
      }
    }
  });

  it('reads what was written to the LU behind its back', async () => {
    const data = pattern(64 * 1024, 42);
    const fd = openSync(tgt.files.get(1)!, 'r+');
    writeSync(fd, data, 0, data.length, 40 << 20);
    closeSync(fd);
    const session = await login();
    try {
      const back = new Uint8Array(data.length);
      await run(session, { cdb: read16((40 << 20) / BLOCK, data.length / BLOCK), dataIn: back });
      expect(Buffer.compare(back, data)).toBe(0);
    } finally {
      await session.logout();
    }
  });

  it.skipIf(!haveLibiscsiTools)(
    'INQUIRY, READ CAPACITY(16) and REPORT LUNS agree with iscsi-inq, iscsi-readcapacity16 and iscsi-ls',
    async () => {
      const session = await login();
      try {
        const inquiry = new Uint8Array(96);
        const r = await run(session, { cdb: buildCdb('INQUIRY', { allocationLength: 96 }), dataIn: inquiry });
        const fields = parseStandardInquiry(inquiry.subarray(0, 96 - r.dinResid));
        const inq = (await exec('iscsi-inq', [tgt.url(1)])).stdout;
        expect(inq).toContain(`Vendor:${String(fields.vendor).padEnd(8)}`);
        expect(inq).toContain(`Product:${String(fields.product).padEnd(16)}`);
        expect(inq).toContain(`Revision:${fields.revision}`);
        // The residual says how much INQUIRY data tgt really sent.
        expect(r.dinResid).toBe(96 - r.dataInLength);

        const cap = new Uint8Array(32);
        await run(session, { cdb: buildCdb('READ CAPACITY(16)', { allocationLength: 32 }), dataIn: cap });
        const capacity = parseReadCapacity16(cap);
        const rc16 = (await exec('iscsi-readcapacity16', [tgt.url(1)])).stdout;
        expect(rc16).toContain(`RETURNED LOGICAL BLOCK ADDRESS:${capacity.returnedLba}`);
        expect(rc16).toContain(`LOGICAL BLOCK LENGTH IN BYTES:${capacity.blockLength}`);
        expect(capacity.capacityBytes).toBe(64n << 20n);

        const luns = new Uint8Array(256);
        await run(session, { cdb: buildCdb('REPORT LUNS', { allocationLength: 256 }), dataIn: luns, lun: 0 });
        const numbers = parseReportLuns(luns).luns.map((l) => Number(l.linuxLun));
        const ls = (await exec('iscsi-ls', ['-s', `iscsi://127.0.0.1:${PORT}`])).stdout;
        const listed = [...ls.matchAll(/Lun:(\d+)/g)].map((m) => Number(m[1]));
        expect(numbers).toEqual(listed);
        expect(numbers).toEqual([0, 1, 2]);
      } finally {
        await session.logout();
      }
    },
  );

  it.skipIf(!haveLibiscsiTools)('SendTargets discovery lists what iscsi-ls lists', async () => {
    const targets = await IscsiSession.discover({ host: '127.0.0.1', port: PORT });
    expect(targets).toEqual([
      { targetName: tgt.iqn, portals: [{ host: '127.0.0.1', port: PORT, portalGroupTag: 1 }] },
    ]);
    const ls = (await exec('iscsi-ls', [`iscsi://127.0.0.1:${PORT}`])).stdout;
    expect(ls).toContain(`Target:${tgt.iqn} Portal:127.0.0.1:${PORT},1`);
  });

  it('reports CHECK CONDITION with decoded sense and the residual of a short transfer', async () => {
    const session = await login();
    try {
      await run(session, { cdb: buildCdb('TEST UNIT READY') });
      const r = await session.execute({ cdb: read16(64 << 11, 1), dataIn: new Uint8Array(BLOCK) });
      expect(r.category).toBe(ResultCategory.SENSE);
      expect(r.decodedSense).toMatchObject({ senseKey: SenseKey.ILLEGAL_REQUEST, asc: 0x21, ascq: 0x00 });
      expect(responseError(r)).toBeInstanceOf(DeviceError);
      const missing = await session.execute({ cdb: buildCdb('TEST UNIT READY'), lun: 9 });
      expect(missing.decodedSense).toMatchObject({ senseKey: SenseKey.ILLEGAL_REQUEST, asc: 0x25 });
    } finally {
      await session.logout();
    }
  });

  it('carries task attributes: HEAD OF QUEUE passes a WRITE SAME tgt is running, ORDERED waits for it', async () => {
    const session = await login();
    try {
      await run(session, { cdb: buildCdb('TEST UNIT READY') });
      const order: string[] = [];
      const blocks = (32 << 20) / BLOCK;
      const sameData = new Uint8Array(BLOCK).fill(0x5a);
      const same = session
        .execute({ cdb: buildCdb('WRITE SAME(16)', { lba: 0, numberOfBlocks: blocks }), dataOut: sameData })
        .then((r) => order.push(`write-same ${r.status}`));
      const ordered = session
        .execute({ cdb: read16(0, 1), dataIn: new Uint8Array(BLOCK), attribute: 'ORDERED' })
        .then((r) => order.push(`ordered ${r.status}`));
      const head = session
        .execute({ cdb: buildCdb('TEST UNIT READY'), attribute: 'HEAD_OF_QUEUE' })
        .then((r) => order.push(`head-of-queue ${r.status}`));
      await Promise.all([same, ordered, head]);
      expect(order).toEqual(['head-of-queue 0', 'write-same 0', 'ordered 0']);
    } finally {
      await session.logout();
    }
  });

  it('ABORT TASK of a write held in flight (its Data-Out withheld) reaches tgt and ends the command', async () => {
    // ImmediateData=No and InitialR2T=Yes: all write data waits for an R2T, and the source
    // never delivers it, so the command stays open at the target.
    const session = await login({ immediateData: false, initialR2T: true });
    try {
      await run(session, { cdb: buildCdb('TEST UNIT READY') });
      const before = fileBytes(tgt.files.get(2)!, 0, 8 * BLOCK);
      let asked = 0;
      const held = session.execute({
        cdb: write16(0, 8),
        tag: 77n,
        lun: 2,
        dataOutSource: {
          length: 8 * BLOCK,
          read: () => {
            asked++;
            return new Promise<Uint8Array>(() => {});
          },
        },
      });
      const settled = held.catch((e: unknown) => e);
      for (let i = 0; i < 200 && asked === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(asked, 'the R2T asked for the data').toBe(1);
      expect(session.outstanding).toBe(1);
      const outcome = await session.taskManagement('ABORT_TASK', { referencedTaskTag: 77n, lun: 2 });
      // tgt hands a write to its SCSI layer only once all data is in (usr/iscsi/iscsid.c
      // iscsi_scsi_cmd_execute), so its task set does not hold the command and it answers
      // "task does not exist"; the command was never answered, so the session ends it.
      expect(outcome).toMatchObject({ response: 1, responseText: 'TASK DOES NOT EXIST', abortedTags: [77n] });
      expect(await settled).toBeInstanceOf(AbortedError);
      expect(session.outstanding).toBe(0);
      // The tag may still mean something to tgt: the session never reuses it.
      await expect(session.execute({ cdb: buildCdb('TEST UNIT READY'), tag: 77n })).rejects.toBeInstanceOf(
        TagCollisionError,
      );
      await run(session, { cdb: buildCdb('TEST UNIT READY'), lun: 2 });
      expect(Buffer.compare(fileBytes(tgt.files.get(2)!, 0, 8 * BLOCK), before), 'nothing was written').toBe(
        0,
      );
    } finally {
      await session.logout();
    }
  });

  it('a command that times out is answered with TimeoutError and aborted at the target', async () => {
    const session = await login({ immediateData: false, initialR2T: true });
    try {
      await run(session, { cdb: buildCdb('TEST UNIT READY') });
      const tmf = once(session, 'taskManagement');
      const held = session.execute({
        cdb: write16(8, 8),
        lun: 2,
        timeoutMs: 200,
        dataOutSource: { length: 8 * BLOCK, read: () => new Promise<Uint8Array>(() => {}) },
      });
      await expect(held).rejects.toBeInstanceOf(TimeoutError);
      const [outcome] = await tmf;
      expect(outcome).toMatchObject({ function: 'ABORT_TASK', response: 1 });
      expect(outcome.referencedTaskTag).toBeTypeOf('bigint');
      expect(session.outstanding).toBe(0);
    } finally {
      await session.logout();
    }
  });

  it('tgt answers ABORT TASK of a command it is executing only after the command completed', async () => {
    const session = await login();
    try {
      await run(session, { cdb: buildCdb('TEST UNIT READY') });
      const same = session.execute({
        cdb: buildCdb('WRITE SAME(16)', { lba: 0, numberOfBlocks: (16 << 20) / BLOCK }),
        dataOut: new Uint8Array(BLOCK),
        tag: 300n,
      });
      // tgt waits for its backing store (target.c abort_cmd: "send the tsk mgmt response when
      // we get the completion"), then answers "task does not exist": nothing was aborted.
      expect(await session.abortTask(300n)).toBe(false);
      expect((await same).status).toBe(0);
    } finally {
      await session.logout();
    }
  });

  it('LOGICAL UNIT RESET and ABORT TASK SET reach tgt; the functions tgt lacks answer "not supported"', async () => {
    const session = await login();
    try {
      await run(session, { cdb: buildCdb('TEST UNIT READY') });
      expect((await session.taskManagement('ABORT_TASK_SET')).responseText).toBe('FUNCTION COMPLETE');
      const reset = await session.taskManagement('LOGICAL_UNIT_RESET', { lun: 1 });
      expect(reset.responseText).toBe('FUNCTION COMPLETE');
      // tgt queues a unit attention for every I_T nexus of the reset LU (target.c lu_reset).
      const after = await session.execute({ cdb: buildCdb('TEST UNIT READY') });
      expect(after.decodedSense).toMatchObject({ senseKey: SenseKey.UNIT_ATTENTION, asc: 0x29 });
      for (const fn of ['CLEAR_TASK_SET', 'CLEAR_ACA', 'TARGET_WARM_RESET', 'TARGET_COLD_RESET'] as const) {
        const outcome = await session.taskManagement(fn);
        expect(outcome.responseText, fn).toBe('TASK MANAGEMENT FUNCTION NOT SUPPORTED');
      }
    } finally {
      await session.logout();
    }
  });

  it('waits on the CmdSN window: with MaxQueueCmd=4 no CmdSN goes past MaxCmdSN, and tgt drops none', async () => {
    await targetParams('MaxQueueCmd=4');
    const session = await login();
    try {
      await run(session, { cdb: buildCdb('TEST UNIT READY') });
      const w = session.commandWindow;
      // tgt opens MaxCmdSN = ExpCmdSN + MaxQueueCmd (iscsid.c), a window of 5 commands.
      const room = ((w.maxCmdSN - w.expCmdSN) >>> 0) + 1;
      expect(room).toBe(5);
      let beyond = 0;
      const check = () => {
        const now = session.commandWindow;
        // The last CmdSN used is cmdSN - 1; it must not lie past MaxCmdSN (RFC 7143 §4.2.2.1).
        if (serialLessThan(now.maxCmdSN, (now.cmdSN - 1) >>> 0)) beyond++;
      };
      const reads = Array.from({ length: 40 }, (_, i) =>
        session.execute({ cdb: read16(i * 8, 8), dataIn: new Uint8Array(8 * BLOCK) }).then((r) => {
          check();
          return r;
        }),
      );
      check();
      // The commands beyond the window wait in order; tgt silently drops commands past
      // MaxCmdSN, so any sent too early would never complete.
      expect(session.queued).toBe(40 - room);
      const results = await Promise.all(reads);
      expect(results.every((r) => r.status === 0)).toBe(true);
      expect(beyond).toBe(0);
    } finally {
      await session.logout();
      await targetParams('MaxQueueCmd=128');
    }
  });
});
