/**
 * Lab: the permission model against the real Linux 6.1 kernel. For every opcode
 * 0x00..0xff a CDB goes through SG_IO on /dev/sgN and on /dev/bsg/H:C:T:L, both opened
 * O_RDONLY, from a process with uid 65534 and no capabilities (so no CAP_SYS_RAWIO).
 * EPERM counts as "denied"; anything else (success, CHECK CONDITION, another errno) as
 * "allowed". The model must predict all 512 outcomes. A second test opens both nodes
 * O_RDONLY, O_WRONLY and O_RDWR and sends a few harmless CDBs (WRITE with zero blocks,
 * SYNCHRONIZE CACHE, commands scsi_debug rejects) to check the per-mode rules: bsg passes its
 * open mode, sg filters O_WRONLY with the write class and skips the filter for O_RDWR.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { decidePermission, type PermissionInterface, type PermissionOpenMode } from '@sgv4/core';
import { afterAll, beforeAll, expect, it } from 'vitest';

const EPERM = 1;
const PROBE_SOURCE = new URL('./permissions-sweep-probe.c', import.meta.url).pathname;

interface SweepRecord {
  iface: PermissionInterface;
  opcode: number;
  errno: number;
  status: number;
}

/** The CDB length the probe uses for `opcode` (same rule as permissions-sweep-probe.c). */
function probeCdbLength(opcode: number): number {
  if (opcode === 0x7f) return 32;
  const group = opcode >> 5;
  return group === 0 ? 6 : group === 1 || group === 2 ? 10 : group === 4 ? 16 : group === 5 ? 12 : 10;
}

/**
 * The first scsi_debug device's sg node and its bsg node, paired through sysfs
 * (`/sys/class/scsi_generic/sgN/device` resolves to the H:C:T:L the bsg node is named after).
 */
function scsiDebugNodes(): { sg: string; bsg: string; deviceType: number } {
  const base = '/sys/class/scsi_generic';
  for (const name of readdirSync(base).sort()) {
    const device = join(base, name, 'device');
    if (readFileSync(join(device, 'model'), 'utf8').trim() !== 'scsi_debug') continue;
    const hctl = basename(realpathSync(device));
    const deviceType = Number(readFileSync(join(device, 'type'), 'utf8').trim());
    return { sg: `/dev/${name}`, bsg: `/dev/bsg/${hctl}`, deviceType };
  }
  throw new Error('no scsi_debug device with an sg node in this guest');
}

let work = '';
let probe = '';
let nodes: { sg: string; bsg: string; deviceType: number };
let savedModes: number[] = [];

beforeAll(() => {
  nodes = scsiDebugNodes();
  work = mkdtempSync(join(tmpdir(), 'sgv4-perm-'));
  probe = join(work, 'permissions-sweep-probe');
  execFileSync('gcc', ['-O1', '-o', probe, PROBE_SOURCE]);
  chmodSync(work, 0o755);
  chmodSync(probe, 0o755);
  savedModes = [nodes.sg, nodes.bsg].map((p) => statSync(p).mode & 0o7777);
  chmodSync(nodes.sg, 0o666);
  chmodSync(nodes.bsg, 0o666);
});

afterAll(() => {
  if (savedModes.length === 2) {
    chmodSync(nodes.sg, savedModes[0] ?? 0o600);
    chmodSync(nodes.bsg, savedModes[1] ?? 0o600);
  }
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

const PROBE_MODE: Readonly<Record<PermissionOpenMode, string>> = {
  'read-only': 'ro',
  'write-only': 'wo',
  'read-write': 'rw',
};

/** Runs the probe as uid 65534 without capabilities; returns its records after checking its credentials. */
function sweep(openMode: PermissionOpenMode, opcodes?: readonly number[]): SweepRecord[] {
  const args = [nodes.sg, nodes.bsg, PROBE_MODE[openMode]];
  if (opcodes) args.push(opcodes.map((op) => op.toString(16)).join(','));
  const out = execFileSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      probe,
      ...args,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]).toMatchObject({ uid: 65534, capEff: '0000000000000000' });
  return lines.slice(1) as unknown as SweepRecord[];
}

/** Compares each record with the model; returns the mismatches and the number of EPERMs. */
function compare(
  records: readonly SweepRecord[],
  openMode: PermissionOpenMode,
): { mismatches: string[]; denied: number } {
  const mismatches: string[] = [];
  let denied = 0;
  for (const r of records) {
    const cdb = new Uint8Array(probeCdbLength(r.opcode));
    cdb[0] = r.opcode;
    const predicted = decidePermission({
      cdb,
      iface: r.iface,
      openMode,
      capSysRawio: false,
      deviceType: nodes.deviceType,
    });
    const observedDenied = r.errno === EPERM;
    if (observedDenied) denied++;
    if (predicted.allowed === observedDenied) {
      mismatches.push(
        `${r.iface} ${openMode} 0x${r.opcode.toString(16).padStart(2, '0')}: kernel errno ${r.errno}, model ${predicted.rule}`,
      );
    }
  }
  return { mismatches, denied };
}

it('the model predicts all 512 sg/bsg EPERM outcomes (O_RDONLY, no CAP_SYS_RAWIO)', () => {
  const records = sweep('read-only');
  expect(records).toHaveLength(512);
  const { mismatches, denied } = compare(records, 'read-only');
  console.log(
    `permissions sweep: model predicted ${records.length - mismatches.length}/${records.length} (kernel EPERM for ${denied}; ${nodes.sg}, ${nodes.bsg}, device type ${nodes.deviceType})`,
  );
  expect(mismatches).toEqual([]);
});

/** Harmless under every mode: INQUIRY, WRITE(10/16) of zero blocks, SYNCHRONIZE CACHE(10),
 * PREVENT ALLOW MEDIUM REMOVAL (allow), and opcodes scsi_debug rejects (ATA-16, 0x7f, vendor 0xc0). */
const MODE_SAMPLE = [0x12, 0x2a, 0x8a, 0x35, 0x1e, 0x85, 0x7f, 0xc0];

it('the model predicts the per-open-mode rules of sg and bsg (O_RDONLY, O_WRONLY, O_RDWR)', () => {
  const all: string[] = [];
  let total = 0;
  for (const openMode of ['read-only', 'write-only', 'read-write'] as const) {
    const records = sweep(openMode, MODE_SAMPLE);
    expect(records).toHaveLength(MODE_SAMPLE.length * 2);
    total += records.length;
    all.push(...compare(records, openMode).mismatches);
  }
  console.log(`permissions open modes: model predicted ${total - all.length}/${total}`);
  expect(all).toEqual([]);
});
