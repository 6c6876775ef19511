/**
 * The conformance suite on the `emu:` transport (the embedded target in this process), on the
 * host: the transport where tags, attributes, in-flight abort and task management are real.
 */

import { TaskAttribute, TaskManagementFunction, TmfResponse } from '@sgv4/core';
import { createTarget, type ScsiTarget } from '@sgv4/target';
import { afterAll, describe, expect, it } from 'vitest';
import { Device, EmuTransport, open, parseEmuLocation } from '../../src/index.js';
import { describeTransportConformance } from '../conformance/suite.js';
import { emuFaults } from '../support/emu-faults.js';

const target: ScsiTarget = await createTarget({
  name: 'conformance',
  logicalUnits: [{ lun: 0, sizeBytes: 64n << 20n, blockSize: 512, powerOnUnitAttention: false }],
});
afterAll(() => target.close());

describeTransportConformance({
  name: 'emu (@sgv4/target)',
  open: (options = {}) =>
    Device.attach(
      new EmuTransport(target, {
        location: 'emu:conformance',
        ...(options.readOnly !== undefined ? { readOnly: options.readOnly } : {}),
        // As root, like the lab runs the kernel transports (the permission test passes false).
        capSysRawio: options.capSysRawio ?? true,
      }),
      options,
    ),
  faults: emuFaults(target),
});

describe('emu: locations', () => {
  it('parses size, block size, latency, queue depth and the power-on UNIT ATTENTION', () => {
    expect(parseEmuLocation('emu:')).toMatchObject({
      name: '',
      sizeBytes: 64n << 20n,
      blockSize: 512,
      latencyNs: 0,
      queueDepth: 64,
      powerOnUnitAttention: false,
    });
    expect(parseEmuLocation('emu:disk1?size=1G&lbs=4096&latency=100us&queue=8&ua=1')).toMatchObject({
      name: 'disk1',
      sizeBytes: 1n << 30n,
      blockSize: 4096,
      latencyNs: 100_000,
      queueDepth: 8,
      powerOnUnitAttention: true,
    });
    expect(() => parseEmuLocation('emu:x?lbs=1000')).toThrow(/emu lbs/);
    expect(() => parseEmuLocation('emu:x?latency=5')).toThrow(/emu latency/);
    expect(() => parseEmuLocation('emu:x?size=1000&lbs=512')).toThrow(/emu size/);
    expect(() => parseEmuLocation('emu:x?colour=red')).toThrow(/emu colour/);
  });

  it('opens of one name share the target as separate I_T nexuses; the last close releases it', async () => {
    const a = await open('emu:shared?size=8M');
    const b = await open('emu:shared');
    await a.write(100n, new Uint8Array(512).fill(7));
    expect((await b.read(100n, 1))[0]).toBe(7);
    await expect(open('emu:shared?size=16M')).rejects.toThrow(/other parameters/);
    await a.close();
    await b.close();
    const c = await open('emu:shared?size=16M'); // a new target now
    expect((await c.readCapacity()).bytes).toBe(16n << 20n);
    await c.close();
  });

  it('sends task management functions for real: LOGICAL UNIT RESET aborts the tasks in flight', async () => {
    const d = await open('emu:?latency=200ms');
    const p = d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), attribute: TaskAttribute.SIMPLE });
    const settled = p.catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const result = await d.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET);
    expect(result.response).toBe(TmfResponse.FUNCTION_COMPLETE);
    expect(result.aborted).toEqual([p.tag]);
    expect(await settled).toMatchObject({ canceled: true });
    const q = await d.taskManagement(TaskManagementFunction.QUERY_TASK_SET);
    expect(q.responseName).toBe('FUNCTION COMPLETE');
    await d.close();
  });
});
