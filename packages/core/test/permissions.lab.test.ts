/**
 * Lab: the permission model against the real Linux 6.1 kernel. For every opcode
 * 0x00..0xff a CDB goes through SG_IO on /dev/sgN and on /dev/bsg/H:C:T:L, both opened
 * O_RDONLY, from a process with uid 65534 and no capabilities (so no CAP_SYS_RAWIO).
 * EPERM counts as "denied"; anything else (success, CHECK CONDITION, another errno) as
 * "allowed". The model must predict all 512 outcomes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decidePermission, type PermissionInterface } from '@sgv4/core';
import { expect, it } from 'vitest';

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

function firstNode(dir: string, pattern: RegExp): string {
  const name = readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort()[0];
  if (name === undefined) throw new Error(`no node matching ${pattern} in ${dir}`);
  return join(dir, name);
}

it('the model predicts all 512 sg/bsg EPERM outcomes (O_RDONLY, no CAP_SYS_RAWIO)', () => {
  const sg = firstNode('/dev', /^sg\d+$/);
  const bsg = firstNode('/dev/bsg', /^\d+:\d+:\d+:\d+$/);
  const deviceType = Number(
    readFileSync(`/sys/class/scsi_generic/${sg.slice(5)}/device/type`, 'utf8').trim(),
  );
  const work = mkdtempSync(join(tmpdir(), 'sgv4-perm-'));
  const probe = join(work, 'permissions-sweep-probe');
  const modes = [sg, bsg].map((p) => statSync(p).mode & 0o7777);
  try {
    execFileSync('gcc', ['-O1', '-o', probe, PROBE_SOURCE]);
    chmodSync(work, 0o755);
    chmodSync(probe, 0o755);
    chmodSync(sg, 0o666);
    chmodSync(bsg, 0o666);
    const out = execFileSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        probe,
        sg,
        bsg,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const caps = lines[0];
    expect(caps).toMatchObject({ uid: 65534, capEff: '0000000000000000' });
    const records = lines.slice(1) as unknown as SweepRecord[];
    expect(records).toHaveLength(512);

    const mismatches: string[] = [];
    let denied = 0;
    for (const r of records) {
      const cdb = new Uint8Array(probeCdbLength(r.opcode));
      cdb[0] = r.opcode;
      const predicted = decidePermission({
        cdb,
        iface: r.iface,
        openMode: 'read-only',
        capSysRawio: false,
        deviceType,
      });
      const observedDenied = r.errno === EPERM;
      if (observedDenied) denied++;
      if (predicted.allowed === observedDenied) {
        mismatches.push(
          `${r.iface} 0x${r.opcode.toString(16).padStart(2, '0')}: kernel errno ${r.errno}, model ${predicted.rule}`,
        );
      }
    }
    const agreed = records.length - mismatches.length;
    console.log(
      `permissions sweep: model predicted ${agreed}/${records.length} (kernel EPERM for ${denied}; ${sg}, ${bsg}, device type ${deviceType})`,
    );
    expect(mismatches).toEqual([]);
  } finally {
    chmodSync(sg, modes[0] ?? 0o660);
    chmodSync(bsg, modes[1] ?? 0o600);
    rmSync(work, { recursive: true, force: true });
  }
});
