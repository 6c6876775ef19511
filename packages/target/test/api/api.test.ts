/**
 * The public API: option and argument validation (InvalidFieldError naming the field and the
 * rule), events, several target ports, describe/configure, adding and removing LUs, close.
 */
import { InvalidFieldError, ScsiStatus, type TaskAttribute, TaskManagementFunction } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { createTarget, decodeLun, encodeLun, type TargetEvents } from '../../src/index.js';
import { hex, Initiator } from '../support/initiator.js';

describe('createTarget validation', () => {
  it.each([
    [{ logicalUnits: [] }, /logicalUnits: must list at least one logical unit/],
    [{ logicalUnits: [{ lun: 1 }] }, /must include LUN 0/],
    [{ logicalUnits: [{}, { lun: 0 }] }, /must not repeat a LUN/],
    [{ logicalUnits: [{ lun: 16384 }] }, /logicalUnits\[0\]\.lun: must be an integer in 0\.\.16383/],
    [{ logicalUnits: [{ blockSize: 1024 }] }, /logicalUnits\[0\]\.blockSize: must be 512 or 4096/],
    [{ logicalUnits: [{ sizeBytes: 1000 }] }, /sizeBytes: must be a multiple of the block size/],
    [{ logicalUnits: [{ sizeBytes: 4096, capacityBlocks: 8 }] }, /must not be given together/],
    [{ logicalUnits: [{ queueDepth: 0 }] }, /queueDepth: must be an integer in 1\.\.65535/],
    [
      { logicalUnits: [{ latency: { nanoseconds: -1 } }] },
      /latency\.nanoseconds: must be a finite number >= 0/,
    ],
    [{ logicalUnits: [{ faults: { everyNth: { n: 2, action: 'explode' } } }] }, /everyNth\.action/],
    [{ logicalUnits: [{ faults: { mediumErrors: [{ lba: -5 }] } }] }, /mediumErrors\[0\]\.lba/],
    [{ logicalUnits: [{ serialNumber: 'x'.repeat(40) }] }, /serialNumber: must be 1\.\.32 printable/],
    [{ vendor: 'TOO LONG VENDOR', logicalUnits: [{}] }, /vendor: must be at most 8/],
    [{ ports: [], logicalUnits: [{}] }, /ports: must be a non-empty array/],
    [{ protocol: 'fcp', logicalUnits: [{}] }, /protocol: must be 'sas' or 'iscsi'/],
  ] as [Parameters<typeof createTarget>[0], RegExp][])('rejects %j', async (options, message) => {
    const e = await createTarget(options).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidFieldError);
    expect(String((e as Error).message)).toMatch(message);
  });
});

describe('execute / manage argument validation', () => {
  it('throws InvalidFieldError synchronously for malformed tasks and TMF requests', async () => {
    const t = await createTarget({ logicalUnits: [{ capacityBlocks: 8 }] });
    const nexus = { initiator: 'iqn.a' };
    const cdb = new Uint8Array(6);
    expect(() => t.execute({ initiator: '' }, { lun: 0, tag: 1n, cdb })).toThrow(
      /nexus\.initiator: must be a non-empty string/,
    );
    expect(() => t.execute({ initiator: 'x', targetPort: 'nope' }, { lun: 0, tag: 1n, cdb })).toThrow(
      /nexus\.targetPort: must be one of/,
    );
    expect(() => t.execute(nexus, { lun: -1, tag: 1n, cdb })).toThrow(/task\.lun/);
    expect(() => t.execute(nexus, { lun: 0, tag: -1n, cdb })).toThrow(
      /task\.tag: must be an integer in 0\.\.2\^64-1/,
    );
    expect(() => t.execute(nexus, { lun: 0, tag: 1n, cdb: new Uint8Array(2) })).toThrow(
      /task\.cdb: must be a Uint8Array of 6\.\.260 bytes/,
    );
    expect(() => t.execute(nexus, { lun: 0, tag: 1n, cdb, dataInLength: -1 })).toThrow(/task\.dataInLength/);
    expect(() => t.execute(nexus, { lun: 0, tag: 1n, cdb, attribute: 'URGENT' as TaskAttribute })).toThrow(
      /task\.attribute/,
    );
    expect(() => t.execute(nexus, { lun: 0, tag: 1n, cdb, priority: 16 })).toThrow(
      /task\.priority: must be an integer in 0\.\.15/,
    );
    await expect(t.manage(nexus, { function: 'EXPLODE' as TaskManagementFunction, lun: 0 })).rejects.toThrow(
      /request\.function/,
    );
    await expect(t.manage(nexus, { function: TaskManagementFunction.ABORT_TASK, lun: 0 })).rejects.toThrow(
      /request\.tag: is required for ABORT_TASK/,
    );
    await expect(t.configure(0, { concurrency: 0 })).rejects.toThrow(/knobs\.concurrency/);
    await expect(t.configure(3, {})).rejects.toThrow(/lun: must be one of the target's LUNs/);
    await t.close();
  });
});

describe('events', () => {
  it('report received, started, completed, aborted and TMFs with the task reference', async () => {
    const t = await createTarget({
      logicalUnits: [{ capacityBlocks: 8, latency: { nanoseconds: 2_000_000 } }],
    });
    const a = new Initiator(t, 'iqn.a');
    const log: string[] = [];
    const names: (keyof TargetEvents)[] = [
      'task-received',
      'task-started',
      'task-completed',
      'task-aborted',
      'tmf-received',
      'tmf-completed',
    ];
    for (const name of names) {
      t.on(name, (e: TargetEvents[typeof name]) => {
        const task = 'task' in e ? `${e.task.nexus.initiator}#${e.task.tag}` : e.request.function;
        log.push(`${name} ${task}`);
      });
    }
    const first = a.send(['tur'], { tag: 1n });
    const second = a.send(['tur'], { tag: 2n });
    await new Promise((r) => setImmediate(r));
    await t.manage(a.nexus, { function: TaskManagementFunction.ABORT_TASK, lun: 0, tag: 2n });
    await Promise.all([first, second]);
    expect(log).toEqual([
      'task-received iqn.a#1',
      'task-completed iqn.a#1', // the power-on unit attention, answered at arrival
      'task-received iqn.a#2',
      'task-started iqn.a#2',
      'tmf-received ABORT_TASK',
      'task-aborted iqn.a#2',
      'tmf-completed ABORT_TASK',
    ]);
    await t.close();
  });
});

describe('ports, LUNs, describe, close', () => {
  it('reports the relative target port of the port a command came through', async () => {
    const t = await createTarget({ ports: ['tp1', 'tp2'], logicalUnits: [{ capacityBlocks: 8 }] });
    const a = new Initiator(t, 'iqn.a', 'tp2');
    await a.clearUnitAttentions();
    const data = await a.good(['inquiry', { evpd: 1, pageCode: 0x83, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(data)).toContain('0114000400000002'); // relative target port designator, port 2
    expect(hex(data)).toContain(`03180004${Buffer.from('tp2\0').toString('hex')}`); // its SCSI name string
    const std = await a.good(['inquiry', { allocationLength: 36 }], { dataInLength: 36 });
    expect((std[6] ?? 0) & 0x10).toBe(0x10); // MULTIP
    await t.close();
  });

  it('describes an LU and encodes LUNs both ways', async () => {
    const t = await createTarget({
      logicalUnits: [{ capacityBlocks: 100, queueDepth: 8, thinProvisioning: false }],
    });
    expect(t.describe(0)).toMatchObject({
      lun: 0n,
      blockSize: 512,
      capacityBlocks: 100n,
      queueDepth: 8,
      concurrency: 8,
      thinProvisioning: false,
      outstanding: 0,
      backing: { kind: 'memory' },
    });
    for (const lun of [0n, 5n, 255n, 256n, 16383n]) expect(decodeLun(encodeLun(lun))).toBe(lun);
    expect(decodeLun(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0))).toBeUndefined();
    // Fully provisioned: UNMAP is not a supported command.
    const a = new Initiator(t, 'iqn.a');
    await a.clearUnitAttentions();
    expect((await a.check(['unmap', { parameterListLength: 0 }])).asc).toBe(0x20);
    expect(
      (
        await a.check(['write-same10', { lba: 0, numberOfBlocks: 1, unmap: 1 }], {
          dataOut: new Uint8Array(512),
        })
      ).asc,
    ).toBe(0x24);
    await t.close();
  });

  it('close() aborts outstanding tasks and afterwards answers NOT READY', async () => {
    const t = await createTarget({
      logicalUnits: [{ capacityBlocks: 8, latency: { nanoseconds: 50_000_000 } }],
    });
    const a = new Initiator(t, 'iqn.a');
    const pending = a.send(['inquiry', { allocationLength: 36 }], { dataInLength: 36 });
    await new Promise((r) => setImmediate(r));
    await t.close();
    expect(await pending).toMatchObject({ outcome: 'aborted', abortedBy: 'CLOSE' });
    const after = await a.run(['inquiry', { allocationLength: 36 }], { dataInLength: 36 });
    expect([after.status, hex(after.sense.subarray(12, 14))]).toEqual([ScsiStatus.CHECK_CONDITION, '0400']);
    await t.close(); // idempotent
  });

  it('refuses to remove LUN 0 or add a LUN twice', async () => {
    const t = await createTarget({ logicalUnits: [{ capacityBlocks: 8 }] });
    await expect(t.removeLogicalUnit(0)).rejects.toThrow(/LUN 0 stays present/);
    await t.addLogicalUnit({ lun: 2, capacityBlocks: 8 });
    await expect(t.addLogicalUnit({ lun: 2, capacityBlocks: 8 })).rejects.toThrow(/already in use/);
    expect(t.luns).toEqual([0n, 2n]);
    await t.close();
  });
});
