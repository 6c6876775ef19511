/**
 * The task set: attributes (SAM-6 8.6), queue depth (TASK SET FULL / BUSY), tags
 * (OVERLAPPED COMMANDS ATTEMPTED), ACA and the CONTROL byte, priorities, restricted and
 * unrestricted reordering — observed through the target's events.
 */
import { ScsiStatus, TaskAttribute } from '@sgv4/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTarget, type ScsiTarget, type TaskResponse } from '../../src/index.js';
import { Initiator, pattern, setModePage, tick } from '../support/initiator.js';

const MS = 1_000_000;

/** Start / completion order of tasks by tag, recorded from events. */
function recorder(target: ScsiTarget) {
  const log: { what: 'start' | 'end'; tag: bigint; sequence: number }[] = [];
  target.on('task-started', (e) => log.push({ what: 'start', tag: e.task.tag, sequence: e.sequence }));
  target.on('task-completed', (e) => log.push({ what: 'end', tag: e.task.tag, sequence: e.sequence }));
  target.on('task-aborted', (e) => log.push({ what: 'end', tag: e.task.tag, sequence: e.sequence }));
  return {
    log,
    starts: () => log.filter((x) => x.what === 'start').map((x) => x.tag),
    index: (what: 'start' | 'end', tag: bigint) => log.findIndex((x) => x.what === what && x.tag === tag),
  };
}

async function readyTarget(knobs: Parameters<typeof createTarget>[0]['logicalUnits'][number] = {}) {
  const target = await createTarget({ logicalUnits: [{ capacityBlocks: 4096, ...knobs }] });
  const a = new Initiator(target, 'iqn.a');
  await a.clearUnitAttentions();
  return { target, a };
}

const read = (lba: number): ['read10', { lba: number; transferLength: number }] => [
  'read10',
  { lba, transferLength: 1 },
];

describe('task attributes (SAM-6 8.6)', () => {
  it('ORDERED waits for every older task and holds back every younger SIMPLE task', async () => {
    const { target, a } = await readyTarget({ latency: { nanoseconds: 2 * MS } });
    const rec = recorder(target);
    const all = [
      a.send(read(0), { tag: 1n, dataInLength: 512 }),
      a.send(read(1), { tag: 2n, dataInLength: 512 }),
      a.send(read(2), { tag: 3n, dataInLength: 512, attribute: TaskAttribute.ORDERED }),
      a.send(read(3), { tag: 4n, dataInLength: 512 }),
    ];
    await Promise.all(all);
    expect(rec.index('start', 3n)).toBeGreaterThan(Math.max(rec.index('end', 1n), rec.index('end', 2n)));
    expect(rec.index('start', 4n)).toBeGreaterThan(rec.index('end', 3n));
    // The two SIMPLE tasks before the barrier overlap each other.
    expect(rec.index('start', 2n)).toBeLessThan(rec.index('end', 1n));
    await target.close();
  });

  it('HEAD OF QUEUE goes ahead of every dormant task', async () => {
    const { target, a } = await readyTarget({ latency: { nanoseconds: 1 * MS }, concurrency: 1 });
    const rec = recorder(target);
    const all = [1n, 2n, 3n].map((tag) => a.send(read(Number(tag)), { tag, dataInLength: 512 }));
    await tick(); // task 1 is enabled, 2 and 3 are dormant
    all.push(a.send(read(9), { tag: 9n, dataInLength: 512, attribute: TaskAttribute.HEAD_OF_QUEUE }));
    await Promise.all(all);
    expect(rec.starts()).toEqual([1n, 9n, 2n, 3n]);
    await target.close();
  });

  it('HEAD OF QUEUE runs even while an ORDERED task holds the set', async () => {
    const { target, a } = await readyTarget({ latency: { nanoseconds: 1 * MS } });
    const rec = recorder(target);
    const all = [
      a.send(read(0), { tag: 1n, dataInLength: 512 }),
      a.send(read(1), { tag: 2n, dataInLength: 512, attribute: TaskAttribute.ORDERED }),
      a.send(read(2), { tag: 3n, dataInLength: 512 }),
    ];
    await tick();
    all.push(a.send(read(3), { tag: 4n, dataInLength: 512, attribute: TaskAttribute.HEAD_OF_QUEUE }));
    await Promise.all(all);
    expect(rec.index('start', 4n)).toBeLessThan(rec.index('start', 2n));
    await target.close();
  });

  it('SIMPLE tasks may complete out of order (different latencies, no overlap)', async () => {
    const { target, a } = await readyTarget({ latency: { nanoseconds: 20 * MS } });
    const rec = recorder(target);
    const slow = a.send(read(0), { tag: 1n, dataInLength: 512 });
    await tick();
    await target.configure(0, { latency: { nanoseconds: 0 } });
    const fast = a.send(read(100), { tag: 2n, dataInLength: 512 });
    await Promise.all([slow, fast]);
    expect(rec.index('end', 2n)).toBeLessThan(rec.index('end', 1n));
    await target.close();
  });

  it('orders overlapping SIMPLE writes with restricted reordering (QAM 0), not with QAM 1', async () => {
    for (const qam of [0, 1]) {
      const { target, a } = await readyTarget({ latency: { nanoseconds: 20 * MS } });
      await setModePage(a, 'control', { queueAlgorithmModifier: qam });
      const first = a.send(['write10', { lba: 5, transferLength: 1 }], { dataOut: pattern(512, 1) });
      await tick();
      await target.configure(0, { latency: { nanoseconds: 0 } });
      const second = a.send(['write10', { lba: 5, transferLength: 1 }], { dataOut: pattern(512, 2) });
      await Promise.all([first, second]);
      const data = await a.good(read(5), { dataInLength: 512 });
      // QAM 0: the older write lands first, the younger one wins. QAM 1: the younger one overtook.
      expect(Buffer.from(data).equals(Buffer.from(pattern(512, qam === 0 ? 2 : 1)))).toBe(true);
      await target.close();
    }
  });

  it('ORDERED never overtakes and is never overtaken (property, random attributes and jitter)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.constantFrom(
            TaskAttribute.SIMPLE,
            TaskAttribute.SIMPLE,
            TaskAttribute.ORDERED,
            TaskAttribute.HEAD_OF_QUEUE,
          ),
          {
            minLength: 2,
            maxLength: 14,
          },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (attributes, concurrency) => {
          const { target, a } = await readyTarget({
            latency: { nanoseconds: 50_000, jitterNanoseconds: 400_000 },
            concurrency,
          });
          await setModePage(a, 'control', { queueAlgorithmModifier: 1 });
          const rec = recorder(target);
          await Promise.all(
            attributes.map((attribute, i) =>
              a.send(read(i), { tag: BigInt(100 + i), attribute, dataInLength: 512 }),
            ),
          );
          attributes.forEach((attribute, i) => {
            if (attribute !== TaskAttribute.ORDERED) return;
            const tag = BigInt(100 + i);
            const start = rec.index('start', tag);
            const end = rec.index('end', tag);
            for (let j = 0; j < attributes.length; j++) {
              const other = BigInt(100 + j);
              // Every older task ended before the ORDERED task started.
              if (j < i) expect(rec.index('end', other)).toBeLessThan(start);
              // No younger SIMPLE or ORDERED task started before it ended.
              if (j > i && attributes[j] !== TaskAttribute.HEAD_OF_QUEUE)
                expect(rec.index('start', other)).toBeGreaterThan(end);
            }
          });
          await target.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('serves higher command priority first when tasks wait (SAM-6 8.7)', async () => {
    const { target, a } = await readyTarget({ latency: { nanoseconds: 1 * MS }, concurrency: 1 });
    const rec = recorder(target);
    const all = [a.send(read(0), { tag: 1n, dataInLength: 512 })];
    await tick();
    all.push(a.send(read(1), { tag: 2n, dataInLength: 512, priority: 9 }));
    all.push(a.send(read(2), { tag: 3n, dataInLength: 512, priority: 2 }));
    all.push(a.send(read(3), { tag: 4n, dataInLength: 512 }));
    await Promise.all(all);
    expect(rec.starts()).toEqual([1n, 3n, 2n, 4n]);
    await target.close();
  });
});

describe('task set size, tags and the CONTROL byte', () => {
  it('answers TASK SET FULL to a nexus with tasks in the set and BUSY to one without (SAM-6 5.3)', async () => {
    const { target, a } = await readyTarget({ queueDepth: 2, latency: { nanoseconds: 5 * MS } });
    const b = new Initiator(target, 'iqn.b');
    const first = [a.send(read(0), { dataInLength: 512 }), a.send(read(1), { dataInLength: 512 })];
    const full = await a.run(read(2), { dataInLength: 512 });
    expect(full.status).toBe(ScsiStatus.TASK_SET_FULL);
    expect(full.dataInResidual).toBe(512);
    const busy = await b.run(read(2), { dataInLength: 512 });
    expect(busy.status).toBe(ScsiStatus.BUSY);
    const done = await Promise.all(first);
    expect(done.map((r) => r.outcome === 'completed' && r.status)).toEqual([
      ScsiStatus.GOOD,
      ScsiStatus.GOOD,
    ]);
    expect(target.describe(0).outstanding).toBe(0);
    await target.close();
  });

  it('a reused tag is OVERLAPPED COMMANDS ATTEMPTED and aborts the nexus tasks, not other nexuses', async () => {
    const { target, a } = await readyTarget({ latency: { nanoseconds: 5 * MS } });
    const b = new Initiator(target, 'iqn.b');
    await b.clearUnitAttentions();
    const original = a.send(read(0), { tag: 7n, dataInLength: 512 });
    const sibling = a.send(read(1), { tag: 8n, dataInLength: 512 });
    const other = b.send(read(2), { tag: 7n, dataInLength: 512 });
    const sense = await a.check(read(3), { tag: 7n, dataInLength: 512 });
    expect([sense.senseKeyName, sense.asc, sense.ascq]).toEqual(['Aborted Command', 0x4e, 0x00]);
    const [o, s, x] = (await Promise.all([original, sibling, other])) as TaskResponse[];
    expect(o).toMatchObject({ outcome: 'aborted', abortedBy: 'OVERLAPPED COMMAND' });
    expect(s).toMatchObject({ outcome: 'aborted', abortedBy: 'OVERLAPPED COMMAND' });
    expect(x).toMatchObject({ outcome: 'completed', status: ScsiStatus.GOOD });
    // The tag is free again.
    expect((await a.run(read(0), { tag: 7n, dataInLength: 512 })).status).toBe(ScsiStatus.GOOD);
    await target.close();
  });

  it('refuses the ACA attribute (NormACA = 0) and NACA / LINK in the CONTROL byte', async () => {
    const { target, a } = await readyTarget();
    const aca = await a.check(read(0), { attribute: TaskAttribute.ACA, dataInLength: 512 });
    expect([aca.senseKeyName, aca.asc, aca.ascq]).toEqual(['Illegal Request', 0x49, 0x00]);
    const naca = await a.check(['read10', { lba: 0, transferLength: 1, control: 0x04 }], {
      dataInLength: 512,
    });
    expect([naca.asc, naca.senseKeySpecific]).toEqual([
      0x24,
      { kind: 'field-pointer', inCdb: true, fieldPointer: 9, bitPointer: 2 },
    ]);
    const link = await a.check(['tur', { control: 0x01 }]);
    expect(link.senseKeySpecific).toEqual({
      kind: 'field-pointer',
      inCdb: true,
      fieldPointer: 5,
      bitPointer: 0,
    });
    await target.close();
  });

  it('completes in arrival order at zero latency (deterministic)', async () => {
    const { target, a } = await readyTarget();
    const rec = recorder(target);
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.send(read(i), { dataInLength: 512 }).then(() => order.push(i))),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(rec.log.filter((e) => e.what === 'end').map((e) => e.sequence)).toEqual(
      [...rec.log.filter((e) => e.what === 'end').map((e) => e.sequence)].sort((x, y) => x - y),
    );
    await target.close();
  });
});
