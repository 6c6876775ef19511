/**
 * The SCSI ring against the real sg and bsg drivers (Linux 6.1, scsi_debug): data
 * integrity both ways (checked with sg_dd as well), completion order, back-pressure when
 * every entry is taken, abort while queued and in the kernel, close with 64 in flight,
 * and four worker_threads submitting to one ring at once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AbortedError, InvalidFieldError, OsError } from '@sgv4/core';
import { openRing, type RingCompletion, type ScsiRing } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFdCount } from './fd-count.js';
import { type Latency, labNodes, latency, queueLimit, setLatency } from './lab-nodes.js';
import { pattern, read10Cdb, write10Cdb } from './scsi-commands.js';

const BLOCK = 512;
const LBA0 = 40_000;
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Pseudo-random distinct 8-block-aligned LBAs in [LBA0, LBA0 + 8 * span). */
function randomLbas(count: number, seed: number, span = 4096): number[] {
  let s = seed >>> 0 || 1;
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < count) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const lba = LBA0 + ((s >>> 0) % span) * 8;
    if (!seen.has(lba)) {
      seen.add(lba);
      out.push(lba);
    }
  }
  return out;
}

function good(c: RingCompletion): void {
  expect({ status: c.status, host: c.hostStatus, driver: c.driverStatus }).toEqual({
    status: 0,
    host: 0,
    driver: 0,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const fdsAtStart = openFdCount();
let saved: Latency;
beforeAll(async () => {
  saved = latency();
  await setLatency({ delay: 0 });
});
afterAll(async () => {
  await setLatency(saved); // the guest is shared by every lab file
  for (let i = 0; i < 100 && openFdCount() !== fdsAtStart; i++) await sleep(20);
  expect(openFdCount()).toBe(fdsAtStart);
});

describe('sg ring with mmap-ed slots (the reserved buffer of one fd each)', () => {
  it('writes from and reads into the mmap-ed reserve, data equal through ordinary buffers', async () => {
    const ring = openRing(labNodes.sg, { queueDepth: 4, bufferCount: 1, bufferSize: 8192, mmapSlots: 2 });
    try {
      expect(ring.mmapSlots).toBe(2);
      const slot0 = ring.buffer(1);
      const slot1 = ring.buffer(2);
      expect(slot0.length).toBe(8192);
      const data = pattern(8192, 777);
      slot0.set(data);
      const lba = LBA0 + 8 * 6000;
      good(await ring.submit({ cdb: write10Cdb(lba, 16), dataOut: { buffer: 1, length: 8192 } }));
      good(await ring.submit({ cdb: read10Cdb(lba, 16), dataIn: { buffer: 0, length: 8192 } }));
      expect(ring.buffer(0)).toEqual(data);
      // Both slots at once (each has its own fd), and one slot twice in a row (held until its fd is free).
      slot1.fill(0);
      const [a, b, c] = await Promise.all([
        ring.submit({ cdb: read10Cdb(lba, 16), dataIn: { buffer: 2, length: 8192 } }),
        ring.submit({ cdb: read10Cdb(lba, 8), dataIn: { buffer: 1, length: 4096 } }),
        ring.submit({ cdb: read10Cdb(lba + 8, 8), dataIn: { buffer: 1, length: 4096 } }),
      ]);
      for (const x of [a, b, c]) good(x as RingCompletion);
      expect(slot1).toEqual(data);
      expect(slot0.subarray(0, 4096)).toEqual(data.subarray(4096));
      expect(() => ring.buffer(3)).toThrow(InvalidFieldError);
      await expect(
        ring.submit({ cdb: read10Cdb(lba, 1), dataIn: { buffer: 1, offset: 512, length: 512 } }),
      ).rejects.toMatchObject({ field: 'dataIn.offset' });
    } finally {
      await ring.close();
    }
  });

  it('bsg has no reserved buffer to map', () => {
    expect(() => openRing(labNodes.bsg, { mmapSlots: 1 })).toThrow(
      expect.objectContaining({ field: 'options.mmapSlots' }),
    );
  });
});

describe("the consumers' reserved buffers: sized to the ring's buffers", () => {
  it.each([
    ['write()/read() queue', {}],
    ['SG_IO threads', { sgThreads: true }],
  ] as const)(
    'sg %s: reservedBytes is the buffer size (sg caps it at max_sectors_kb); a transfer of that size moves through it intact',
    async (_, consumer) => {
      const cap = queueLimit('max_sectors_kb') * 1024;
      // 4 KiB shrinks the 32 KiB default reserve; 256 KiB grows it (a READ or WRITE that size
      // used to have pages allocated for it alone, sg_build_indirect). Depth 20: two pool fds.
      for (const size of [4096, 256 * 1024]) {
        const ring = openRing(labNodes.sg, { ...consumer, queueDepth: 20, bufferCount: 2, bufferSize: size });
        try {
          expect(ring.reservedBytes).toBe(Math.min(size, cap));
          const lba = LBA0 + 8 * 6000;
          const data = pattern(size, 77 + size);
          ring.buffer(0).set(data);
          good(
            await ring.submit({ cdb: write10Cdb(lba, size / BLOCK), dataOut: { buffer: 0, length: size } }),
          );
          ring.buffer(1).fill(0);
          good(await ring.submit({ cdb: read10Cdb(lba, size / BLOCK), dataIn: { buffer: 1, length: size } }));
          expect(ring.buffer(1)).toEqual(data);
        } finally {
          await ring.close();
        }
      }
    },
  );

  it('bsg: 0 (bsg has no reserved buffer)', async () => {
    const ring = openRing(labNodes.bsg, { queueDepth: 2, bufferCount: 1, bufferSize: 256 * 1024 });
    expect(ring.reservedBytes).toBe(0);
    await ring.close();
  });
});

describe.each([
  ['sg', labNodes.sg, {}],
  ['bsg', labNodes.bsg, {}],
  // The other sg consumer: blocking SG_IO threads, one fd and reserve each.
  ['sg', labNodes.sg, { sgThreads: true }],
] as const)('%s ring %o', (kind, path, consumer) => {
  it('random writes read back equal, through the ring and with sg_dd', async () => {
    const ring = openRing(path, { ...consumer, queueDepth: 16, bufferCount: 64, bufferSize: 8 * BLOCK });
    expect(ring.kind).toBe(kind);
    const lbas = randomLbas(64, kind === 'sg' ? 7 : 11);
    const seeds = lbas.map((_, i) => i * 13 + (kind === 'sg' ? 1 : 2));
    for (const [i] of lbas.entries()) ring.buffer(i).set(pattern(8 * BLOCK, seeds[i] as number));
    const writes = await Promise.all(
      lbas.map((lba, i) =>
        ring.submit({ cdb: write10Cdb(lba, 8), dataOut: { buffer: i, length: 8 * BLOCK } }),
      ),
    );
    writes.forEach(good);
    for (const [i] of lbas.entries()) ring.buffer(i).fill(0);
    const reads = await Promise.all(
      lbas.map((lba, i) => ring.submit({ cdb: read10Cdb(lba, 8), dataIn: { buffer: i, length: 8 * BLOCK } })),
    );
    reads.forEach(good);
    for (const [i] of lbas.entries()) expect(ring.buffer(i)).toEqual(pattern(8 * BLOCK, seeds[i] as number));

    // sg_dd (sg3_utils) as the peer: it reads what the ring wrote, and writes what the ring reads.
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-ring-'));
    try {
      for (const i of [0, 17, 63]) {
        const out = join(dir, `r${i}`);
        execFileSync('sg_dd', [`if=${labNodes.sg}`, `of=${out}`, 'bs=512', `skip=${lbas[i]}`, 'count=8'], {
          stdio: 'pipe',
        });
        expect(new Uint8Array(readFileSync(out))).toEqual(pattern(8 * BLOCK, seeds[i] as number));
      }
      const source = join(dir, 'w');
      const written = pattern(8 * BLOCK, 4242);
      writeFileSync(source, written);
      const lba = LBA0 + 8 * 5000;
      execFileSync('sg_dd', [`if=${source}`, `of=${labNodes.sg}`, 'bs=512', `seek=${lba}`, 'count=8'], {
        stdio: 'pipe',
      });
      const c = await ring.submit({ cdb: read10Cdb(lba, 8), dataIn: { buffer: 1, length: 8 * BLOCK } });
      good(c);
      expect(ring.buffer(1)).toEqual(written);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await ring.close();
    }
    const stats = ring.stats();
    expect(stats.submitted).toBe(129);
    expect(stats.completed).toBe(129);
    if (kind === 'sg' && !('sgThreads' in consumer)) {
      expect(stats.ioctlCalls).toBe(0);
      expect(stats.writevCalls).toBeGreaterThan(0); // batches went down in one writev
      expect(stats.writeCalls + stats.writevCalls).toBeLessThan(129);
    } else {
      expect(stats.ioctlCalls).toBe(129);
    }
    // One wake per batch: far fewer JS wake-ups than completions.
    expect(stats.jsWakeups).toBeLessThan(129);
  });

  it('a CHECK CONDITION resolves with its sense data; bad requests are typed errors, nothing sent', async () => {
    const ring = openRing(path, { ...consumer, queueDepth: 2, bufferCount: 1, bufferSize: 4096 });
    try {
      // READ(10) beyond the end of the medium: ILLEGAL REQUEST / LBA OUT OF RANGE (scsi_debug check_device_access_params).
      const c = await ring.submit({ cdb: read10Cdb(0xfffffff0, 1), dataIn: { buffer: 0, length: 512 } });
      expect(c.status).toBe(2);
      expect(c.sense.length).toBeGreaterThanOrEqual(14);
      expect((c.sense[2] ?? 0) & 0x0f).toBe(5);
      expect(c.sense[12]).toBe(0x21);
      await expect(ring.submit({ cdb: new Uint8Array(4) })).rejects.toBeInstanceOf(InvalidFieldError);
      await expect(
        ring.submit({ cdb: read10Cdb(0, 16), dataIn: { buffer: 0, length: 8192 } }),
      ).rejects.toMatchObject({ field: 'dataIn.length' });
      await expect(
        ring.submit({ cdb: read10Cdb(0, 1), dataIn: { buffer: 1, length: 512 } }),
      ).rejects.toMatchObject({
        field: 'dataIn.buffer',
      });
      expect(ring.stats().submitted).toBe(1);
    } finally {
      await ring.close();
    }
    await expect(ring.submit({ cdb: read10Cdb(0, 1) })).rejects.toBeInstanceOf(OsError);
  });

  it('completions carry their own request (tag echoed); at queue depth 1 they come in submission order', async () => {
    const ring = openRing(path, {
      ...consumer,
      queueDepth: 1,
      entries: 32,
      bufferCount: 32,
      bufferSize: 4096,
    });
    try {
      const order: bigint[] = [];
      const all = Array.from({ length: 32 }, (_, i) =>
        ring
          .submit({
            cdb: read10Cdb(LBA0 + i * 8, 8),
            dataIn: { buffer: i, length: 4096 },
            tag: BigInt(i) + 100n,
          })
          .then((c) => {
            order.push(c.tag);
            return c;
          }),
      );
      const done = await Promise.all(all);
      for (const [i, c] of done.entries()) expect(c.tag).toBe(BigInt(i) + 100n);
      expect(order).toEqual(done.map((c) => c.tag));
    } finally {
      await ring.close();
    }
  });

  describe('with a 100 ms device', () => {
    beforeAll(() => setLatency({ delay: 25 })); // jiffies, HZ=250
    afterAll(() => setLatency({ delay: 0 }));

    it('every entry taken: submit() waits (back-pressure), never fails', async () => {
      const ring = openRing(path, {
        ...consumer,
        queueDepth: 2,
        entries: 4,
        bufferCount: 1,
        bufferSize: 4096,
      });
      try {
        const start = performance.now();
        const all = Array.from({ length: 12 }, (_, i) =>
          ring.submit({ cdb: read10Cdb(LBA0 + i * 8, 8), dataIn: { buffer: 0, length: 4096 } }),
        );
        expect(ring.inFlight).toBe(12);
        await sleep(20);
        // 4 claimed (2 in the kernel, 2 in the SQ), 8 waiting for a credit.
        expect(ring.stats().submitted).toBe(2);
        (await Promise.all(all)).forEach(good);
        // 12 commands, 2 at a time, 100 ms each: at least 6 rounds.
        expect(performance.now() - start).toBeGreaterThan(550);
        expect(ring.inFlight).toBe(0);
      } finally {
        await ring.close();
      }
    });

    it('abort: queued -> removed (never sent); in the kernel -> abandoned', async () => {
      const ring = openRing(path, {
        ...consumer,
        queueDepth: 1,
        entries: 8,
        bufferCount: 3,
        bufferSize: 4096,
      });
      try {
        const a = new AbortController();
        const b = new AbortController();
        const first = ring.submit({
          cdb: read10Cdb(LBA0, 8),
          dataIn: { buffer: 0, length: 4096 },
          signal: a.signal,
        });
        const second = ring.submit({
          cdb: read10Cdb(LBA0, 8),
          dataIn: { buffer: 1, length: 4096 },
          signal: b.signal,
        });
        const third = ring.submit({ cdb: read10Cdb(LBA0 + 8, 8), dataIn: { buffer: 2, length: 4096 } });
        await sleep(30); // the first is in the kernel, the others in the SQ
        b.abort('not needed');
        await expect(second).rejects.toMatchObject({ canceled: true, reason: 'not needed' });
        await expect(second).rejects.toThrow(/never sent/);
        a.abort();
        await expect(first).rejects.toThrow(/abandoned/);
        // Until the consumer reaches them: the abandoned one (in the kernel), the cancelled one
        // (its SQ slot is skipped when the consumer gets there) and the third.
        expect(ring.inFlight).toBe(3);
        good(await third);
        expect(ring.stats()).toMatchObject({ submitted: 2, cancelled: 1, completed: 3 });
        expect(ring.inFlight).toBe(0);
        // An already aborted signal: rejected before anything is claimed.
        await expect(
          ring.submit({ cdb: read10Cdb(LBA0, 8), signal: AbortSignal.abort() }),
        ).rejects.toBeInstanceOf(AbortedError);
      } finally {
        await ring.close();
      }
    });

    it('close() with 64 in flight: waits for every one, settles all, then frees', async () => {
      const ring = openRing(path, {
        ...consumer,
        queueDepth: 16,
        entries: 64,
        bufferCount: 64,
        bufferSize: 4096,
      });
      const settled: string[] = [];
      const all = Array.from({ length: 64 }, (_, i) =>
        ring.submit({ cdb: read10Cdb(LBA0 + i * 8, 8), dataIn: { buffer: i, length: 4096 } }).then(
          (c) => settled.push(c.status === 0 ? 'ok' : `status ${c.status}`),
          (e: Error) => settled.push(e.message),
        ),
      );
      expect(ring.inFlight).toBe(64);
      await sleep(10);
      await ring.close();
      expect(settled.length).toBe(64);
      expect(settled.every((s) => s === 'ok')).toBe(true);
      await Promise.all(all);
      await expect(ring.submit({ cdb: read10Cdb(0, 1) })).rejects.toMatchObject({ code: 'EBADF' });
    });
  });
});

describe.each([
  ['sg', labNodes.sg, {}],
  ['bsg', labNodes.bsg, {}],
  ['sg', labNodes.sg, { sgThreads: true }],
] as const)('%s ring %o: post(), the promise-free submission', (kind, path, consumer) => {
  it('a pipeline refilled from its callbacks: every completion once, with its data, never inside post()', async () => {
    const ring = openRing(path, {
      ...consumer,
      queueDepth: 4,
      entries: 16,
      bufferCount: 16,
      bufferSize: 4096,
    });
    try {
      const lbas = randomLbas(16, kind === 'sg' ? 31 : 37);
      const expected = lbas.map((_, i) => pattern(4096, 7000 + i + ('sgThreads' in consumer ? 50 : 0)));
      for (const [i] of lbas.entries()) ring.buffer(i).set(expected[i] as Uint8Array);
      (
        await Promise.all(
          lbas.map((lba, i) =>
            ring.submit({ cdb: write10Cdb(lba, 8), dataOut: { buffer: i, length: 4096 } }),
          ),
        )
      ).forEach(good);
      let insidePost = false;
      let calledInsidePost = 0;
      let refused = 0;
      let bad = 0;
      const seen = new Map<bigint, number>();
      // 16 slots (every entry), each reading its LBA 8 times: 128 commands, each posted from the
      // callback of the one before it, which finds its entry free again.
      await new Promise<void>((resolve, reject) => {
        let left = 128;
        const start = (i: number, round: number): void => {
          ring.buffer(i).fill(0);
          insidePost = true;
          const posted = ring.post(
            {
              cdb: read10Cdb(lbas[i] as number, 8),
              dataIn: { buffer: i, length: 4096 },
              tag: BigInt(i * 8 + round + 1),
            },
            (outcome) => {
              if (insidePost) calledInsidePost++;
              if (outcome instanceof Error) return reject(outcome);
              good(outcome);
              seen.set(outcome.tag, (seen.get(outcome.tag) ?? 0) + 1);
              if (Buffer.compare(ring.buffer(i), expected[i] as Uint8Array) !== 0) bad++;
              if (--left === 0) resolve();
              else if (round < 7) start(i, round + 1);
            },
          );
          insidePost = false;
          if (!posted) refused++;
        };
        for (let i = 0; i < 16; i++) start(i, 0);
      });
      expect({ refused, calledInsidePost, bad }).toEqual({ refused: 0, calledInsidePost: 0, bad: 0 });
      expect(seen.size).toBe(128);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);

      // Every entry taken: post() answers false and claims nothing.
      const outcomes: (RingCompletion | Error)[] = [];
      for (let i = 0; i < 16; i++)
        expect(
          ring.post({ cdb: read10Cdb(LBA0, 1), dataIn: { buffer: i, length: 512 } }, (o) => outcomes.push(o)),
        ).toBe(true);
      expect(ring.post({ cdb: read10Cdb(LBA0, 1) }, (o) => outcomes.push(o))).toBe(false);
      expect(ring.inFlight).toBe(16);
      while (outcomes.length < 16) await sleep(5);
      await sleep(20);
      expect(outcomes.length).toBe(16);
      for (const o of outcomes) good(o as RingCompletion);
      expect(ring.inFlight).toBe(0);
    } finally {
      await ring.close();
    }
  });

  it('bad requests throw at the call (nothing claimed); a closed ring throws EBADF', async () => {
    const ring = openRing(path, { ...consumer, queueDepth: 1, entries: 4, bufferCount: 1, bufferSize: 4096 });
    const never = (): void => {
      throw new Error('no outcome expected');
    };
    expect(() => ring.post({ cdb: new Uint8Array(4) }, never)).toThrow(InvalidFieldError);
    expect(() => ring.post({ cdb: read10Cdb(0, 16), dataIn: { buffer: 0, length: 8192 } }, never)).toThrow(
      expect.objectContaining({ field: 'dataIn.length' }),
    );
    expect(() => ring.post({ cdb: read10Cdb(0, 1) }, 'x' as never)).toThrow(
      expect.objectContaining({ field: 'callback' }),
    );
    expect(() => ring.post({ cdb: read10Cdb(0, 1), signal: AbortSignal.abort() }, never)).toThrow(
      AbortedError,
    );
    expect(ring.inFlight).toBe(0);
    expect(ring.stats().submitted).toBe(0);
    await ring.close();
    expect(() => ring.post({ cdb: read10Cdb(0, 1) }, never)).toThrow(
      expect.objectContaining({ code: 'EBADF' }),
    );
  });

  describe('with a 100 ms device', () => {
    beforeAll(() => setLatency({ delay: 25 })); // jiffies, HZ=250
    afterAll(() => setLatency({ delay: 0 }));

    it('abort of a posted command: queued -> its callback gets AbortedError (never sent); the rest complete', async () => {
      const ring = openRing(path, {
        ...consumer,
        queueDepth: 1,
        entries: 8,
        bufferCount: 2,
        bufferSize: 4096,
      });
      try {
        const outcomes = new Map<string, RingCompletion | Error>();
        const a = new AbortController();
        ring.post({ cdb: read10Cdb(LBA0, 8), dataIn: { buffer: 0, length: 4096 } }, (o) =>
          outcomes.set('first', o),
        );
        ring.post(
          { cdb: read10Cdb(LBA0 + 8, 8), dataIn: { buffer: 1, length: 4096 }, signal: a.signal },
          (o) => outcomes.set('second', o),
        );
        await sleep(30); // the first in the kernel, the second in the SQ
        a.abort('not needed');
        expect(outcomes.get('second')).toMatchObject({ canceled: true, reason: 'not needed' });
        expect((outcomes.get('second') as Error).message).toMatch(/never sent/);
        while (!outcomes.has('first') || ring.inFlight > 0) await sleep(10);
        good(outcomes.get('first') as RingCompletion);
        expect(outcomes.size).toBe(2);
        expect(ring.stats()).toMatchObject({ submitted: 1, cancelled: 1, completed: 2 });
      } finally {
        await ring.close();
      }
    });
  });
});

describe('bsg ring: a post() callback that throws', () => {
  // bsg: its completions reach JS through the addon's uv_async and MakeCallback, the path whose
  // exceptions used to vanish (an sg queue ring at delay=0 reaps inside the doorbell's microtask
  // instead); the throwing callback is JS, the same on every consumer.
  it('the error is uncaught, the other completions of the batch still arrive', () => {
    // In a child process: an uncaught exception ends it, which is the point. The four complete
    // in one batch; the second's callback throws; the third and fourth still get theirs.
    const script = `
    import { openRing } from '@sgv4/native';
    const ring = openRing(${JSON.stringify(labNodes.bsg)}, { queueDepth: 1, entries: 8, bufferCount: 1, bufferSize: 4096 });
    const lba = ${LBA0};
    for (let i = 0; i < 4; i++) {
      const cdb = new Uint8Array([0x28, 0, 0, 0, (lba + i) >> 8, (lba + i) & 255, 0, 0, 1, 0]);
      ring.post({ cdb, dataIn: { buffer: 0, length: 512 } }, (o) => {
        console.log('outcome', i, o instanceof Error ? o.message : o.status);
        if (i === 1) throw new Error('callback bug');
      });
    }
    // Block this thread while the device answers all four, so that one reap delivers them: a
    // microtask queued after the doorbell's, so it runs before any completion wake-up is handled.
    queueMicrotask(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Error: callback bug/);
    expect(run.stdout.trim().split('\n').sort()).toEqual([
      'outcome 0 0',
      'outcome 1 0',
      'outcome 2 0',
      'outcome 3 0',
    ]);
  });
});

describe.each([
  ['bsg', labNodes.bsg, {}],
  ['sg', labNodes.sg, { sgThreads: true }],
] as const)('%s ring %o (a threads consumer)', (kind, path, consumer) => {
  it('completionBatch 8 with the SQ kept full: every completion once, with its data, in far fewer wake-ups', async () => {
    const ring = openRing(path, {
      ...consumer,
      queueDepth: 1,
      entries: 64,
      bufferCount: 64,
      bufferSize: 4096,
      completionBatch: 8,
    });
    try {
      const lbas = randomLbas(64, kind === 'sg' ? 21 : 23);
      const expected = lbas.map((_, i) => pattern(4096, 9000 + i));
      for (const [i] of lbas.entries()) ring.buffer(i).set(expected[i] as Uint8Array);
      await Promise.all(
        lbas.map((lba, i) => ring.submit({ cdb: write10Cdb(lba, 8), dataOut: { buffer: i, length: 4096 } })),
      );
      const before = ring.stats();
      const seen = new Map<bigint, number>();
      let bad = 0;
      // 64 slots, each reading 4 times into its buffer: 256 commands, the SQ full throughout.
      await Promise.all(
        lbas.map(async (lba, i) => {
          for (let round = 0; round < 4; round++) {
            ring.buffer(i).fill(0);
            const tag = BigInt(i * 4 + round + 1);
            const c = await ring.submit({
              cdb: read10Cdb(lba, 8),
              dataIn: { buffer: i, length: 4096 },
              tag,
            });
            good(c);
            seen.set(c.tag, (seen.get(c.tag) ?? 0) + 1);
            if (Buffer.compare(ring.buffer(i), expected[i] as Uint8Array) !== 0) bad++;
          }
        }),
      );
      expect(bad).toBe(0);
      expect(seen.size).toBe(256);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      const after = ring.stats();
      expect(after.completed - before.completed).toBe(256);
      expect(after.jsWakeups - before.jsWakeups).toBeLessThan(256 / 2);
    } finally {
      await ring.close();
    }
  });
});

describe.each([
  ['sg', labNodes.sg],
  ['bsg', labNodes.bsg],
] as const)('%s ring', (_kind, path) => {
  it('four worker_threads submit to one ring at once: every completion exactly once, with its data', async () => {
    const workers = 4;
    const perWorker = 100;
    const ring = openRing(path, {
      queueDepth: 16,
      entries: 64,
      bufferCount: workers * 16,
      bufferSize: 4096,
    });
    const dist = join(packageRoot, 'dist', 'index.js');
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { attachRing } = await import(workerData.dist);
        const { w, perWorker, lba0, share } = workerData;
        const ring = attachRing(share);
        const counts = new Uint32Array(perWorker);
        let bad = 0;
        const lane = async (l) => {
          for (let i = l; i < perWorker; i += 16) {
            const buffer = w * 16 + l;
            const view = ring.buffer(buffer);
            const lba = lba0 + (w * perWorker + i) * 8;
            for (let b = 0; b < 4096; b++) view[b] = (w * 131 + i * 17 + b) & 0xff;
            const wc = new Uint8Array(10); wc[0] = 0x2a; new DataView(wc.buffer).setUint32(2, lba); wc[8] = 8;
            const tag = BigInt(w * 1_000_000 + i);
            const c1 = await ring.submit({ cdb: wc, dataOut: { buffer, length: 4096 }, tag });
            if (c1.status !== 0 || c1.tag !== tag) bad++;
            view.fill(0);
            const rc = new Uint8Array(10); rc[0] = 0x28; new DataView(rc.buffer).setUint32(2, lba); rc[8] = 8;
            const c2 = await ring.submit({ cdb: rc, dataIn: { buffer, length: 4096 }, tag: tag + 500_000n });
            if (c2.status !== 0 || c2.tag !== tag + 500_000n) bad++;
            for (let b = 0; b < 4096; b++) if (view[b] !== ((w * 131 + i * 17 + b) & 0xff)) { bad++; break; }
            counts[i]++;
          }
        };
        await Promise.all(Array.from({ length: 16 }, (_, l) => lane(l)));
        await ring.close();
        parentPort.postMessage({ counts: Array.from(counts), bad });
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
    try {
      const results = await Promise.all(
        Array.from({ length: workers }, (_, w) => {
          const worker = new Worker(source, {
            eval: true,
            workerData: { dist, w, perWorker, lba0: LBA0 + 80_000, share: ring.share() },
          });
          return new Promise<{ counts?: number[]; bad?: number; error?: string }>((resolve, reject) => {
            worker.once('message', (m) => {
              void worker.terminate();
              resolve(m);
            });
            worker.once('error', reject);
          });
        }),
      );
      for (const r of results) {
        expect(r.error).toBeUndefined();
        expect(r.bad).toBe(0);
        expect(r.counts).toEqual(new Array(perWorker).fill(1));
      }
      const stats = ring.stats();
      expect(stats.submitted).toBe(workers * perWorker * 2);
      expect(stats.completed).toBe(workers * perWorker * 2);
    } finally {
      await ring.close();
    }
  }, 120_000);
});

describe('sg ring: reaping moves between the JS thread’s loop and the consumer thread', () => {
  // 5 ms: replies come after the inline rounds even on a loaded emulated machine (at 200 µs a slow
  // host once let the inline readv rounds drain whole bursts, and the consumer thread never woke).
  beforeAll(() => setLatency({ ndelay: 5_000_000 }));
  afterAll(() => setLatency({ delay: 0 }));

  it('every completion exactly once, with its data, while a worker’s commands force hand-overs', async () => {
    // loopReapDepth 4: bursts of 1..4 of this thread's commands are reaped by its loop, larger ones
    // and any mix with the worker's by the consumer thread.
    const ring = openRing(labNodes.sg, {
      queueDepth: 16,
      entries: 32,
      bufferCount: 20,
      bufferSize: 4096,
      loopReapDepth: 4,
    });
    const dist = join(packageRoot, 'dist', 'index.js');
    const workerSource = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { attachRing } = await import(workerData.dist);
        const ring = attachRing(workerData.share);
        let bad = 0, done = 0;
        const lane = async (l) => {
          for (let i = l; i < 40; i += 2) {
            const buffer = 16 + l, view = ring.buffer(buffer), lba = workerData.lba0 + i * 8;
            for (let b = 0; b < 4096; b++) view[b] = (i * 29 + b) & 0xff;
            const wc = new Uint8Array(10); wc[0] = 0x2a; new DataView(wc.buffer).setUint32(2, lba); wc[8] = 8;
            const c1 = await ring.submit({ cdb: wc, dataOut: { buffer, length: 4096 }, tag: BigInt(i) });
            view.fill(0);
            const rc = new Uint8Array(10); rc[0] = 0x28; new DataView(rc.buffer).setUint32(2, lba); rc[8] = 8;
            const c2 = await ring.submit({ cdb: rc, dataIn: { buffer, length: 4096 }, tag: BigInt(i) + 1000n });
            if (c1.status !== 0 || c1.tag !== BigInt(i) || c2.status !== 0 || c2.tag !== BigInt(i) + 1000n) bad++;
            for (let b = 0; b < 4096; b++) if (view[b] !== ((i * 29 + b) & 0xff)) { bad++; break; }
            done += 2;
          }
        };
        await Promise.all([lane(0), lane(1)]);
        await ring.close();
        parentPort.postMessage({ bad, done });
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
    let mainCommands = 0;
    try {
      const sizes = [1, 1, 2, 16, 1, 4, 12, 1, 3];
      const phase = async (round: number, withWorker: boolean) => {
        let worker: Promise<{ bad?: number; done?: number; error?: string }> | undefined;
        if (withWorker) {
          const w = new Worker(workerSource, {
            eval: true,
            workerData: { dist, share: ring.share(), lba0: LBA0 + 66_000 + round * 1000 }, // 64 MiB disk: LBA < 131072
          });
          worker = new Promise((resolve, reject) => {
            w.once('message', (m) => {
              void w.terminate();
              resolve(m);
            });
            w.once('error', reject);
          });
        }
        for (const [k, size] of sizes.entries()) {
          const lbas = randomLbas(size, 1 + round * 100 + k, 512).map((lba) => lba + 60_000); // LBA 100000..104095
          const seeds = lbas.map((_, i) => round * 7919 + k * 31 + i);
          for (const [i] of lbas.entries()) ring.buffer(i).set(pattern(4096, seeds[i] as number));
          const writes = await Promise.all(
            lbas.map((lba, i) =>
              ring.submit({
                cdb: write10Cdb(lba, 8),
                dataOut: { buffer: i, length: 4096 },
                tag: BigInt(k * 100 + i),
              }),
            ),
          );
          for (const [i, c] of writes.entries()) {
            good(c);
            expect(c.tag).toBe(BigInt(k * 100 + i));
          }
          for (const [i] of lbas.entries()) ring.buffer(i).fill(0);
          const reads = await Promise.all(
            lbas.map((lba, i) =>
              ring.submit({ cdb: read10Cdb(lba, 8), dataIn: { buffer: i, length: 4096 } }),
            ),
          );
          reads.forEach(good);
          for (const [i] of lbas.entries()) {
            // Buffer.equals, not a deep toEqual of 4 KiB: the guest is emulated.
            expect(Buffer.from(ring.buffer(i)).equals(pattern(4096, seeds[i] as number))).toBe(true);
          }
          mainCommands += 2 * size;
        }
        if (worker !== undefined) {
          const r = await worker;
          expect(r.error).toBeUndefined();
          expect(r.bad).toBe(0);
          expect(r.done).toBe(80); // 40 writes + 40 reads
          return 80;
        }
        return 0;
      };
      const before = ring.stats();
      const workerCommands = (await phase(0, false)) + (await phase(1, true));
      const stats = ring.stats();
      // Exactly once: every command handed to the kernel posted one completion, no more.
      expect(stats.submitted).toBe(mainCommands + workerCommands);
      expect(stats.completed).toBe(stats.submitted);
      // Both reapers worked: this thread's loop (small bursts) and the consumer thread (large ones, the worker's).
      expect(stats.loopReaps - before.loopReaps).toBeGreaterThan(0);
      expect(stats.consumerWakeups - before.consumerWakeups).toBeGreaterThan(0);
    } finally {
      await ring.close();
    }
  }, 60_000);
});

/**
 * A JS thread holding the ring's shared page can write any word of it. The addon keeps what
 * decides ownership and shutdown in its own memory (ring_core.cc: Attach, Detach, Drained),
 * so such a page cannot make two threads share a producer record, nor stop the consumers
 * while a request is still on its way. The "page" here is a worker using the addon's
 * NativeRing directly, as code bypassing ScsiRing would.
 */
describe('a JS page that corrupts the shared producer table or credits', () => {
  const dist = join(packageRoot, 'dist');
  // Message-driven: the worker attaches, then does what the main thread asks, step by step.
  const pageSource = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { loadAddon } = await import(workerData.dist + '/index.js');
      const { RING, cqOffset } = await import(workerData.dist + '/ring-layout.js');
      let onWake = () => {};
      const n = new (loadAddon().NativeRing)({ id: workerData.id }, (stopped) => onWake(stopped));
      const control = n.control();
      const i32 = new Int32Array(control);
      const view = new DataView(control);
      const entries = view.getUint32(8, true);
      const producer = n.producer;
      const record = RING.offProducerTable + producer * RING.producerRecord;
      const credits = RING.offCredits >> 2;
      let pos = -1;
      let head = 0;
      const reap = () => {
        const tail = Atomics.load(i32, (record + RING.prodCqTail) >> 2);
        let got = 0;
        while (head !== tail) {
          const base = cqOffset(entries, producer) + (head & (entries - 1)) * RING.cqeSize;
          parentPort.postMessage({
            completion: {
              userData: view.getUint32(base + RING.cqeUserData, true),
              errno: view.getInt32(base + RING.cqeErrno, true),
              status: view.getUint32(base + RING.cqeDeviceStatus, true),
            },
          });
          head = (head + 1) | 0;
          got++;
        }
        if (got === 0) return;
        Atomics.store(i32, (record + RING.prodCqHead) >> 2, head);
        // As ScsiRing's reap: credits back; negative (closing) -> the consumer may wait for them.
        if (Atomics.add(i32, credits, got) + got < 0 && n.doorbell(1)) reap();
      };
      parentPort.on('message', (step) => {
        if (step === 'clear producer table') {
          // Every record looks free, this thread's and the owner's included.
          for (let p = 0; p < RING.maxProducers; p++) Atomics.store(i32, (RING.offProducerTable + p * RING.producerRecord) >> 2, 0);
        } else if (step === 'park') {
          // A producer between its claim and its publish (another thread, mid-submit)...
          Atomics.sub(i32, credits, 1);
          pos = Atomics.add(i32, RING.offSqTail >> 2, 1);
          // ...and a page that gives its credit back as if nothing were claimed.
          Atomics.add(i32, credits, 1);
        } else if (step === 'publish') {
          Atomics.sub(i32, credits, 1); // the corruption undone: the ring's accounting is honest again
          const base = RING.offSq + (pos & (entries - 1)) * RING.sqeSize;
          for (let b = 8; b < RING.sqeSize; b++) view.setUint8(base + b, 0); // TEST UNIT READY, no data
          view.setUint32(base + RING.sqeUserData, 0x5eed, true);
          view.setUint8(base + RING.sqeCdbLength, 6);
          view.setUint8(base + RING.sqeProducer, producer);
          view.setUint32(base + RING.sqeTimeout, 20000, true);
          onWake = () => reap();
          Atomics.store(i32, base >> 2, pos);
          if (n.doorbell(1)) reap();
        } else if (step === 'fake completions') {
          // Three completions "posted" to this thread and never reaped, as the tail word would say.
          Atomics.store(i32, (record + RING.prodCqTail) >> 2, 3);
        } else if (step === 'detach') {
          n.detach();
        }
        parentPort.postMessage({ producer, done: step });
      });
      parentPort.postMessage({ producer, done: 'attach' });
    })().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));`;

  /** A page worker: `step()` sends a step and resolves with the worker's answer to it. */
  function page(id: number) {
    const worker = new Worker(pageSource, { eval: true, workerData: { dist, id } });
    const completions: { userData: number; errno: number; status: number }[] = [];
    let waiting: ((m: { producer: number; done?: string; error?: string }) => void) | undefined;
    let onCompletion: (() => void) | undefined;
    worker.on('message', (m) => {
      if (m.completion !== undefined) {
        completions.push(m.completion);
        onCompletion?.();
      } else waiting?.(m);
    });
    const answer = () =>
      new Promise<{ producer: number; done?: string; error?: string }>((resolve, reject) => {
        waiting = resolve;
        worker.once('error', reject);
      });
    const attached = answer();
    return {
      attached,
      completions,
      completed: () =>
        new Promise<void>((resolve) => {
          if (completions.length > 0) resolve();
          else onCompletion = resolve;
        }),
      step: (name: string) => {
        const a = answer();
        worker.postMessage(name);
        return a;
      },
      end: () => worker.terminate(),
    };
  }

  /** A ring with one 4 KiB buffer and room for `producers` threads. */
  const smallRing = (path: string, producers: number): ScsiRing =>
    openRing(path, { queueDepth: 2, entries: 8, bufferCount: 1, bufferSize: 4096, producers });

  /** ring.close(), and whether it has resolved yet. */
  function watchClose(ring: ScsiRing): { closed: boolean; done: Promise<void> } {
    const watch = { closed: false, done: Promise.resolve() };
    watch.done = ring.close().then(() => {
      watch.closed = true;
    });
    return watch;
  }

  it('a cleared producer table: the next thread still gets a record of its own', async () => {
    const ring = smallRing(labNodes.sg, 4);
    const id = ring.share().id;
    const first = page(id);
    let second: ReturnType<typeof page> | undefined;
    try {
      const a = await first.attached;
      expect(a.error).toBeUndefined();
      await first.step('clear producer table');
      second = page(id);
      const b = await second.attached;
      expect(b.error).toBeUndefined();
      // The owner holds record 0: three threads, three records (the old addon handed out 0 again).
      expect(new Set([0, a.producer, b.producer]).size).toBe(3);
      good(await ring.submit({ cdb: read10Cdb(LBA0, 8), dataIn: { buffer: 0, length: 4096 } }));
      await first.step('detach');
      await second.step('detach');
    } finally {
      await first.end();
      await second?.end();
      // Bounded: with a record handed out twice, the owner's wake-ups went to the other thread.
      await Promise.race([ring.close(), sleep(5_000)]);
    }
  }, 30_000);

  it('a thread that rewrote its CQ tail and went away gives back no credit it never had: close() resolves', async () => {
    const ring = smallRing(labNodes.sg, 2);
    const w = page(ring.share().id);
    try {
      expect((await w.attached).error).toBeUndefined();
      await w.step('fake completions');
      await w.step('detach');
      good(await ring.submit({ cdb: read10Cdb(LBA0, 8), dataIn: { buffer: 0, length: 4096 } }));
      const close = watchClose(ring);
      // The old addon credited tail - head from the shared words: 3 credits too many, never drained.
      await Promise.race([close.done, sleep(5_000)]);
      expect(close.closed).toBe(true);
    } finally {
      await w.end();
    }
  }, 30_000);

  it.each([
    ['sg', labNodes.sg],
    ['bsg', labNodes.bsg],
  ] as const)(
    '%s: credits given back for a claimed entry: close() waits until it was run and reaped',
    async (_kind, path) => {
      const ring = smallRing(path, 2);
      const w = page(ring.share().id);
      try {
        expect((await w.attached).error).toBeUndefined();
        await w.step('park');
        const close = watchClose(ring);
        await sleep(500);
        // The credit count says "drained", but the addon's SQ head has not reached the claimed position.
        expect(close.closed).toBe(false);
        await w.step('publish');
        await Promise.race([w.completed(), sleep(10_000)]);
        expect(w.completions).toEqual([{ userData: 0x5eed, errno: 0, status: 0 }]);
        await Promise.race([close.done, sleep(10_000)]);
        expect(close.closed).toBe(true);
        await w.step('detach');
      } finally {
        await w.end();
        await ring.close();
      }
    },
    30_000,
  );
});
