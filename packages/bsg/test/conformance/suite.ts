/**
 * The one conformance suite every transport passes (serialport's model): identity, limits,
 * every command helper, errors and sense, tags and collisions, task attributes, abort while
 * queued, timeouts, signals, close with requests in flight, and splitting of large transfers.
 * It asserts what the transport's own capabilities promise, so the same test is strict on a
 * path that can abort in flight (the embedded target, iSCSI) and on one that cannot (6.1 sg).
 *
 * Use: `describeTransportConformance(target)` inside a test file (vitest), with a
 * {@link ConformanceTarget} for the transport. iSCSI (issue 16) imports it by relative path.
 */
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  AbortedError,
  DeviceError,
  ExitStatus,
  NotSupportedError,
  ResultCategory,
  SenseKey,
  TagCollisionError,
  TaskAttribute,
  TaskManagementFunction,
  TimeoutError,
} from '@sgv4/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandPermissionError, type Device, TRACE_CHANNELS, type TraceEvent } from '../../src/index.js';
import type { ConformanceTarget } from './target.js';

/** Blocks of the scratch area the suite writes (from LBA 2048; the device must have at least 8 MiB). */
const SCRATCH = 2048n;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Collects the trace events of one device while `fn` runs. */
async function traced<T>(
  device: Device,
  fn: () => Promise<T>,
): Promise<{ result: T; events: [string, TraceEvent][] }> {
  const events: [string, TraceEvent][] = [];
  const handlers = Object.values(TRACE_CHANNELS).map(
    (name) =>
      [
        name,
        (m: unknown) => (m as TraceEvent).device === device.location && events.push([name, m as TraceEvent]),
      ] as const,
  );
  for (const [name, fn2] of handlers) subscribe(name, fn2);
  try {
    return { result: await fn(), events };
  } finally {
    for (const [name, fn2] of handlers) unsubscribe(name, fn2);
  }
}

/** A test-name suffix saying what a target cannot check and why. */
function because(reason: string | undefined, what: string): string {
  return reason === undefined ? '' : ` (${what}: ${reason})`;
}

/** Registers the suite for `target`. */
export function describeTransportConformance(target: ConformanceTarget): void {
  describe(`transport conformance: ${target.name}`, () => {
    let device: Device;
    let blockSize = 512;
    beforeAll(async () => {
      device = await target.open();
      blockSize = (await device.readCapacity()).blockSize;
    });
    afterAll(async () => {
      await target.faults.clear();
      await device.close();
    });
    afterEach(async () => {
      await target.faults.clear();
    });

    describe('identity and limits', () => {
      it('reads the identity at open: standard INQUIRY, VPD 0x00, 0x80, 0x83', async () => {
        const id = device.identity;
        expect(id.address).not.toBe('');
        expect(id.peripheralType).toBe(0);
        expect(id.peripheralTypeName).toBe('disk');
        expect(id.vendor.length).toBeGreaterThan(0);
        expect(id.product.length).toBeGreaterThan(0);
        const inq = await device.inquiry();
        expect([inq.vendor, inq.product, inq.revision]).toEqual([id.vendor, id.product, id.revision]);
        expect(id.vpdPages).toContain(0x83);
        expect(id.identifiers.length).toBeGreaterThan(0);
        expect(id.identifiers.some((i) => i.association === 'logical unit')).toBe(true);
        if (id.vpdPages.includes(0x80)) expect(id.serial?.length ?? 0).toBeGreaterThan(0);
      });

      it('has queue limits consistent with the device and says what it can do', async () => {
        const l = device.limits;
        expect(l.queueLimits.logicalBlockSize).toBe(blockSize);
        expect(l.maxRequestBytes).toBeGreaterThanOrEqual(blockSize);
        expect(l.maxRequestBytes % 512).toBe(0);
        expect(device.queueDepth).toBeGreaterThanOrEqual(1);
        expect(device.queueDepth).toBeLessThanOrEqual(device.capabilities.maxQueueDepth);
        expect(device.capabilities.name.length).toBeGreaterThan(0);
      });
    });

    describe('command helpers', () => {
      it('TEST UNIT READY, REQUEST SENSE, START STOP UNIT, SYNCHRONIZE CACHE', async () => {
        await device.testUnitReady();
        const sense = await device.requestSense();
        if (sense !== undefined) expect(sense.senseKey).toBe(SenseKey.NO_SENSE);
        await device.startStop({ start: true });
        await device.synchronizeCache();
      });

      it('INQUIRY VPD pages 0x00, 0x80, 0x83, 0xb0', async () => {
        const supported = await device.vpdPage(0x00);
        if (supported.pageCode !== 0x00) throw new Error('page 0x00');
        expect(supported.supportedPages).toEqual(device.identity.vpdPages);
        const ids = await device.vpdPage(0x83);
        expect(ids.pageCode).toBe(0x83);
        if (supported.supportedPages.includes(0xb0)) {
          const bl = await device.vpdPage(0xb0);
          if (bl.pageCode !== 0xb0) throw new Error('page 0xb0');
          expect(typeof bl.fields.maximumTransferLength).toBe('number');
        }
      });

      it('READ CAPACITY, WRITE then READ back, VERIFY', async () => {
        const cap = await device.readCapacity();
        expect(cap.blocks).toBeGreaterThan(SCRATCH + 256n);
        expect(cap.bytes).toBe(cap.blocks * BigInt(cap.blockSize));
        const data = new Uint8Array(randomBytes(16 * blockSize));
        await device.write(SCRATCH, data);
        expect(Buffer.compare(Buffer.from(await device.read(SCRATCH, 16)), Buffer.from(data))).toBe(0);
        await device.verify(SCRATCH, 16);
      });

      it('WRITE SAME fills the range with one block', async () => {
        const block = new Uint8Array(blockSize).fill(0x5a);
        await device.writeSame(SCRATCH + 32n, 8, block);
        const back = await device.read(SCRATCH + 32n, 8);
        expect(back.every((b) => b === 0x5a)).toBe(true);
      });

      it('COMPARE AND WRITE writes on a match and answers MISCOMPARE otherwise', async () => {
        const old = new Uint8Array(blockSize).fill(1);
        const next = new Uint8Array(blockSize).fill(2);
        await device.write(SCRATCH + 64n, old);
        await device.compareAndWrite(SCRATCH + 64n, old, next);
        expect((await device.read(SCRATCH + 64n, 1))[0]).toBe(2);
        const error = (await device
          .compareAndWrite(SCRATCH + 64n, old, next)
          .catch((e: unknown) => e)) as DeviceError;
        expect(error).toBeInstanceOf(DeviceError);
        expect(error.sense?.senseKey).toBe(SenseKey.MISCOMPARE);
        expect(error.exitStatus).toBe(ExitStatus.MISCOMPARE);
      });

      it('REPORT LUNS lists this logical unit', async () => {
        const report = await device.reportLuns();
        expect(report.luns.length).toBeGreaterThanOrEqual(1);
        expect(report.luns.some((l) => l.linuxLun === (device.identity.hctl?.lun ?? 0n))).toBe(true);
      });

      it('MODE SENSE returns the Caching page; MODE SELECT of the current values is accepted', async () => {
        const mp = await device.modeSense({ page: 0x08 });
        const caching = mp.pages.find((p) => p.pageCode === 0x08);
        expect(caching?.fields).toBeDefined();
        await device.modeSelect({
          caching: { wce: caching?.fields?.wce ?? 0, rcd: caching?.fields?.rcd ?? 0 },
        });
        // SPC-6 7.5: a device may report MODE PARAMETERS CHANGED (2A/01) as a UNIT ATTENTION on the
        // next command; raw mode shows it as a response, and it is gone afterwards.
        const next = await device.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) });
        if (next.category !== ResultCategory.GOOD) {
          expect(next.decodedSense).toMatchObject({
            senseKey: SenseKey.UNIT_ATTENTION,
            asc: 0x2a,
            ascq: 0x01,
          });
        }
        await device.testUnitReady();
      });

      it('REPORT SUPPORTED OPERATION CODES lists READ(10); unsupported commands are INVALID OPERATION CODE', async () => {
        const ops = await device.reportSupportedOpcodes();
        expect(ops.some((o) => o.opcode === 0x28)).toBe(true);
        if (ops.some((o) => o.opcode === 0x5e)) {
          await device.persistentReserveOut(0, { serviceActionKey: 0x5ca1n });
          expect((await device.persistentReserveIn('read-keys')).keys).toContain(0x5ca1n);
          await device.persistentReserveOut(0, { key: 0x5ca1n, serviceActionKey: 0n });
          expect((await device.persistentReserveIn('read-reservation')).reservation).toBeUndefined();
        } else {
          const error = (await device
            .persistentReserveIn('read-keys')
            .catch((e: unknown) => e)) as DeviceError;
          expect(error).toBeInstanceOf(DeviceError);
          expect(error.exitStatus).toBe(ExitStatus.INVALID_OP);
        }
      });

      it('UNMAP works where the device advertises it (VPD 0xb2 LBPU) and is ILLEGAL REQUEST where it does not', async () => {
        const pages = device.identity.vpdPages;
        const lbp = pages.includes(0xb2) ? await device.vpdPage(0xb2) : undefined;
        const lbpu = lbp?.pageCode === 0xb2 && lbp.fields.lbpu === 1;
        const result = await device
          .unmap([{ lba: SCRATCH + 128n, numberOfBlocks: 8 }])
          .catch((e: unknown) => e);
        if (lbpu) expect(result).toBeUndefined();
        // Without LBPU a device may refuse it (ILLEGAL REQUEST) or, as scsi_debug's resp_unmap does
        // when logical block provisioning is off, answer GOOD having done nothing.
        else if (result !== undefined)
          expect((result as DeviceError).sense?.senseKey).toBe(SenseKey.ILLEGAL_REQUEST);
      });
    });

    describe('errors and sense', () => {
      it('raw submit resolves CHECK CONDITION with decoded sense; the helper throws DeviceError', async () => {
        const r = await device.submit({
          cdb: Uint8Array.of(0x12, 1, 0xfe, 0, 96, 0),
          dataIn: new Uint8Array(96),
        });
        expect(r.category).toBe(ResultCategory.SENSE);
        expect(r.statusName).toBe('CHECK CONDITION');
        expect(r.decodedSense?.senseKey).toBe(SenseKey.ILLEGAL_REQUEST);
        expect(r.decodedSense?.asc).toBe(0x24);
        const error = (await device.vpdBytes(0xfe).catch((e: unknown) => e)) as DeviceError;
        expect(error).toBeInstanceOf(DeviceError);
        expect(error.exitStatus).toBe(ExitStatus.ILLEGAL_REQ);
      });

      it('a read past the capacity is LBA OUT OF RANGE', async () => {
        const cap = await device.readCapacity();
        const error = (await device.read(cap.blocks, 1).catch((e: unknown) => e)) as DeviceError;
        expect(error.sense?.asc).toBe(0x21);
        expect(error.exitStatus).toBe(ExitStatus.LBA_OUT_OF_RANGE);
      });

      it('a medium error surfaces as MEDIUM ERROR and the requests around it complete intact', async () => {
        const good = new Uint8Array(randomBytes(8 * blockSize));
        await device.write(SCRATCH + 256n, good);
        const bad = await target.faults.mediumErrors();
        const [failed, neighbour] = await Promise.allSettled([
          device.read(bad.lba, 1),
          device.read(SCRATCH + 256n, 8),
        ]);
        expect(failed.status).toBe('rejected');
        const error = (failed as PromiseRejectedResult).reason as DeviceError;
        expect(error).toBeInstanceOf(DeviceError);
        expect(error.sense?.senseKey).toBe(SenseKey.MEDIUM_ERROR);
        expect([ExitStatus.MEDIUM_HARD, ExitStatus.MEDIUM_HARD_WITH_INFO]).toContain(error.exitStatus);
        expect(neighbour.status).toBe('fulfilled');
        expect(
          Buffer.compare(
            Buffer.from((neighbour as PromiseFulfilledResult<Uint8Array>).value),
            Buffer.from(good),
          ),
        ).toBe(0);
      });

      it('the permission pre-check refuses WRITE on a read-only open of an unprivileged caller', async () => {
        const ro = await target.open({ readOnly: true, capSysRawio: false });
        try {
          const decision = ro.checkPermission(Uint8Array.of(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0));
          if (decision === undefined) return; // no kernel filter on this transport
          const error = (await ro
            .write(SCRATCH, new Uint8Array(blockSize))
            .catch((e: unknown) => e)) as CommandPermissionError;
          expect(decision.allowed).toBe(false);
          expect(error).toBeInstanceOf(CommandPermissionError);
          expect(error.predicted).toBe(true);
          expect(error.explain()).toMatch(/read-only/);
          await ro.testUnitReady(); // read-class commands still go through
        } finally {
          await ro.close();
        }
      });
    });

    describe('tags, attributes and the queue', () => {
      it('library tags are unique among outstanding tasks', async () => {
        const ps = Array.from({ length: 24 }, () => device.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) }));
        const tags = ps.map((p) => p.tag);
        expect(new Set(tags).size).toBe(24);
        const rs = await Promise.all(ps);
        expect(rs.map((r) => r.tag)).toEqual(tags);
        expect(rs.every((r) => r.tagOnWire === device.capabilities.tagsOnWire)).toBe(true);
      });

      it('caller tags: a tag in use is a TagCollisionError, a free one is accepted', async () => {
        const d = await target.open({ tagPolicy: 'caller', identify: false });
        try {
          await target.faults.latency(100);
          const first = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), tag: 42n });
          await expect(d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), tag: 42n })).rejects.toBeInstanceOf(
            TagCollisionError,
          );
          const second = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), tag: 43n });
          expect((await first).tag).toBe(42n);
          expect((await second).tag).toBe(43n);
        } finally {
          await d.close();
        }
      });

      it('an ORDERED task completes after every older task and before every newer one', async () => {
        await target.faults.latency(20);
        const order: string[] = [];
        const write = (name: string, lba: bigint, attribute?: TaskAttribute) =>
          device
            .submit({
              cdb: Uint8Array.of(0x2a, 0, 0, 0, Number(lba >> 8n) & 0xff, Number(lba) & 0xff, 0, 0, 1, 0),
              dataOut: new Uint8Array(blockSize),
              ...(attribute ? { attribute } : {}),
            })
            .then((r) => {
              order.push(name);
              return r;
            });
        const all = [
          write('a1', SCRATCH),
          write('a2', SCRATCH + 1n),
          write('a3', SCRATCH + 2n),
          write('O', SCRATCH + 3n, TaskAttribute.ORDERED),
          write('b1', SCRATCH + 4n),
          write('b2', SCRATCH + 5n),
        ];
        const rs = await Promise.all(all);
        expect(rs.every((r) => r.category === ResultCategory.GOOD)).toBe(true);
        const at = order.indexOf('O');
        expect(order.slice(0, at).sort()).toEqual(['a1', 'a2', 'a3']);
        expect(order.slice(at + 1).sort()).toEqual(['b1', 'b2']);
      });

      it('abort(tag) removes a task still queued in the Device; in flight it follows the capabilities', async () => {
        const d = await target.open({ queueDepth: 1, identify: false });
        try {
          await target.faults.latency(300);
          const a = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) });
          const b = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) });
          await sleep(20);
          await expect(d.abort(b.tag as bigint)).resolves.toBe(true);
          await expect(b).rejects.toBeInstanceOf(AbortedError);
          if (d.capabilities.abortInFlight) {
            await expect(d.abort(a.tag as bigint)).resolves.toBe(true);
            await expect(a).rejects.toBeInstanceOf(AbortedError);
          } else {
            await expect(d.abort(a.tag as bigint)).rejects.toBeInstanceOf(NotSupportedError);
            expect((await a).category).toBe(ResultCategory.GOOD);
          }
          await expect(d.abort(a.tag as bigint)).resolves.toBe(false);
        } finally {
          await d.close();
        }
      });

      it('an AbortSignal cancels a queued request at once and abandons (or aborts) one in flight', async () => {
        const d = await target.open({ queueDepth: 1, identify: false });
        try {
          await target.faults.latency(300);
          const c = new AbortController();
          const a = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), signal: c.signal });
          const b = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), signal: c.signal });
          await sleep(20);
          c.abort();
          const [ea, eb] = await Promise.all([a.catch((e: unknown) => e), b.catch((e: unknown) => e)]);
          expect(ea).toBeInstanceOf(AbortedError);
          expect(eb).toBeInstanceOf(AbortedError);
        } finally {
          await d.close();
        }
        expect(d.outstanding).toBe(0);
      });
    });

    describe('task management', () => {
      it(`sends the functions the transport lists and refuses the others at the call${because(target.cannot?.lunReset, 'LOGICAL UNIT RESET not sent')}`, async () => {
        const listed = device.capabilities.taskManagement;
        for (const fn of Object.values(TaskManagementFunction)) {
          if (listed.includes(fn)) continue;
          await expect(device.taskManagement(fn, { tag: 1n })).rejects.toBeInstanceOf(NotSupportedError);
        }
        if (!listed.includes(TaskManagementFunction.LOGICAL_UNIT_RESET)) return;
        if (target.cannot?.lunReset !== undefined) return;
        const result = await device.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET);
        expect(result.responseName).toBe('FUNCTION COMPLETE');
        // SAM-6 7.7: the reset sets a UNIT ATTENTION (29/xx) for the other initiators, and Linux's
        // reset path may report one here too; raw mode shows it, and it is gone afterwards.
        const next = await device.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) });
        if (next.category !== ResultCategory.GOOD) {
          expect(next.decodedSense).toMatchObject({ senseKey: SenseKey.UNIT_ATTENTION, asc: 0x29 });
        }
        await device.testUnitReady();
      });
    });

    describe('timeouts and close', () => {
      it.skipIf(target.cannot?.timeout !== undefined)(
        `a command the device never answers is a TimeoutError after its timeout; the others complete${because(target.cannot?.timeout, 'skipped')}`,
        async () => {
          const d = await target.open({ identify: false });
          try {
            await target.faults.dropNth(2);
            await d.testUnitReady();
            const started = performance.now();
            const lost = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), timeoutMs: 1000 });
            // The lost command must reach the device before the fault is cleared: 300 ms leaves
            // room for a network hop under emulation (iSCSI in the lab guest), well inside 1 s.
            await sleep(300);
            await target.faults.clear();
            const error = await lost.catch((e: unknown) => e);
            const elapsed = performance.now() - started;
            expect(error).toBeInstanceOf(TimeoutError);
            expect((error as TimeoutError).timeoutMs).toBe(1000);
            expect((error as TimeoutError).exitStatus).toBe(ExitStatus.TIMEOUT);
            expect(elapsed).toBeGreaterThanOrEqual(950);
            await d.testUnitReady();
            const data = await d.read(SCRATCH, 4);
            expect(data.length).toBe(4 * blockSize);
          } finally {
            await d.close();
          }
        },
      );

      it('close() with requests in flight settles every one of them and then resolves', async () => {
        const d = await target.open({ identify: false });
        await target.faults.latency(50);
        const ps = Array.from({ length: 8 }, (_, i) => d.read(SCRATCH + BigInt(i), 1, { blockSize }));
        const settled = Promise.allSettled(ps);
        await sleep(10);
        await d.close();
        const results = await settled;
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AbortedError);
        }
        expect(d.outstanding).toBe(0);
        await expect(d.testUnitReady()).rejects.toThrow(/EBADF/);
      });
    });

    describe('splitting large transfers', () => {
      it('splits a transfer beyond maxRequestBytes into requests the queue accepts, data intact', async () => {
        const blocks = Math.floor((device.limits.maxRequestBytes * 2.5) / blockSize);
        const data = new Uint8Array(randomBytes(blocks * blockSize));
        const expected = Math.ceil(blocks / Math.floor(device.limits.maxRequestBytes / blockSize));
        const { events } = await traced(device, () => device.write(SCRATCH, data));
        expect(events.filter(([n]) => n === 'sgv4:submit').length).toBe(expected);
        const { result, events: readEvents } = await traced(device, () => device.read(SCRATCH, blocks));
        expect(readEvents.filter(([n]) => n === 'sgv4:complete').length).toBe(expected);
        expect(Buffer.compare(Buffer.from(result), Buffer.from(data))).toBe(0);
      });
    });
  });
}
