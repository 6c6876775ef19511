/**
 * iSCSI on the host's loopback, in ONE run (`pnpm bench:iscsi`), against the C peers:
 *
 * 1. Initiator: the `iscsi://` transport (a @sgv4/bsg Device: tags, queue, tracing checks) and
 *    the initiator session under it, against tgt, next to libiscsi's `iscsi-perf` against the
 *    same tgt, 4 KiB random reads at queue depth 1 and 16. Goal: >= 0.8x iscsi-perf at QD 16,
 *    for the transport (what users open) and for the session.
 * 2. Target: `iscsi-perf` against the embedded target behind this project's portal, next to
 *    `iscsi-perf` against tgt, both LUs file-backed (64 MiB image in the page cache), same
 *    reads. Goal: >= 0.8x tgt at QD 16. A memory-backed LU is measured too (informative).
 *
 * Every case runs twice, interleaved with its peer (A B A B), and keeps its better window, so a
 * burst of load on a shared machine hurts both sides alike. Output: JSON on stdout and in
 * bench/results/iscsi.json (`goals`: goal, ratio, min, met).
 * @module
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { open } from '@sgv4/bsg';
import { IscsiSession, type ServedIscsiTarget, serveIscsiTarget } from '@sgv4/iscsi';

const run = promisify(execFile);
const WINDOW_S = Number(process.env.SGV4_BENCH_WINDOW_S ?? 3);
const BLOCK = 512;
const BLOCKS_PER_READ = 8;
const LU_BYTES = 64 << 20;
/**
 * First of the four 127.0.0.1 ports the run uses (tgt's portal, the portal with the file LU,
 * the portal with the memory LU, tgtd's control port), so a run can stay inside a range it
 * was given (SGV4_BENCH_ISCSI_PORT; default 13277).
 */
const PORT = Number(process.env.SGV4_BENCH_ISCSI_PORT ?? 13277);
const TGT_PORT = PORT;
const FILE_PORTAL_PORT = PORT + 1;
const MEMORY_PORTAL_PORT = PORT + 2;
const TGT_CONTROL_PORT = PORT + 3;

interface Measurement {
  readonly name: string;
  readonly queueDepth: number;
  readonly iops: number;
}

/** `iscsi-perf -m QD -b 8 -r URL` for WINDOW_S seconds; its last "iops average". */
async function iscsiPerf(url: string, queueDepth: number): Promise<number> {
  const child = spawn('iscsi-perf', ['-m', String(queueDepth), '-b', String(BLOCKS_PER_READ), '-r', url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  child.kill('SIGINT');
  await exited;
  const averages = [...out.matchAll(/iops average (\d+)/g)].map((m) => Number(m[1]));
  const last = averages.at(-1);
  if (last === undefined) throw new Error(`iscsi-perf ${url}: no figures in its output:\n${out.slice(-500)}`);
  return last;
}

/**
 * READ(16)s of BLOCKS_PER_READ blocks at random aligned LBAs for WINDOW_S seconds from
 * `queueDepth` workers, each with its own CDB and buffer; returns commands per second.
 */
async function randomReadsPerSecond(
  execute: (cdb: Uint8Array, dataIn: Uint8Array) => Promise<{ readonly status: number }>,
  queueDepth: number,
): Promise<number> {
  const slots = LU_BYTES / BLOCK / BLOCKS_PER_READ;
  let done = 0;
  const end = performance.now() + WINDOW_S * 1000;
  const worker = async () => {
    const buffer = new Uint8Array(BLOCK * BLOCKS_PER_READ);
    const cdb = new Uint8Array(16);
    const view = new DataView(cdb.buffer);
    cdb[0] = 0x88; // READ(16)
    view.setUint32(10, BLOCKS_PER_READ);
    while (performance.now() < end) {
      view.setUint32(6, Math.floor(Math.random() * slots) * BLOCKS_PER_READ);
      const r = await execute(cdb, buffer);
      if (r.status !== 0) throw new Error(`READ(16) status ${r.status}`);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: queueDepth }, worker));
  return done / ((performance.now() - started) / 1000);
}

/** The initiator session doing the same: QD workers of 4 KiB random READ(16). */
async function ourInitiator(
  port: number,
  targetName: string,
  lun: number,
  queueDepth: number,
): Promise<number> {
  const session = await IscsiSession.login({ host: '127.0.0.1', port, targetName, lun, keepalive: false });
  try {
    await session.execute({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) }); // past the power-on unit attention
    return await randomReadsPerSecond((cdb, dataIn) => session.execute({ cdb, dataIn }), queueDepth);
  } finally {
    await session.logout().catch(() => session.close());
  }
}

/** The same reads through the device API: `open('iscsi://...')`, QD workers calling submit(). */
async function ourTransport(url: string, queueDepth: number): Promise<number> {
  // identify: false: no INQUIRY/VPD at open (the session's login already cleared the unit attention).
  const device = await open(url, { identify: false, queueDepth });
  try {
    return await randomReadsPerSecond((cdb, dataIn) => device.submit({ cdb, dataIn }), queueDepth);
  } finally {
    await device.close();
  }
}

async function startTgt(
  dir: string,
): Promise<{ url: string; child: ChildProcess; port: number; iqn: string }> {
  const port = TGT_PORT;
  const control = String(TGT_CONTROL_PORT);
  const iqn = 'iqn.2026-11.dev.sgv4:bench-tgt';
  const image = join(dir, 'tgt.img');
  fillImage(image);
  const child = spawn('/usr/sbin/tgtd', ['-f', '-C', control, '--iscsi', `portal=127.0.0.1:${port}`], {
    stdio: 'ignore',
  });
  const admin = (...args: string[]) => run('/usr/sbin/tgtadm', ['-C', control, '--lld', 'iscsi', ...args]);
  for (let i = 0; ; i++) {
    try {
      await admin('--op', 'new', '--mode', 'target', '--tid', '1', '-T', iqn);
      break;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await admin('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', image);
  await admin('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
  return { url: `iscsi://127.0.0.1:${port}/${iqn}/1`, child, port, iqn };
}

/** A written (not sparse) image, so every read is served from the page cache, for both targets. */
function fillImage(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  for (let i = 0; i < LU_BYTES; i += chunk.length) writeFileSync(fd, chunk);
  closeSync(fd);
}

/** Runs `a` then `b` twice (A B A B) and keeps each one's better figure. */
async function pair(a: () => Promise<number>, b: () => Promise<number>): Promise<[number, number]> {
  const a1 = await a();
  const b1 = await b();
  const a2 = await a();
  const b2 = await b();
  return [Math.max(a1, a2), Math.max(b1, b2)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sgv4-bench-iscsi-'));
  const tgt = await startTgt(dir);
  let served: ServedIscsiTarget | undefined;
  let servedMemory: ServedIscsiTarget | undefined;
  const measured: Measurement[] = [];
  try {
    const portalImage = join(dir, 'portal.img');
    fillImage(portalImage);
    served = await serveIscsiTarget({
      address: `127.0.0.1:${FILE_PORTAL_PORT}`,
      iqn: 'iqn.2026-11.dev.sgv4:bench',
      luns: [`file:${portalImage}`],
    });
    servedMemory = await serveIscsiTarget({
      address: `127.0.0.1:${MEMORY_PORTAL_PORT}`,
      iqn: 'iqn.2026-11.dev.sgv4:bench-mem',
      luns: ['mem:64M'],
    });
    // Touch every block of the memory LU so reads do not hit unallocated (zero-fill) chunks.
    {
      const s = await IscsiSession.login({
        host: '127.0.0.1',
        port: MEMORY_PORTAL_PORT,
        targetName: 'iqn.2026-11.dev.sgv4:bench-mem',
        keepalive: false,
      });
      await s.execute({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0) });
      const chunk = new Uint8Array(1 << 20).fill(0x5a);
      for (let lba = 0; lba < LU_BYTES / BLOCK; lba += chunk.length / BLOCK) {
        const cdb = new Uint8Array(16);
        cdb[0] = 0x8a;
        new DataView(cdb.buffer).setUint32(6, lba);
        new DataView(cdb.buffer).setUint32(10, chunk.length / BLOCK);
        await s.execute({ cdb, dataOut: chunk });
      }
      await s.logout();
    }
    for (const qd of [1, 16]) {
      const [ours, peer] = await pair(
        () => ourInitiator(tgt.port, tgt.iqn, 1, qd),
        () => iscsiPerf(tgt.url, qd),
      );
      measured.push({ name: 'initiator session -> tgt', queueDepth: qd, iops: ours });
      measured.push({ name: 'iscsi-perf -> tgt', queueDepth: qd, iops: peer });
      const [transport, peerAgain] = await pair(
        () => ourTransport(tgt.url, qd),
        () => iscsiPerf(tgt.url, qd),
      );
      measured.push({ name: 'iscsi:// transport (Device) -> tgt', queueDepth: qd, iops: transport });
      measured.push({
        name: 'iscsi-perf -> tgt (reference for the transport)',
        queueDepth: qd,
        iops: peerAgain,
      });
    }
    for (const qd of [1, 16]) {
      const [portal, reference] = await pair(
        () => iscsiPerf(`iscsi://127.0.0.1:${FILE_PORTAL_PORT}/iqn.2026-11.dev.sgv4:bench/0`, qd),
        () => iscsiPerf(tgt.url, qd),
      );
      measured.push({
        name: 'iscsi-perf -> portal + embedded target (file LU)',
        queueDepth: qd,
        iops: portal,
      });
      measured.push({
        name: 'iscsi-perf -> tgt (reference for the portal)',
        queueDepth: qd,
        iops: reference,
      });
      measured.push({
        name: 'iscsi-perf -> portal + embedded target (memory LU)',
        queueDepth: qd,
        iops: await iscsiPerf(`iscsi://127.0.0.1:${MEMORY_PORTAL_PORT}/iqn.2026-11.dev.sgv4:bench-mem/0`, qd),
      });
    }
  } finally {
    await served?.close();
    await servedMemory?.close();
    tgt.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const get = (name: string, qd: number) => {
    const m = measured.find((x) => x.name === name && x.queueDepth === qd);
    if (m === undefined) throw new Error(`missing ${name} QD${qd}`);
    return m.iops;
  };
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const goals = [
    {
      goal: 'initiator session >= 0.8x iscsi-perf IOPS against tgt, 4 KiB random reads, QD 16',
      min: 0.8,
      ratio: ratio(get('initiator session -> tgt', 16), get('iscsi-perf -> tgt', 16)),
    },
    {
      goal: 'iscsi:// transport (Device.submit) >= 0.8x iscsi-perf IOPS against tgt, 4 KiB random reads, QD 16',
      min: 0.8,
      ratio: ratio(
        get('iscsi:// transport (Device) -> tgt', 16),
        get('iscsi-perf -> tgt (reference for the transport)', 16),
      ),
    },
    {
      goal: 'portal + embedded target >= 0.8x tgt, served to iscsi-perf, 4 KiB random reads, QD 16 (file LUs)',
      min: 0.8,
      ratio: ratio(
        get('iscsi-perf -> portal + embedded target (file LU)', 16),
        get('iscsi-perf -> tgt (reference for the portal)', 16),
      ),
    },
  ].map((g) => ({ ...g, met: g.ratio >= g.min }));
  const result = {
    suite: 'iscsi',
    description:
      'iSCSI over 127.0.0.1, 4 KiB random reads of a 64 MiB LU: the iscsi:// transport (Device) and the initiator session under it vs libiscsi iscsi-perf against tgt, and iscsi-perf against the portal + embedded target vs against tgt',
    date: new Date().toISOString(),
    environment: {
      node: process.version,
      kernel: release(),
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
    },
    windowSeconds: WINDOW_S,
    measurements: measured.map((m) => ({ ...m, iops: Math.round(m.iops) })),
    // The flat list bench:report reads: this project's path against the peer measured in this run.
    ratios: (
      [
        ['initiator session -> tgt', 'iscsi-perf -> tgt', 1],
        ['initiator session -> tgt', 'iscsi-perf -> tgt', 16],
        ['iscsi:// transport (Device) -> tgt', 'iscsi-perf -> tgt (reference for the transport)', 1],
        ['iscsi:// transport (Device) -> tgt', 'iscsi-perf -> tgt (reference for the transport)', 16],
        [
          'iscsi-perf -> portal + embedded target (file LU)',
          'iscsi-perf -> tgt (reference for the portal)',
          1,
        ],
        [
          'iscsi-perf -> portal + embedded target (file LU)',
          'iscsi-perf -> tgt (reference for the portal)',
          16,
        ],
        [
          'iscsi-perf -> portal + embedded target (memory LU)',
          'iscsi-perf -> tgt (reference for the portal)',
          16,
        ],
      ] satisfies [string, string, number][]
    ).map(([path, peer, qd]) => ({
      path: `${path} QD${qd}`,
      peer: `${peer} QD${qd}`,
      ratio: ratio(get(path, qd), get(peer, qd)),
      metric: 'IOPS',
      kind: 'peer' as const,
    })),
    goals,
  };
  const json = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(json);
  const resultsDir = fileURLToPath(new URL('../../results', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'iscsi.json'), json);
}

await main();
