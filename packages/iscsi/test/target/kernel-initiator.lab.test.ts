/**
 * Linux 6.1's own iSCSI initiator (open-iscsi's iscsid/iscsiadm and the iscsi_tcp driver)
 * against the portal serving the embedded target, inside the lab guest and on its loopback
 * only: the LU becomes a real /dev/sdX, /dev/sgN and /dev/bsg/H:C:T:L; sg3_utils and this
 * project's native sg and bsg paths use it; a command held past its timeout makes the kernel's
 * error handler send ABORT TASK and then LOGICAL UNIT RESET, which the target's events show;
 * sg_reset's device and target resets (SG_SCSI_RESET) are answered at once, end the command
 * they catch, and leave the session and the LU working.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildCdb, createSgIoV4Header, type TaskManagementFunction } from '@sgv4/core';
import { openScsiHandle } from '@sgv4/native';
import type { TaskEvent } from '@sgv4/target';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IscsiTmf,
  IscsiTmfResponse,
  type PortalTmfEvent,
  type ServedIscsiTarget,
  serveIscsiTarget,
} from '../../src/index.js';

const exec = promisify(execFile);
const IQN = 'iqn.2026-11.dev.sgv4:lab';
const GUEST_INITIATOR = 'iqn.2026-11.lab:guest';
const BLOCK = 512;

let served: ServedIscsiTarget;
let iscsid: ChildProcess | undefined;
let mounted = false;
/** The LU as the kernel shows it. */
let lu: { hctl: string; sg: string; bsg: string; block: string };

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 17 + (i >> 9)) & 0xff);
}

/** Reads through the target directly (its own I_T nexus), to check what the kernel wrote. */
async function targetRead(lba: number, blocks: number): Promise<Uint8Array> {
  const r = await served.target.execute(
    { initiator: 'iqn.2026-11.dev.sgv4:checker' },
    {
      lun: 0,
      tag: 1n,
      cdb: buildCdb('READ(16)', { lba, transferLength: blocks }),
      dataInLength: blocks * BLOCK,
    },
  );
  if (r.outcome !== 'completed') throw new Error(`target read ${r.outcome}`);
  if (r.status !== 0) {
    // The checker nexus's first command meets its power-on unit attention.
    return targetRead(lba, blocks);
  }
  return r.dataIn;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The SCSI device whose vendor is SGV4, with its sg, bsg and block nodes. */
function findLu(): typeof lu | undefined {
  const root = '/sys/bus/scsi/devices';
  for (const hctl of readdirSync(root)) {
    if (!/^\d+:\d+:\d+:\d+$/.test(hctl)) continue;
    const vendor = readFileSync(`${root}/${hctl}/vendor`, 'utf8').trim();
    if (vendor !== 'SGV4') continue;
    const sg = existsSync(`${root}/${hctl}/scsi_generic`)
      ? readdirSync(`${root}/${hctl}/scsi_generic`)[0]
      : undefined;
    const block = existsSync(`${root}/${hctl}/block`) ? readdirSync(`${root}/${hctl}/block`)[0] : undefined;
    if (
      sg === undefined ||
      block === undefined ||
      !existsSync(`/dev/${block}`) ||
      !existsSync(`/dev/bsg/${hctl}`)
    )
      return undefined;
    return { hctl, sg: `/dev/${sg}`, bsg: `/dev/bsg/${hctl}`, block: `/dev/${block}` };
  }
  return undefined;
}

beforeAll(async () => {
  // The guest's loopback only: nothing leaves the guest.
  await exec('ip', ['link', 'set', 'lo', 'up']);
  // crc32c first: the kernel cannot autoload it from inside the chroot (lab notes).
  await exec('modprobe', ['crc32c_generic']);
  await exec('modprobe', ['iscsi_tcp']);
  // open-iscsi keeps its node database under /etc/iscsi, read-only here: a tmpfs over it.
  await exec('mount', ['-t', 'tmpfs', 'sgv4-iscsi', '/etc/iscsi']);
  mounted = true;
  writeFileSync('/etc/iscsi/initiatorname.iscsi', `InitiatorName=${GUEST_INITIATOR}\n`);
  writeFileSync('/etc/iscsi/iscsid.conf', 'node.startup = manual\n');
  await exec('mkdir', ['-p', '/run/lock/iscsi']);
  served = await serveIscsiTarget({ address: '127.0.0.1:3260', iqn: IQN, luns: ['mem:64M'] });
  // Its own process group: iscsid signals its group on the way out.
  iscsid = spawn('iscsid', ['-f'], { stdio: 'ignore', detached: true });
  const discovered = await exec('iscsiadm', ['-m', 'discovery', '-t', 'st', '-p', '127.0.0.1:3260']);
  expect(discovered.stdout).toContain(`127.0.0.1:3260,1 ${IQN}`);
  await exec('iscsiadm', ['-m', 'node', '-T', IQN, '-p', '127.0.0.1:3260', '--login']);
  lu = await waitFor('the LU to appear as sd, sg and bsg nodes', findLu);
}, 180_000);

afterAll(async () => {
  await exec('iscsiadm', ['-m', 'node', '-T', IQN, '-p', '127.0.0.1:3260', '--logout']).catch(
    () => undefined,
  );
  if (iscsid && iscsid.exitCode === null) {
    const exited = new Promise((r) => iscsid!.once('exit', r));
    iscsid.kill('SIGTERM');
    await exited;
  }
  await served?.close();
  if (mounted) await exec('umount', ['/etc/iscsi']);
}, 120_000);

describe('the Linux initiator logged in to the portal', () => {
  it('shows the LU as /dev/sdX, /dev/sgN and /dev/bsg/*, which sg_inq and sg_readcap read', async () => {
    const d = served.target.describe(0);
    for (const node of [lu.sg, lu.bsg]) {
      const inq = (await exec('sg_inq', [node])).stdout;
      expect(inq).toContain('Vendor identification: SGV4');
      expect(inq).toContain('Product identification: EMBEDDED DISK');
      expect(inq).toContain(`Unit serial number: ${d.serialNumber}`);
    }
    const cap = (await exec('sg_readcap', [lu.sg])).stdout;
    expect(cap).toContain(`Last LBA=${BigInt(d.capacityBlocks) - 1n}`);
    expect(cap).toContain(`Logical block length=${d.blockSize} bytes`);
    expect(readFileSync(`/sys/block/${lu.block.slice(5)}/size`, 'utf8').trim()).toBe(
      String(d.capacityBlocks),
    );
  });

  it('sg_dd writes data the target holds, and reads back what the target wrote', async () => {
    // os.tmpdir(): the guest's TMPDIR is writable even when /tmp is the host's (a clone under /tmp).
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-dd-'));
    const file = (name: string) => join(dir, name);
    const out = pattern(1024 * BLOCK, 1);
    writeFileSync(file('out.bin'), out);
    await exec('sg_dd', [`if=${file('out.bin')}`, `of=${lu.sg}`, 'bs=512', 'count=1024', 'seek=2048']);
    expect(Buffer.compare(await targetRead(2048, 1024), out)).toBe(0);
    // Written through the target, read by the kernel with sg_dd and with dd on the disk.
    const back = pattern(512 * BLOCK, 2);
    const w = await served.target.execute(
      { initiator: 'iqn.2026-11.dev.sgv4:checker' },
      { lun: 0, tag: 2n, cdb: buildCdb('WRITE(16)', { lba: 8192, transferLength: 512 }), dataOut: back },
    );
    expect(w).toMatchObject({ outcome: 'completed', status: 0 });
    await exec('sg_dd', [`if=${lu.sg}`, `of=${file('in.bin')}`, 'bs=512', 'count=512', 'skip=8192']);
    expect(Buffer.compare(readFileSync(file('in.bin')), back)).toBe(0);
    await exec('dd', [
      `if=${lu.block}`,
      `of=${file('dd.bin')}`,
      'bs=4096',
      'count=64',
      'skip=1024',
      'iflag=direct',
    ]);
    expect(Buffer.compare(readFileSync(file('dd.bin')), back)).toBe(0);
    rmSync(dir, { recursive: true });
  });

  it("this project's native sg and bsg paths read the same blocks", async () => {
    const expected = await targetRead(2048, 16);
    for (const node of [lu.sg, lu.bsg]) {
      const handle = openScsiHandle(node, { readWrite: true });
      try {
        const cdb = buildCdb('READ(10)', { lba: 2048, transferLength: 16 });
        const dataIn = new Uint8Array(16 * BLOCK);
        const sense = new Uint8Array(32);
        const header = createSgIoV4Header({
          requestLen: cdb.length,
          dinXferLen: dataIn.length,
          maxResponseLen: sense.length,
          timeout: 30_000,
        });
        const result = await handle.sgIo({ header, cdb, dataIn, sense });
        expect(result.deviceStatus, node).toBe(0);
        expect(Buffer.compare(dataIn, expected), node).toBe(0);
      } finally {
        handle.close();
      }
    }
  });

  it("a command held past its timeout makes the kernel's error handler send ABORT TASK, then LOGICAL UNIT RESET", async () => {
    const timeoutFile = `/sys/block/${lu.block.slice(5)}/device/timeout`;
    const timeoutBefore = readFileSync(timeoutFile, 'utf8').trim();
    const arrived: { fn: TaskManagementFunction; initiator: string }[] = [];
    const onTmf = (e: { nexus: { initiator: string }; request: { function: TaskManagementFunction } }) =>
      arrived.push({ fn: e.request.function, initiator: e.nexus.initiator });
    served.target.on('tmf-received', onTmf);
    writeFileSync(timeoutFile, '3\n');
    // The target's latency knob holds every command for 60 s: far past the 3 s timeout.
    await served.target.configure(0, { latency: { nanoseconds: 60e9 } });
    const reader = exec('dd', [
      `if=${lu.block}`,
      'of=/dev/null',
      'bs=4096',
      'count=1',
      'skip=4000',
      'iflag=direct',
    ]).then(
      () => 'read',
      () => 'failed',
    );
    try {
      await waitFor(
        'ABORT TASK then LOGICAL UNIT RESET from the kernel',
        () => (arrived.some((a) => a.fn === 'LOGICAL_UNIT_RESET') ? true : undefined),
        90_000,
      );
    } finally {
      await served.target.configure(0, { latency: { nanoseconds: 0 } });
      writeFileSync(timeoutFile, `${timeoutBefore}\n`);
    }
    expect(['read', 'failed']).toContain(await reader);
    served.target.off('tmf-received', onTmf);
    const functions = arrived.map((a) => a.fn);
    expect(functions[0]).toBe('ABORT_TASK');
    expect(functions.indexOf('LOGICAL_UNIT_RESET')).toBeGreaterThan(0);
    for (const a of arrived) expect(a.initiator).toMatch(new RegExp(`^${GUEST_INITIATOR},i,0x[0-9a-f]{12}$`));
    // The device is usable again after the reset.
    expect((await exec('sg_inq', [lu.sg])).stdout).toContain('SGV4');
  }, 150_000);

  /**
   * `sg_reset -d` / `-t` (SG_SCSI_RESET_DEVICE / _TARGET): drivers/scsi/scsi_error.c
   * scsi_ioctl_reset calls the host's eh_device_reset_handler, libiscsi's
   * iscsi_eh_device_reset (drivers/scsi/libiscsi.c), which sends LOGICAL UNIT RESET as an
   * immediate TMF and sleeps in iscsi_exec_task_mgmt_fn until iscsi_tmf_rsp sees a response
   * with the TMF's ITT, or lu_reset_timeout (30 s) passes, when it fails the connection and the
   * ioctl returns EIO. On FUNCTION COMPLETE it fails the LU's commands still in flight
   * (fail_scsi_tasks, DID_ERROR: the block layer retries them). iscsi_eh_recover_target sends
   * TARGET WARM RESET and falls back to a session re-login only when that is refused. The
   * target must end the tasks the function covers without a response for them (RFC 7143
   * §4.2.3.3, §11.5.1) and answer the TMF only after the responses of commands that completed
   * before it (§11.6).
   */
  it('sg_reset -d and -t: LOGICAL UNIT RESET and TARGET WARM RESET are answered at once, end the held read, and the session and LU keep working', async () => {
    const answered: PortalTmfEvent[] = [];
    const ended: string[] = [];
    const aborted: { tag: bigint; by: string }[] = [];
    const held: bigint[] = [];
    const onTmf = (e: PortalTmfEvent) => answered.push(e);
    const onEnded = (e: { reason: string }) => ended.push(e.reason);
    const onReceived = (e: TaskEvent) => {
      // READ(10) / READ(16) from the guest's nexus.
      if (e.task.nexus.initiator.startsWith(GUEST_INITIATOR) && (e.opcode === 0x28 || e.opcode === 0x88))
        held.push(e.task.tag);
    };
    const onAborted = (e: TaskEvent & { abortedBy: string }) =>
      aborted.push({ tag: e.task.tag, by: e.abortedBy });
    served.portal.on('taskManagement', onTmf);
    served.portal.on('sessionEnded', onEnded);
    served.target.on('task-received', onReceived);
    served.target.on('task-aborted', onAborted);
    try {
      for (const [option, fn, tmfName] of [
        ['-d', IscsiTmf.LOGICAL_UNIT_RESET, 'LOGICAL_UNIT_RESET'],
        ['-t', IscsiTmf.TARGET_WARM_RESET, 'LOGICAL_UNIT_RESET'],
      ] as const) {
        answered.length = 0;
        aborted.length = 0;
        held.length = 0;
        // A read held 20 s by the target (under the disk's 30 s timeout: no error handling of its own).
        await served.target.configure(0, { latency: { nanoseconds: 20e9 } });
        const reader = exec('dd', [
          `if=${lu.block}`,
          'of=/dev/null',
          'bs=4096',
          'count=1',
          'skip=3000',
          'iflag=direct',
        ]).then(
          () => 'read',
          (e: unknown) => `failed: ${String(e)}`,
        );
        try {
          await waitFor('the read to reach the target', () => (held.length > 0 ? true : undefined), 30_000);
          const started = Date.now();
          await exec('sg_reset', [option, lu.sg]);
          // Answered at once: far below libiscsi's lu_reset_timeout / tgt_reset_timeout (30 s).
          expect(Date.now() - started, option).toBeLessThan(10_000);
        } finally {
          await served.target.configure(0, { latency: { nanoseconds: 0 } });
        }
        // The kernel failed the held read with DID_ERROR and the block layer sent it again.
        expect(await reader, option).toBe('read');
        expect(
          answered.map((e) => [e.function, e.response]),
          option,
        ).toEqual([[fn, IscsiTmfResponse.FUNCTION_COMPLETE]]);
        expect(aborted, option).toContainEqual({ tag: held[0]!, by: tmfName });
      }
      // No session reset: the kernel took both answers.
      expect(ended).toEqual([]);
      const inq = (await exec('sg_inq', [lu.sg])).stdout;
      expect(inq).toContain('Vendor identification: SGV4');
      const dir = mkdtempSync(join(tmpdir(), 'sgv4-reset-'));
      try {
        const file = join(dir, 'in.bin');
        await exec('sg_dd', [`if=${lu.sg}`, `of=${file}`, 'bs=512', 'count=64', 'skip=2048']);
        expect(Buffer.compare(readFileSync(file), await targetRead(2048, 64))).toBe(0);
      } finally {
        rmSync(dir, { recursive: true });
      }
    } finally {
      served.portal.off('taskManagement', onTmf);
      served.portal.off('sessionEnded', onEnded);
      served.target.off('task-received', onReceived);
      served.target.off('task-aborted', onAborted);
    }
  }, 120_000);
});
