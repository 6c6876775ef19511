/**
 * Lab: the permission model against the real Linux 6.1 kernel. For every opcode
 * 0x00..0xff a CDB goes through SG_IO on /dev/sgN and on /dev/bsg/H:C:T:L, both opened
 * O_RDONLY, from a process with uid 65534 and no capabilities (so no CAP_SYS_RAWIO).
 * EPERM counts as "denied"; anything else (success, CHECK CONDITION, another errno) as
 * "allowed". The model must predict all 512 outcomes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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

it('the model predicts all 512 sg/bsg EPERM outcomes (O_RDONLY, no CAP_SYS_RAWIO)', () => {
  const { sg, bsg, deviceType } = scsiDebugNodes();
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
        '--',
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
