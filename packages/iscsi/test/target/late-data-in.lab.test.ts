/**
 * A device that writes data-in late, after the addon let go of the request: the embedded
 * target, served to Linux 6.1's own initiator (iscsi_tcp) inside the lab guest, holds a
 * direct-IO READ while its LU is deleted, so the sg queue fails (sg_remove_device sets
 * `detaching`, sg_poll reports EPOLLHUP, drivers/scsi/sg.c) and the handle is closed with the
 * READ still in the kernel. Its pages stay pinned by the bio (bio_map_user_iov ->
 * pin_user_pages, block/blk-map.c) and iscsi_tcp copies the Data-In PDUs into them when the
 * target answers (iscsi_tcp_data_recv, drivers/scsi/iscsi_tcp.c). Those pages were the
 * request's bounce block: close() must free it, not return it to the bounce pool, or the next
 * request of that size gets it and the late data lands in that request's buffer. scsi_debug
 * cannot show this: it moves the data when it is handed the command (schedule_resp calls the
 * response function before the delay), and a deleted LUN is handed no command.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createSgIoV4Header, OsError } from '@sgv4/core';
import { deleteDeviceWhenBusy, settleDevice } from '@sgv4/lab';
import { openScsiHandle } from '@sgv4/native';
import type { TaskEvent } from '@sgv4/target';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServedIscsiTarget, serveIscsiTarget } from '../../src/index.js';

const exec = promisify(execFile);
const IQN = 'iqn.2026-11.dev.sgv4:late-data-in';
const GUEST_INITIATOR = 'iqn.2026-11.lab:late-data-in';
const PORTAL = '127.0.0.1:3263';
const SCSI_DEBUG = '/sys/bus/pseudo/drivers/scsi_debug';
const ALLOW_DIO = '/sys/module/sg/parameters/allow_dio';
const SG_FLAG_DIRECT_IO = 1;
const SG_INFO_DIRECT_IO = 2;
const BLOCK = 512;
/** 60 KiB: with its offset in a page, one 16-page bounce block whichever the JS buffer's address. */
const BLOCKS = 120;
/** How long the target holds the READ (ns): the LU is deleted and the handle closed meanwhile. */
const HOLD_NS = 3e9;
/** scsi_debug `delay` (jiffies, 4.5 s at HZ=250): the next request is still in flight when the held data arrives. */
const NEXT_DELAY = 1125;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seed * 37 + i * 11 + (i >> 9)) & 0xff);
}

function rw10(opcode: number, lba: number, blocks: number): Uint8Array {
  const cdb = Uint8Array.of(opcode, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  new DataView(cdb.buffer).setUint32(2, lba);
  new DataView(cdb.buffer).setUint16(7, blocks);
  return cdb;
}

function readRequest(lba: number, directIo: boolean) {
  return {
    header: createSgIoV4Header({
      requestLen: 10,
      dinXferLen: BLOCKS * BLOCK,
      maxResponseLen: 32,
      timeout: 20_000,
      flags: directIo ? SG_FLAG_DIRECT_IO : 0,
    }),
    cdb: rw10(0x28, lba, BLOCKS),
    sense: new Uint8Array(32),
    dataIn: new Uint8Array(BLOCKS * BLOCK),
  };
}

function writeRequest(lba: number, data: Uint8Array) {
  return {
    header: createSgIoV4Header({
      requestLen: 10,
      doutXferLen: data.length,
      maxResponseLen: 32,
      timeout: 20_000,
    }),
    cdb: rw10(0x2a, lba, data.length / BLOCK),
    sense: new Uint8Array(32),
    dataOut: data,
  };
}

/** Writes a scsi_debug attribute, retrying while it still has commands queued (EBUSY). */
async function setScsiDebug(name: string, value: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(`${SCSI_DEBUG}/${name}`, `${value}\n`);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 200) throw error;
      await sleep(50);
    }
  }
}

function scsiDebug(name: string): number {
  return Number.parseInt(readFileSync(`${SCSI_DEBUG}/${name}`, 'utf8'), 10);
}

/** The LU as the kernel shows it (vendor SGV4). */
function findLu(): { hctl: string; sg: string } | undefined {
  const root = '/sys/bus/scsi/devices';
  for (const hctl of readdirSync(root)) {
    if (!/^\d+:\d+:\d+:\d+$/.test(hctl)) continue;
    if (readFileSync(`${root}/${hctl}/vendor`, 'utf8').trim() !== 'SGV4') continue;
    const dir = `${root}/${hctl}/scsi_generic`;
    const sg = existsSync(dir) ? readdirSync(dir)[0] : undefined;
    if (sg === undefined || !existsSync(`/dev/${sg}`) || !existsSync(`${root}/${hctl}/block`))
      return undefined;
    return { hctl, sg: `/dev/${sg}` };
  }
  return undefined;
}

let served: ServedIscsiTarget;
let iscsid: ChildProcess | undefined;
let mounted = false;
let lu: { hctl: string; sg: string };
let allowDio: string;
let savedLatency: { delay: number; ndelay: number };

beforeAll(async () => {
  allowDio = readFileSync(ALLOW_DIO, 'utf8').trim();
  savedLatency = { delay: scsiDebug('delay'), ndelay: scsiDebug('ndelay') };
  writeFileSync(ALLOW_DIO, '1');
  // The guest's loopback only; iscsi_tcp after crc32c (the chroot cannot autoload it); the
  // node database on a tmpfs (/etc/iscsi is read-only in the guest).
  await exec('ip', ['link', 'set', 'lo', 'up']);
  await exec('modprobe', ['crc32c_generic']);
  await exec('modprobe', ['iscsi_tcp']);
  await exec('mount', ['-t', 'tmpfs', 'sgv4-late-data-in', '/etc/iscsi']);
  mounted = true;
  writeFileSync('/etc/iscsi/initiatorname.iscsi', `InitiatorName=${GUEST_INITIATOR}\n`);
  // No NOP-Out pings: a target answering from this thread late (a slow sanitizer run) must not
  // make the kernel drop the connection and retry the held READ on a new one.
  writeFileSync(
    '/etc/iscsi/iscsid.conf',
    'node.startup = manual\nnode.conn[0].timeo.noop_out_interval = 0\nnode.conn[0].timeo.noop_out_timeout = 0\n',
  );
  await exec('mkdir', ['-p', '/run/lock/iscsi']);
  served = await serveIscsiTarget({ address: PORTAL, iqn: IQN, luns: ['mem:64M'] });
  // Its own process group: iscsid signals its group on the way out.
  iscsid = spawn('iscsid', ['-f'], { stdio: 'ignore', detached: true });
  await exec('iscsiadm', ['-m', 'discovery', '-t', 'st', '-p', PORTAL]);
  await exec('iscsiadm', ['-m', 'node', '-T', IQN, '-p', PORTAL, '--login']);
  const deadline = Date.now() + 60_000;
  for (let found = findLu(); ; found = findLu()) {
    if (found !== undefined) {
      lu = found;
      break;
    }
    if (Date.now() > deadline) throw new Error('the iSCSI LU did not appear as an sg node');
    await sleep(100);
  }
  // sd probes the LU after its nodes appear: from then on device_busy counts only ours.
  await settleDevice(lu.hctl, { intervalMs: 30, maxPolls: 1000 });
}, 120_000);

afterAll(async () => {
  await exec('iscsiadm', ['-m', 'node', '-T', IQN, '-p', PORTAL, '--logout']).catch(() => undefined);
  if (iscsid && iscsid.exitCode === null) {
    const exited = new Promise((r) => iscsid?.once('exit', r));
    iscsid.kill('SIGTERM');
    await exited;
  }
  await served?.close();
  if (mounted) await exec('umount', ['/etc/iscsi']);
  // The guest is shared by every lab file.
  await setScsiDebug('delay', savedLatency.delay);
  if (savedLatency.ndelay > 0) await setScsiDebug('ndelay', savedLatency.ndelay);
  writeFileSync(ALLOW_DIO, allowDio);
}, 120_000);

describe('close() after the sg queue failed with a direct-IO READ held by the device', () => {
  it("frees the READ's bounce block: the data the device writes late never reaches the next request of that size", async () => {
    const late = pattern(BLOCKS * BLOCK, 1); // what the held READ returns, long after close()
    const expected = pattern(BLOCKS * BLOCK, 2); // what the next request reads from scsi_debug
    const sg0 = openScsiHandle('/dev/sg0', { readWrite: true });
    const h = openScsiHandle(lu.sg, { readWrite: true });
    try {
      sg0.sgIoSync(writeRequest(41_400, expected));
      // Asynchronous only on the LU: its target answers from this thread.
      await h.sgIo(writeRequest(0, late));
      // Direct IO into the bounce block (page-aligned memory of the addon's pool).
      const check = readRequest(0, true);
      expect((await h.sgIo(check)).info & SG_INFO_DIRECT_IO).toBe(SG_INFO_DIRECT_IO);
      expect(check.dataIn).toEqual(late);

      // A shell that deletes the LU as soon as a command is at it (device_busy, scsi_sysfs.c):
      // started, and ready, before the READ is sent, so the delete follows the READ at once
      // whatever this process is doing. It returns once the midlayer drained the LU's commands
      // (blk_mq_destroy_queue): after the target answered the held READ.
      const deleter = await deleteDeviceWhenBusy(lu.hctl, 1);
      const deleted = deleter.exitedAt;
      const arrived: number[] = [];
      const onReceived = (e: TaskEvent) => {
        if (e.opcode === 0x28) arrived.push(e.sequence);
      };
      let held: Promise<unknown> | undefined;
      served.target.on('task-received', onReceived);
      try {
        await served.target.configure(0, { latency: { nanoseconds: HOLD_NS } });
        held = h.sgIo(readRequest(0, true)).then(
          () => 'resolved',
          (e: unknown) => e,
        );
        for (let i = 0; i < 300 && (arrived.length === 0 || h.failure === undefined); i++) await sleep(10);
        expect(arrived.length).toBe(1);
      } finally {
        // The held READ keeps the latency it was enabled with; later commands are answered at once.
        await served.target.configure(0, { latency: { nanoseconds: 0 } });
        served.target.off('task-received', onReceived);
        if (held === undefined) deleter.child.kill();
      }
      const rejected = await held;
      expect(rejected).toBeInstanceOf(OsError);
      expect(rejected).toMatchObject({ code: 'ENODEV', syscall: 'poll' });
      await h.close(); // the READ is still at the target

      // The next request of the same size, in flight while the held READ's data arrives:
      // direct IO too, so scsi_debug moved its data into the bounce block at once (then waits
      // NEXT_DELAY) and nothing copies it again at completion.
      await setScsiDebug('delay', NEXT_DELAY);
      const next = readRequest(41_400, true);
      const settled = sg0.sgIo(next).then(() => Date.now());
      const [deletedAt, settledAt] = await Promise.all([deleted, settled]);
      expect(deletedAt).toBeLessThan(settledAt); // the late data arrived while `next` was in flight
      expect(next.dataIn).toEqual(expected);
    } finally {
      await setScsiDebug('delay', savedLatency.delay);
      if (savedLatency.ndelay > 0) await setScsiDebug('ndelay', savedLatency.ndelay);
      await sg0.close();
      await h.close();
    }
  }, 60_000);
});
