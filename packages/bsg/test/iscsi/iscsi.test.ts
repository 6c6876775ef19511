/**
 * The conformance suite on the `iscsi://` transport, on the host: the @sgv4/iscsi initiator
 * logged in to @sgv4/iscsi's portal serving an embedded target on 127.0.0.1 (a free port), so
 * the target's knobs inject the faults. (Against tgt: iscsi-tgt.host.test.ts.)
 */
import { IscsiPortal } from '@sgv4/iscsi';
import { createTarget, type ScsiTarget } from '@sgv4/target';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { describeTransportConformance } from '../conformance/suite.js';
import { emuFaults } from '../support/emu-faults.js';

const IQN = 'iqn.2026-11.dev.sgv4:device-api';
const target: ScsiTarget = await createTarget({
  name: 'iscsi-conformance',
  logicalUnits: [{ lun: 0, sizeBytes: 64n << 20n, blockSize: 512, powerOnUnitAttention: false }],
});
const portal = await IscsiPortal.listen({ target, targetName: IQN, host: '127.0.0.1', port: 0 });
const url = `iscsi://127.0.0.1:${portal.address.port}/${IQN}/0`;
afterAll(async () => {
  await portal.close();
  await target.close();
});

describeTransportConformance({
  name: `iscsi ${url}`,
  open: (options) => open(url, options),
  faults: emuFaults(target),
});

describe('iscsi:// locations', () => {
  it('carries the Device tag as the ITT (offset by 2^31) and sends the attribute', async () => {
    const seen: { tag: bigint; attribute: string }[] = [];
    const listener = (e: { task: { tag: bigint }; attribute: string }) =>
      seen.push({ tag: e.task.tag, attribute: e.attribute });
    target.on('task-received', listener);
    const d = await open(url, { identify: false, tagPolicy: 'caller' });
    try {
      await d.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), tag: 77n, attribute: 'ORDERED' });
      expect(seen.at(-1)).toEqual({ tag: 0x8000_0000n + 77n, attribute: 'ORDERED' });
    } finally {
      await d.close();
    }
  });

  it('a target name the portal does not serve fails the open', async () => {
    await expect(
      open(`iscsi://127.0.0.1:${portal.address.port}/iqn.2026-11.dev.sgv4:nobody/0`),
    ).rejects.toThrow(/nobody|not found|login/i);
  });

  it('a malformed URL is an InvalidFieldError naming it', async () => {
    await expect(open('iscsi://127.0.0.1/no-lun')).rejects.toThrow(/url/);
  });
});
