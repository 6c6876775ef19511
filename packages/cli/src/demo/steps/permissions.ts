/**
 * Tour step: the permission model. Decides a few CDBs on every interface and open mode
 * with the Linux 6.1 rules and with the sgv4 ata-aware proposal, and explains one refusal.
 */
import {
  decidePermission,
  explainPermission,
  type PermissionInterface,
  type PermissionOpenMode,
  type PermissionPolicy,
} from '@sgv4/core';
import { formatTable, printLine } from '../../framework/output.js';
import type { TourStep } from '../tour-step.js';

/** Illustrative CDBs: a read, a write, a privileged command and an ATA command hidden in 0xa1. */
const SAMPLES: readonly { label: string; cdb: Uint8Array }[] = [
  { label: 'INQUIRY', cdb: Uint8Array.of(0x12, 0, 0, 0, 36, 0) },
  { label: 'WRITE(10)', cdb: Uint8Array.of(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0) },
  { label: 'WRITE BUFFER', cdb: Uint8Array.of(0x3b, 0, 0, 0, 0, 0, 0, 0, 0, 0) },
  {
    label: 'ATA-12 SECURITY ERASE PREPARE',
    cdb: Uint8Array.of(0xa1, 0x06, 0, 0, 0, 0, 0, 0, 0, 0xf3, 0, 0),
  },
];

const COLUMNS: readonly {
  header: string;
  iface: PermissionInterface;
  openMode: PermissionOpenMode;
  policy: PermissionPolicy;
}[] = [
  { header: 'sg ro', iface: 'sg', openMode: 'read-only', policy: 'kernel' },
  { header: 'sg rw', iface: 'sg', openMode: 'read-write', policy: 'kernel' },
  { header: 'bsg ro', iface: 'bsg', openMode: 'read-only', policy: 'kernel' },
  { header: 'bsg rw', iface: 'bsg', openMode: 'read-write', policy: 'kernel' },
  { header: 'bsg rw ata-aware', iface: 'bsg', openMode: 'read-write', policy: 'ata-aware' },
];

/** The `permissions` stop of the tour. */
export const permissionsStep: TourStep = {
  id: 'permissions',
  title: 'Command permission tables (unprivileged caller, no CAP_SYS_RAWIO)',
  run(io) {
    const rows: string[][] = [['command', ...COLUMNS.map((c) => c.header)]];
    for (const sample of SAMPLES) {
      rows.push([
        sample.label,
        ...COLUMNS.map((c) => {
          const d = decidePermission({ cdb: sample.cdb, capSysRawio: false, ...c });
          return d.allowed ? 'allowed' : (d.errno ?? 'denied');
        }),
      ]);
    }
    for (const line of formatTable(rows)) printLine(io, line);
    const ataSample = SAMPLES[3];
    if (ataSample) {
      const kernel = decidePermission({
        cdb: ataSample.cdb,
        iface: 'bsg',
        openMode: 'read-write',
        capSysRawio: false,
      });
      printLine(io, `Linux 6.1: ${explainPermission(kernel)}`);
    }
    const writeSample = SAMPLES[1];
    if (writeSample) {
      const denied = decidePermission({
        cdb: writeSample.cdb,
        iface: 'sg',
        openMode: 'read-only',
        capSysRawio: false,
      });
      printLine(io, `Why: ${explainPermission(denied)}`);
    }
    printLine(io, 'Try: sgv4 perm <cdb-hex> --mode ro|wo|rw --iface sg|bsg|block [--policy ata-aware]');
  },
};
