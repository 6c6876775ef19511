/**
 * The device API on an iSCSI logical unit two ways, inside the lab guest and on its loopback
 * only: Linux 6.1's own initiator (open-iscsi's iscsid/iscsiadm and iscsi_tcp) logs in to
 * @sgv4/iscsi's portal serving an embedded target, so the LU is a real /dev/sgN, /dev/bsg/H:C:T:L
 * and /dev/sdX, and the conformance suite runs on the sg and bsg transports over it; the
 * `iscsi://` transport (this project's initiator) logs in to the same portal as a second I_T
 * nexus, runs the suite too, and each initiator reads back what the other wrote.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ResultCategory, SenseKey } from '@sgv4/core';
import { IscsiPortal } from '@sgv4/iscsi';
import { createTarget } from '@sgv4/target';
import { afterAll, describe, expect, it } from 'vitest';
import { type Device, open } from '../../src/index.js';
import { describeTransportConformance } from '../conformance/suite.js';
import { emuFaults } from '../support/emu-faults.js';

const exec = promisify(execFile);
const IQN = 'iqn.2026-11.dev.sgv4:device-api-lab';
const GUEST_INITIATOR = 'iqn.2026-11.lab:device-api';
/** The guest's own loopback: nothing leaves the guest. */
const PORTAL = '127.0.0.1:3261';
const VENDOR = 'SGV4';

/** The LU's sg, bsg and block nodes once the kernel has scanned it. */
function findLu(): { sg: string; bsg: string; block: string } | undefined {
  const root = '/sys/bus/scsi/devices';
  for (const hctl of readdirSync(root)) {
    if (!/^\d+:\d+:\d+:\d+$/.test(hctl)) continue;
    if (readFileSync(`${root}/${hctl}/vendor`, 'utf8').trim() !== VENDOR) continue;
    const sg = existsSync(`${root}/${hctl}/scsi_generic`)
      ? readdirSync(`${root}/${hctl}/scsi_generic`)[0]
      : undefined;
    const block = existsSync(`${root}/${hctl}/block`) ? readdirSync(`${root}/${hctl}/block`)[0] : undefined;
    if (sg === undefined || block === undefined) return undefined;
    const nodes = { sg: `/dev/${sg}`, bsg: `/dev/bsg/${hctl}`, block: `/dev/${block}` };
    return Object.values(nodes).every((n) => existsSync(n)) ? nodes : undefined;
  }
  return undefined;
}

async function waitForLu(timeoutMs: number): Promise<{ sg: string; bsg: string; block: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lu = findLu();
    if (lu !== undefined) return lu;
    if (Date.now() > deadline) throw new Error('the iSCSI LU did not appear as sg, bsg and block nodes');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const target = await createTarget({
  name: 'device-api-lab',
  logicalUnits: [{ lun: 0, sizeBytes: 64n << 20n, blockSize: 512, powerOnUnitAttention: false }],
});
// Before any command reaches the LU: the every-nth fault counts from the LU's first command.
const faults = emuFaults(target);
const [host, port] = PORTAL.split(':') as [string, string];
const portal = await IscsiPortal.listen({ target, targetName: IQN, host, port: Number(port) });
const url = `iscsi://${PORTAL}/${IQN}/0`;

// The kernel initiator: iscsi_tcp (crc32c loaded first: the chroot cannot autoload it), an
// iscsid with its node database on a tmpfs (/etc/iscsi is read-only in the guest).
await exec('ip', ['link', 'set', 'lo', 'up']);
await exec('modprobe', ['crc32c_generic']);
await exec('modprobe', ['iscsi_tcp']);
await exec('mount', ['-t', 'tmpfs', 'sgv4-device-iscsi', '/etc/iscsi']);
writeFileSync('/etc/iscsi/initiatorname.iscsi', `InitiatorName=${GUEST_INITIATOR}\n`);
writeFileSync('/etc/iscsi/iscsid.conf', 'node.startup = manual\n');
await exec('mkdir', ['-p', '/run/lock/iscsi']);
// Its own process group: iscsid signals its group on the way out.
const iscsid: ChildProcess = spawn('iscsid', ['-f'], { stdio: 'ignore', detached: true });
await exec('iscsiadm', ['-m', 'discovery', '-t', 'st', '-p', PORTAL]);
await exec('iscsiadm', ['-m', 'node', '-T', IQN, '-p', PORTAL, '--login']);
const lu = await waitForLu(60_000);

afterAll(async () => {
  await exec('iscsiadm', ['-m', 'node', '-T', IQN, '-p', PORTAL, '--logout']).catch(() => undefined);
  if (iscsid.exitCode === null) {
    const exited = new Promise((r) => iscsid.once('exit', r));
    iscsid.kill('SIGTERM');
    await exited;
  }
  await portal.close();
  await target.close();
  await exec('umount', ['/etc/iscsi']);
}, 120_000);

/**
 * What the suite cannot check through the kernel initiator. A lost command belongs to the
 * kernel's SCSI error handler, not to the Device: scsi_times_out, then iscsi_eh_abort sends
 * ABORT TASK and may escalate to LOGICAL UNIT RESET (drivers/scsi/libiscsi.c), and the UNIT
 * ATTENTION that follows reaches later commands (packages/iscsi's kernel-initiator lab test
 * checks that sequence; the Device's own timeouts are checked on scsi_debug). LOGICAL UNIT
 * RESET is checked: SG_SCSI_RESET sleeps until libiscsi has the portal's TMF response
 * (iscsi_eh_device_reset -> iscsi_exec_task_mgmt_fn), and the portal runs in this process, so
 * the ioctl runs off the event loop (ScsiHandle.scsiResetAsync); on this thread it would wait
 * out lu_reset_timeout (30 s) and end EIO.
 */
const cannot = {
  timeout: "the kernel's SCSI error handler owns a timed-out iSCSI command",
};
for (const [kind, path] of [
  ['sg', lu.sg],
  ['bsg', lu.bsg],
] as const) {
  describeTransportConformance({
    name: `${kind} ${path} (kernel iSCSI initiator)`,
    open: (o) => open(path, o),
    faults,
    cannot,
  });
}

/** Clears what other nexuses left for this one (SPC-5 UNIT ATTENTION conditions: mode parameters changed, resets). */
async function clearUnitAttentions(device: Device): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const r = await device.submit({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) });
    if (r.category === ResultCategory.GOOD) return;
    expect(r.decodedSense?.senseKey).toBe(SenseKey.UNIT_ATTENTION);
  }
  throw new Error(`UNIT ATTENTION conditions on ${device.location} do not clear`);
}

describe('two initiators, one logical unit', () => {
  it('what the kernel initiator wrote, iscsi:// reads back, and the reverse', async () => {
    const kernel = await open(lu.bsg, { identify: false });
    const ours = await open(url, { identify: false });
    try {
      await clearUnitAttentions(kernel);
      await clearUnitAttentions(ours);
      const a = randomBytes(64 * 512);
      await kernel.write(4096n, a);
      expect(Buffer.from(await ours.read(4096n, 64)).equals(a)).toBe(true);
      const b = randomBytes(64 * 512);
      await ours.write(8192n, b);
      const sg = await open(lu.sg, { identify: false });
      try {
        await clearUnitAttentions(sg);
        expect(Buffer.from(await sg.read(8192n, 64)).equals(b)).toBe(true);
      } finally {
        await sg.close();
      }
      // Both read the same identity: the target's.
      const [k, o] = [await open(lu.sg), await open(url)];
      try {
        expect(k.identity.vendor).toBe(VENDOR);
        expect(o.identity.serial).toBe(k.identity.serial);
        expect(o.identity.identifiers).toEqual(k.identity.identifiers);
      } finally {
        await k.close();
        await o.close();
      }
    } finally {
      await ours.close();
      await kernel.close();
    }
  }, 60_000);

  it('after the kernel initiator logs out, its nodes are gone', async () => {
    await exec('iscsiadm', ['-m', 'node', '-T', IQN, '-p', PORTAL, '--logout']);
    expect(findLu()).toBeUndefined();
    await expect(open(lu.bsg)).rejects.toThrow(/ENOENT|ENXIO|ENODEV/);
  }, 60_000);
});

// This project's initiator in the guest, alone on the portal now (the every-nth fault counts
// the target's commands from every nexus).
describeTransportConformance({ name: `${url} (in the guest)`, open: (o) => open(url, o), faults });
