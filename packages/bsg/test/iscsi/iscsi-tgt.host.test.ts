/**
 * The `iscsi://` transport against a real, independent target: Debian's tgt (tgtd + tgtadm) on
 * 127.0.0.1, one 64 MiB file-backed LU. tgt has no fault knobs, so this checks what the
 * conformance suite checks against the embedded target without them: identity, data, a
 * CHECK CONDITION in raw mode, tags and attributes on the wire, and task management.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeviceError, ResultCategory, SenseKey, TaskAttribute, TaskManagementFunction } from '@sgv4/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, open } from '../../src/index.js';

const run = promisify(execFile);
const haveTgt = existsSync('/usr/sbin/tgtd') && existsSync('/usr/sbin/tgtadm');
/** Ports of this workstream (portal, tgtd control). */
const PORT = 13300;
const CONTROL = 13301;
const IQN = 'iqn.2026-11.test:device-api';

async function listening(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`tgtd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!haveTgt)('iscsi:// against tgt', () => {
  let tgtd: ChildProcess;
  let dir: string;
  let device: Device;
  const admin = (...args: string[]) =>
    run('/usr/sbin/tgtadm', ['-C', String(CONTROL), '--lld', 'iscsi', ...args]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sgv4-bsg-tgt-'));
    const file = join(dir, 'lun1.img');
    await writeFile(file, '');
    await truncate(file, 64 << 20);
    tgtd = spawn('/usr/sbin/tgtd', ['-f', '-C', String(CONTROL), '--iscsi', `portal=127.0.0.1:${PORT}`], {
      stdio: 'ignore',
    });
    await listening(PORT, Date.now() + 10_000);
    await admin('--op', 'new', '--mode', 'target', '--tid', '1', '-T', IQN);
    await admin('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', file);
    await admin('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
    // The transport clears the UNIT ATTENTION every new nexus gets (29/00) at login, as libiscsi does.
    device = await open(`iscsi://127.0.0.1:${PORT}/${IQN}/1`);
  });

  afterAll(async () => {
    await device?.close();
    // tgtd ignores SIGTERM: stop exactly the one started here.
    if (tgtd && tgtd.exitCode === null) {
      const exited = new Promise((r) => tgtd.once('exit', r));
      tgtd.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads tgt’s identity and capacity', async () => {
    expect(device.kind).toBe('iscsi');
    expect(device.identity.peripheralTypeName).toBe('disk');
    expect(device.identity.vendor).toBe('IET');
    expect((await device.readCapacity()).bytes).toBe(64n << 20n);
  });

  it('writes and reads back through tgt, split into requests, data intact', async () => {
    const data = new Uint8Array(randomBytes(2 << 20));
    await device.write(4096n, data);
    expect(Buffer.compare(Buffer.from(await device.read(4096n, data.length / 512)), Buffer.from(data))).toBe(
      0,
    );
  });

  it('raw mode: a CHECK CONDITION resolves with decoded sense; the helper throws DeviceError', async () => {
    const r = await device.submit({
      cdb: Uint8Array.of(0x12, 1, 0xfe, 0, 96, 0),
      dataIn: new Uint8Array(96),
    });
    expect(r.category).toBe(ResultCategory.SENSE);
    expect(r.decodedSense?.senseKey).toBe(SenseKey.ILLEGAL_REQUEST);
    const cap = await device.readCapacity();
    await expect(device.read(cap.blocks, 1)).rejects.toBeInstanceOf(DeviceError);
  });

  it('tags and ORDERED go on the wire; tgt answers them in order', async () => {
    const order: string[] = [];
    const w = (name: string, lba: number, attribute?: TaskAttribute) =>
      device
        .submit({
          cdb: Uint8Array.of(0x2a, 0, 0, 0, 0, lba, 0, 0, 1, 0),
          dataOut: new Uint8Array(512),
          ...(attribute ? { attribute } : {}),
        })
        .then((r) => {
          order.push(name);
          return r;
        });
    const rs = await Promise.all([w('a', 1), w('O', 2, TaskAttribute.ORDERED), w('b', 3)]);
    expect(rs.every((r) => r.tagOnWire && r.category === ResultCategory.GOOD)).toBe(true);
    expect(order.indexOf('O')).toBeGreaterThan(order.indexOf('a'));
  });

  it('LOGICAL UNIT RESET reaches tgt', async () => {
    const result = await device.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET);
    expect(result.responseName).toBe('FUNCTION COMPLETE');
    // SAM-6 7.7: the reset leaves a UNIT ATTENTION for this nexus, reported once.
    const next = await device.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) });
    if (next.category !== ResultCategory.GOOD)
      expect(next.decodedSense?.senseKey).toBe(SenseKey.UNIT_ATTENTION);
    await device.testUnitReady();
  });
});
