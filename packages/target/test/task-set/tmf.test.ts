/**
 * Task management (SAM-6 7) through the core's TaskSet: what each function aborts or finds,
 * the unit attentions and TAS behaviour that follow, and the race between an abort and a
 * completion (exactly one outcome).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSense, ScsiStatus, TaskManagementFunction as T, TmfResponse } from '@sgv4/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTarget, type TaskResponse } from '../../src/index.js';
import { Initiator, pattern, setModePage, tick } from '../support/initiator.js';

const MS = 1_000_000;
const read = (lba: number): ['read10', { lba: number; transferLength: number }] => [
  'read10',
  { lba, transferLength: 1 },
];

async function setup(latencyMs = 5, luns = 1) {
  const target = await createTarget({
    logicalUnits: Array.from({ length: luns }, () => ({
      capacityBlocks: 2048,
      latency: { nanoseconds: latencyMs * MS },
    })),
  });
  const a = new Initiator(target, 'iqn.a');
  const b = new Initiator(target, 'iqn.b');
  for (let l = 0; l < luns; l++) {
    await a.clearUnitAttentions(l);
    await b.clearUnitAttentions(l);
  }
  return { target, a, b };
}

async function expectUnitAttention(init: Initiator, asc: number, ascq: number, lun = 0) {
  const s = await init.check(['tur'], { lun });
  expect([s.senseKeyName, s.asc, s.ascq]).toEqual(['Unit Attention', asc, ascq]);
}

describe('task management functions', () => {
  it('ABORT TASK aborts the one task; FUNCTION COMPLETE whether or not it exists', async () => {
    const { target, a } = await setup();
    const t1 = a.send(read(0), { tag: 1n, dataInLength: 512 });
    const t2 = a.send(read(1), { tag: 2n, dataInLength: 512 });
    const result = await target.manage(a.nexus, { function: T.ABORT_TASK, lun: 0, tag: 1n });
    expect(result.response).toBe(TmfResponse.FUNCTION_COMPLETE);
    expect(result.aborted.map((x) => x.tag)).toEqual([1n]);
    expect(await t1).toMatchObject({
      outcome: 'aborted',
      abortedBy: 'ABORT_TASK',
      by: { initiator: 'iqn.a' },
    });
    expect(await t2).toMatchObject({ outcome: 'completed', status: ScsiStatus.GOOD });
    const none = await target.manage(a.nexus, { function: T.ABORT_TASK, lun: 0, tag: 99n });
    expect([none.responseName, none.aborted]).toEqual(['FUNCTION COMPLETE', []]);
    await target.close();
  });

  it('ABORT TASK SET is scoped to the I_T_L nexus', async () => {
    const { target, a, b } = await setup();
    const mine = [a.send(read(0), { dataInLength: 512 }), a.send(read(1), { dataInLength: 512 })];
    const theirs = b.send(read(2), { dataInLength: 512 });
    const result = await target.manage(a.nexus, { function: T.ABORT_TASK_SET, lun: 0 });
    expect(result.aborted).toHaveLength(2);
    expect((await Promise.all(mine)).map((r) => r.outcome)).toEqual(['aborted', 'aborted']);
    expect((await theirs).outcome).toBe('completed');
    await target.close();
  });

  it('CLEAR TASK SET aborts every nexus: UA COMMANDS CLEARED BY ANOTHER INITIATOR with TAS 0, TASK ABORTED with TAS 1', async () => {
    for (const tas of [0, 1]) {
      const { target, a, b } = await setup();
      await setModePage(a, 'control', { tas });
      await b.clearUnitAttentions(); // MODE PARAMETERS CHANGED
      const theirs = b.send(read(2), { dataInLength: 512 });
      const mine = a.send(read(0), { dataInLength: 512 });
      const result = await target.manage(a.nexus, { function: T.CLEAR_TASK_SET, lun: 0 });
      expect(result.aborted).toHaveLength(2);
      const [t, m] = (await Promise.all([theirs, mine])) as TaskResponse[];
      expect(m).toEqual({
        outcome: 'aborted',
        abortedBy: 'CLEAR_TASK_SET',
        by: { initiator: 'iqn.a', targetPort: 'sgv4-target,t,0x0001' },
      });
      if (tas === 1) {
        expect(t).toMatchObject({ outcome: 'aborted', status: ScsiStatus.TASK_ABORTED });
        expect(await b.clearUnitAttentions()).toBe(0);
      } else {
        expect(t).toEqual({ outcome: 'aborted', abortedBy: 'CLEAR_TASK_SET', by: expect.anything() });
        await expectUnitAttention(b, 0x2f, 0x00);
      }
      // The issuing nexus gets neither.
      expect(await a.clearUnitAttentions()).toBe(0);
      await target.close();
    }
  });

  it('LOGICAL UNIT RESET aborts everything, releases RESERVE(6), restores saved mode pages, and sets 29/03 for every nexus', async () => {
    const { target, a, b } = await setup(0);
    await a.good(['reserve6']);
    await setModePage(a, 'control', { dSense: 1 });
    await b.clearUnitAttentions().catch(() => undefined);
    await target.configure(0, { latency: { nanoseconds: 5 * MS } });
    const pending = a.send(read(0), { dataInLength: 512 });
    const result = await target.manage(b.nexus, { function: T.LOGICAL_UNIT_RESET, lun: 0 });
    expect(result.aborted).toHaveLength(1);
    expect((await pending).outcome).toBe('aborted');
    await target.configure(0, { latency: { nanoseconds: 0 } });
    const ua = await a.check(['tur']);
    expect([ua.format, ua.asc, ua.ascq]).toEqual(['fixed', 0x29, 0x03]); // D_SENSE back to its saved 0
    await expectUnitAttention(b, 0x29, 0x03);
    await b.good(['reserve6']); // a's reservation is gone
    await target.close();
  });

  it('I_T NEXUS RESET aborts the nexus tasks on every LU and sets I_T NEXUS LOSS OCCURRED for it only', async () => {
    const { target, a, b } = await setup(5, 2);
    const mine = [
      a.send(read(0), { lun: 0, dataInLength: 512 }),
      a.send(read(0), { lun: 1, dataInLength: 512 }),
    ];
    const theirs = b.send(read(0), { lun: 1, dataInLength: 512 });
    const result = await target.manage(a.nexus, { function: T.I_T_NEXUS_RESET, lun: 0 });
    expect(result.aborted.map((x) => x.lun).sort()).toEqual([0n, 1n]);
    expect((await Promise.all(mine)).map((r) => r.outcome)).toEqual(['aborted', 'aborted']);
    expect((await theirs).outcome).toBe('completed');
    await target.configure(0, { latency: { nanoseconds: 0 } });
    await target.configure(1, { latency: { nanoseconds: 0 } });
    await expectUnitAttention(a, 0x29, 0x07, 0);
    await expectUnitAttention(a, 0x29, 0x07, 1);
    expect(await b.clearUnitAttentions(0)).toBe(0);
    await target.close();
  });

  it('QUERY TASK and QUERY TASK SET find outstanding tasks; QUERY ASYNCHRONOUS EVENT reports a pending UA', async () => {
    const { target, a, b } = await setup();
    const t = a.send(read(0), { tag: 5n, dataInLength: 512 });
    expect((await target.manage(a.nexus, { function: T.QUERY_TASK, lun: 0, tag: 5n })).responseName).toBe(
      'FUNCTION SUCCEEDED',
    );
    expect((await target.manage(b.nexus, { function: T.QUERY_TASK, lun: 0, tag: 5n })).responseName).toBe(
      'FUNCTION COMPLETE',
    );
    const set = await target.manage(a.nexus, { function: T.QUERY_TASK_SET, lun: 0 });
    expect([set.responseName, set.matched.map((m) => m.tag)]).toEqual(['FUNCTION SUCCEEDED', [5n]]);
    await t;
    expect((await target.manage(a.nexus, { function: T.QUERY_TASK, lun: 0, tag: 5n })).responseName).toBe(
      'FUNCTION COMPLETE',
    );
    expect(
      (await target.manage(a.nexus, { function: T.QUERY_ASYNCHRONOUS_EVENT, lun: 0 })).responseName,
    ).toBe('FUNCTION COMPLETE');
    await target.configure(0, { capacityBlocks: 4096 }); // CAPACITY DATA HAS CHANGED for a and b
    const q = await target.manage(a.nexus, { function: T.QUERY_ASYNCHRONOUS_EVENT, lun: 0 });
    expect(q.response).toBe(TmfResponse.FUNCTION_SUCCEEDED);
    expect(Array.from(q.additionalResponseInformation ?? [])).toEqual([0x16, 0x2a, 0x09]);
    await target.close();
  });

  it('rejects CLEAR ACA (NormACA = 0) and answers INCORRECT LOGICAL UNIT NUMBER for a missing LU', async () => {
    const { target, a } = await setup(0);
    expect((await target.manage(a.nexus, { function: T.CLEAR_ACA, lun: 0 })).response).toBe(
      TmfResponse.FUNCTION_NOT_SUPPORTED,
    );
    expect((await target.manage(a.nexus, { function: T.ABORT_TASK_SET, lun: 7 })).response).toBe(
      TmfResponse.INCORRECT_LUN,
    );
    await target.close();
  });

  it('a command lost by the every-nth timeout fault holds its tag until ABORT TASK', async () => {
    const target = await createTarget({
      logicalUnits: [{ capacityBlocks: 64, faults: { everyNth: { n: 3, action: 'timeout' } } }],
    });
    const a = new Initiator(target, 'iqn.a');
    await a.clearUnitAttentions(); // commands 1 (UA) and 2
    let settled = false;
    const lost = a.send(read(0), { tag: 42n, dataInLength: 512 }).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    const overlap = await a.check(read(0), { tag: 42n, dataInLength: 512 }); // the tag is still in use
    expect(overlap.asc).toBe(0x4e);
    expect(await lost).toMatchObject({ outcome: 'aborted', abortedBy: 'OVERLAPPED COMMAND' });
    const again = a.send(read(0), { tag: 43n, dataInLength: 512 }); // 6th command: lost again
    const r = await target.manage(a.nexus, { function: T.ABORT_TASK, lun: 0, tag: 43n });
    expect(r.aborted.map((x) => x.tag)).toEqual([43n]);
    expect((await again).outcome).toBe('aborted');
    await target.close();
  });

  it('nexusLost aborts the nexus tasks and reports I_T NEXUS LOSS OCCURRED when it comes back', async () => {
    const { target, a, b } = await setup(0);
    await a.good(['reserve6']);
    await target.configure(0, { latency: { nanoseconds: 5 * MS } });
    const t = a.send(read(0), { dataInLength: 512 });
    await target.nexusLost(a.nexus);
    expect((await t).outcome).toBe('aborted');
    await target.configure(0, { latency: { nanoseconds: 0 } });
    await expectUnitAttention(a, 0x29, 0x07);
    await b.good(['reserve6']);
    await target.close();
  });
});

describe('abort racing completion', () => {
  it('at zero latency: an abort in the same tick wins, one after completion finds nothing', async () => {
    const { target, a } = await setup(0);
    const early = a.send(read(0), { tag: 1n, dataInLength: 512 });
    const r1 = await target.manage(a.nexus, { function: T.ABORT_TASK, lun: 0, tag: 1n });
    expect([(await early).outcome, r1.aborted.length]).toEqual(['aborted', 1]);
    const late = a.send(read(0), { tag: 2n, dataInLength: 512 });
    await tick();
    const r2 = await target.manage(a.nexus, { function: T.ABORT_TASK, lun: 0, tag: 2n });
    expect([(await late).outcome, r2.aborted.length]).toEqual(['completed', 0]);
    await target.close();
  });

  it('has exactly one outcome per task, whatever the timing (property; memory and file backing, reads and writes)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-target-race-'));
    try {
      const memory = await createTarget({ name: 'm', logicalUnits: [{ capacityBlocks: 256 }] });
      const file = await createTarget({
        name: 'f',
        logicalUnits: [{ capacityBlocks: 256, backing: { kind: 'file', path: join(dir, 'race.img') } }],
      });
      const counts = { aborted: 0, completed: 0 };
      for (const target of [memory, file]) {
        const init = new Initiator(target, 'iqn.race');
        await init.clearUnitAttentions();
        const events = new Map<bigint, string[]>();
        const note = (tag: bigint, what: string) => events.set(tag, [...(events.get(tag) ?? []), what]);
        target.on('task-completed', (e) => note(e.task.tag, 'completed'));
        target.on('task-aborted', (e) => note(e.task.tag, 'aborted'));
        let tag = 1000n;
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: 400 }), // latency, µs
            fc.integer({ min: 0, max: 600 }), // abort delay, µs
            fc.boolean(),
            fc.constantFrom(T.ABORT_TASK, T.ABORT_TASK_SET, T.CLEAR_TASK_SET, T.LOGICAL_UNIT_RESET),
            async (latencyUs, delayUs, isWrite, fn) => {
              await target.configure(0, { latency: { nanoseconds: latencyUs * 1000 } });
              tag++;
              const lba = Number(tag % 200n);
              const task = init.send(
                isWrite ? ['write10', { lba, transferLength: 1 }] : read(lba),
                isWrite ? { tag, dataOut: pattern(512, Number(tag)) } : { tag, dataInLength: 512 },
              );
              const deadline = process.hrtime.bigint() + BigInt(delayUs * 1000);
              while (process.hrtime.bigint() < deadline) await new Promise((r) => setImmediate(r));
              const [response, tmf] = await Promise.all([
                task,
                target.manage(init.nexus, { function: fn, lun: 0, tag }),
              ]);
              expect(tmf.response).toBe(TmfResponse.FUNCTION_COMPLETE);
              const abortedIt = tmf.aborted.some((x) => x.tag === tag);
              expect(response.outcome).toBe(abortedIt ? 'aborted' : 'completed');
              expect(events.get(tag)).toEqual([response.outcome]);
              counts[response.outcome === 'aborted' ? 'aborted' : 'completed']++;
              await init.clearUnitAttentions(); // after LOGICAL UNIT RESET
            },
          ),
          { numRuns: 60 },
        );
      }
      // Both outcomes happened: the property did exercise the race.
      expect(counts.aborted).toBeGreaterThan(0);
      expect(counts.completed).toBeGreaterThan(0);
      await memory.close();
      await file.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TMF results name every aborted task once, and their promises resolve before the TMF', async () => {
    const { target, a, b } = await setup(2);
    const order: string[] = [];
    const tasks = [a, b, a, b].map((init, i) =>
      init.send(read(i), { dataInLength: 512 }).then((r) => {
        order.push(`task${i}:${r.outcome}`);
        return r;
      }),
    );
    const tmf = target.manage(a.nexus, { function: T.CLEAR_TASK_SET, lun: 0 }).then((r) => {
      order.push('tmf');
      return r;
    });
    const result = await tmf;
    await Promise.all(tasks);
    expect(result.aborted).toHaveLength(4);
    expect(new Set(result.aborted.map((x) => `${x.nexus.initiator}/${x.tag}`)).size).toBe(4);
    expect(order.indexOf('tmf')).toBe(4);
    expect(decodeSense((await b.run(['tur'])).sense).asc).toBe(0x2f);
    await target.close();
  });
});
