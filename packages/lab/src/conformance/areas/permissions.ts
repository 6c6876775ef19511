/**
 * Conformance area `permissions`: `decidePermission` against the real command filter and
 * the gates before it, for SG_IO, sg's write(2), SCSI_IOCTL_SEND_COMMAND and
 * CDROM_SEND_PACKET on sg, bsg and the block device, as `nobody` (no CAP_SYS_RAWIO) and as
 * root; a scanner (scsi_debug `ptype=6` on an added host) and a partition (an MBR written
 * to the scsi_debug disk) exist only while their cases run.
 * @module
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  decidePermission,
  hexByte,
  PERMISSION_RULE_SOURCES,
  type PermissionDecision,
  type PermissionInterface,
  type PermissionOpenMode,
  type PermissionRequest,
  type PermissionRule,
  sgFileAccessRefused,
  TYPE_SCANNER,
} from '@sgv4/core';
import { labProbe } from '../../guest/probes.js';
import { getScsiDebugParam, setScsiDebugParam } from '../../guest/scsi-debug-sysfs.js';
import { type BatchedProbe, CaseCollector, type ProbeBatch, runBatchedCases } from '../batches.js';
import type {
  ConformanceArea,
  ConformanceDevice,
  ConformanceRule,
  ObservedCase,
} from '../conformance-case.js';
import { creditsFor } from '../credits.js';
import { openDeviceModesFor, type ProbeLine, runProbeScript, runSweepProbe } from '../probe-runner.js';

const RULE_SUMMARIES: Readonly<Record<PermissionRule, string>> = {
  'read-safe': 'a read-class opcode passes on any open',
  'write-safe-writable': 'a write-class opcode passes on a node open for writing',
  'write-safe-not-writable': 'a write-class opcode on a node open read-only is EPERM',
  privileged: 'any other opcode is EPERM without CAP_SYS_RAWIO',
  'cap-sys-rawio': 'CAP_SYS_RAWIO passes every opcode',
  'sg-read-write-unfiltered': 'SG_IO on an sg fd opened O_RDWR skips the filter',
  'sg-scanner-unfiltered': 'SG_IO to a scanner (type 6) through sg skips the filter',
  'sg-write-unfiltered': "sg's write(2) path never filters",
  'write-needs-writable-fd': 'write(2) on an O_RDONLY fd is EBADF',
  'block-partition-needs-rawio': 'an ioctl on a partition without CAP_SYS_RAWIO is ENOTTY',
  'sg-file-credentials-changed': 'read(2)/write(2) after a credential change are EPERM',
  'sg-ioctl-needs-read-write': 'CDROM_SEND_PACKET on an sg fd not opened O_RDWR is EPERM',
  'bsg-send-command-unsupported': 'SCSI_IOCTL_SEND_COMMAND on bsg is EINVAL',
  'bsg-ioctl-unknown': 'CDROM_SEND_PACKET on bsg is ENOTTY',
};

const RULES: readonly ConformanceRule[] = (Object.keys(RULE_SUMMARIES) as PermissionRule[]).map((id) => ({
  id,
  kernelFunction: PERMISSION_RULE_SOURCES[id],
  summary: RULE_SUMMARIES[id],
}));

/** The errnos the permission rules return; any other result counts as "allowed". */
const REFUSALS = new Set(['EPERM', 'ENOTTY', 'EBADF', 'EINVAL']);
/** The four outcomes of `scsi_cmd_allowed`'s class switch: a filtered case tests all four. */
const CLASS_RULES = ['read-safe', 'write-safe-writable', 'write-safe-not-writable', 'privileged'];

/** Harmless under every mode: INQUIRY, WRITE(10/16) of zero blocks, SYNCHRONIZE CACHE(10),
 * PREVENT ALLOW MEDIUM REMOVAL (allow), and opcodes scsi_debug rejects (ATA-16, 0x7f, vendor 0xc0). */
const MODE_SAMPLE = [0x12, 0x2a, 0x8a, 0x35, 0x1e, 0x85, 0x7f, 0xc0];
const INQUIRY = '120000002400';
const INQUIRY_12 = '120000002400000000000000';
const TUR = '000000000000';
const VENDOR_6 = 'c00000000000';
const VENDOR_10 = 'c0000000000000000000';
const VENDOR_12 = 'c00000000000000000000000';
const WRITE_10_NONE = '2a000000000000000000';

/** The CDB length the sweep probe uses for `opcode` (permissions-sweep-probe.c `cdb_length`). */
function sweepCdbLength(opcode: number): number {
  if (opcode === 0x7f) return 32;
  const group = opcode >> 5;
  return group === 0 ? 6 : group === 1 || group === 2 ? 10 : group === 4 ? 16 : group === 5 ? 12 : 10;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function predicted(d: PermissionDecision): string {
  return d.allowed ? 'allowed' : (d.errno ?? 'EPERM');
}

function observePermission(line: ProbeLine): ObservedCase {
  return {
    observed: line.ret < 0 && line.errno !== null && REFUSALS.has(line.errno) ? line.errno : 'allowed',
  };
}

/** The rules a case on `iface` via `submission` tests, besides its deciding rule. */
function testedRules(d: PermissionDecision): string[] {
  const { iface, submission, partition } = d.request;
  const tests: string[] = [];
  if (iface === 'block') tests.push('block-partition-needs-rawio');
  if (iface === 'sg' && submission === 'ioctl')
    tests.push('sg-read-write-unfiltered', 'sg-scanner-unfiltered');
  if (iface === 'sg' && submission === 'write') {
    tests.push('write-needs-writable-fd', 'sg-file-credentials-changed', 'sg-write-unfiltered');
  }
  if (iface === 'sg' && submission === 'cdrom-packet') tests.push('sg-ioctl-needs-read-write');
  if (iface === 'bsg') tests.push('bsg-send-command-unsupported', 'bsg-ioctl-unknown');
  if (d.filtered || (partition && d.request.capSysRawio)) tests.push('cap-sys-rawio');
  if (d.filtered && d.rule !== 'cap-sys-rawio') tests.push(...CLASS_RULES);
  return tests;
}

/** Sweep records (permissions-sweep-probe) as probe lines: sg opcodes, then bsg opcodes. */
function sweepBatch(name: string, mode: 'ro' | 'wo' | 'rw', opcodes?: readonly number[]): ProbeBatch {
  return {
    name,
    execute: (device) => {
      const restore = openDeviceModesFor([]);
      try {
        const args = [device.sg, device.bsg, mode];
        if (opcodes) args.push(opcodes.map((op) => op.toString(16)).join(','));
        return runSweepProbe(labProbe('permissions-sweep-probe'), args);
      } finally {
        restore();
      }
    },
  };
}

/** A script of sg-submit-probe, run as `nobody` or root after opening the nodes it names. */
function submitBatch(
  name: string,
  lines: (device: ConformanceDevice) => string[],
  options: { unprivileged: boolean; blockNodes?: (device: ConformanceDevice) => string[] },
): ProbeBatch {
  return {
    name,
    execute: (device) => {
      const restore = openDeviceModesFor(options.blockNodes?.(device) ?? []);
      try {
        return runProbeScript(labProbe('sg-submit-probe'), [], lines(device), {
          unprivileged: options.unprivileged,
        });
      } finally {
        restore();
      }
    },
  };
}

/** The sg and bsg nodes of the scsi_debug device of type `type`, if any. */
function nodesOfType(type: number): { sg: string; bsg: string } | undefined {
  const base = '/sys/class/scsi_generic';
  for (const name of readdirSync(base).sort()) {
    const dev = join(base, name, 'device');
    try {
      if (readFileSync(join(dev, 'model'), 'utf8').trim() !== 'scsi_debug') continue;
      if (Number(readFileSync(join(dev, 'type'), 'utf8').trim()) !== type) continue;
    } catch {
      continue;
    }
    return { sg: `/dev/${name}`, bsg: `/dev/bsg/${basename(realpathSync(dev))}` };
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A scanner for the scanner cases: scsi_debug `ptype=6`, then `add_host=1` scans a new
 * host whose device sg attaches to as type 6 (sd does not); removed again afterwards.
 */
function scannerBatch(lines: (scanner: { sg: string; bsg: string }) => string[]): ProbeBatch {
  return {
    name: 'scanner',
    execute: async () => {
      const ptype = getScsiDebugParam('ptype');
      setScsiDebugParam('ptype', TYPE_SCANNER);
      setScsiDebugParam('add_host', 1);
      try {
        let scanner = nodesOfType(TYPE_SCANNER);
        for (let i = 0; i < 100 && scanner === undefined; i++) {
          await sleep(50);
          scanner = nodesOfType(TYPE_SCANNER);
        }
        if (scanner === undefined) throw new Error('scsi_debug add_host with ptype=6 produced no scanner');
        const restore = openDeviceModesFor([]);
        try {
          return runProbeScript(labProbe('sg-submit-probe'), [], lines(scanner), { unprivileged: true });
        } finally {
          restore();
        }
      } finally {
        setScsiDebugParam('add_host', -1);
        setScsiDebugParam('ptype', ptype);
      }
    },
  };
}

/**
 * A partition for the partition cases: a one-entry MBR written to the scsi_debug disk
 * (re-read with BLKRRPART), cleared again afterwards. Lines 0..3 run as `nobody`, 4..5 as root.
 */
const partitionBatch: ProbeBatch = {
  name: 'partition',
  execute: (device) => {
    const probe = labProbe('sg-submit-probe');
    const part = `${device.disk}1`;
    const [made] = runProbeScript(probe, [], [`mbr ${device.disk} on`]);
    try {
      if (made?.value !== 1) throw new Error(`no ${part} after writing an MBR to ${device.disk}`);
      const restore = openDeviceModesFor([device.disk, part]);
      let nobody: ProbeLine[];
      try {
        nobody = runProbeScript(
          probe,
          [],
          [
            `open 0 ${part} ro`,
            `v3 0 ioctl 0x53 6 ${INQUIRY} from 36 0 0 arena`,
            `open 1 ${device.disk} ro`,
            `v3 1 ioctl 0x53 6 ${INQUIRY} from 36 0 0 arena`,
          ],
          { unprivileged: true },
        );
      } finally {
        restore();
      }
      const root = runProbeScript(
        probe,
        [],
        [`open 0 ${part} ro`, `v3 0 ioctl 0x53 6 ${INQUIRY} from 36 0 0 arena`],
      );
      return [...nobody, ...root];
    } finally {
      runProbeScript(probe, [], [`mbr ${device.disk} off`]);
    }
  },
};

function plan(device: ConformanceDevice) {
  const collect = new CaseCollector();
  const add = (
    batch: ProbeBatch,
    index: number,
    input: string,
    request: Omit<PermissionRequest, 'deviceType'> & { deviceType?: number },
    extraTests: readonly string[] = [],
  ) => {
    const d = decidePermission({ deviceType: device.deviceType, ...request });
    collect.add(
      batch,
      index,
      {
        input,
        rules: creditsFor(RULES, [...extraTests, ...testedRules(d)], d.rule),
        predicted: predicted(d),
      },
      observePermission,
    );
  };
  const MODES: Record<'ro' | 'wo' | 'rw', PermissionOpenMode> = {
    ro: 'read-only',
    wo: 'write-only',
    rw: 'read-write',
  };

  // SG_IO sweeps as nobody: every opcode O_RDONLY, a sample in each open mode.
  const sweep = (mode: 'ro' | 'wo' | 'rw', opcodes: readonly number[], all: boolean) => {
    const batch = sweepBatch(`sweep ${mode}`, mode, all ? undefined : opcodes);
    const ifaces: PermissionInterface[] = ['sg', 'bsg'];
    ifaces.forEach((iface, i) => {
      opcodes.forEach((opcode, k) => {
        const cdb = new Uint8Array(sweepCdbLength(opcode));
        cdb[0] = opcode;
        add(batch, i * opcodes.length + k, `${iface} ${mode} SG_IO opcode ${hexByte(opcode)} (nobody)`, {
          cdb,
          iface,
          openMode: MODES[mode],
          capSysRawio: false,
        });
      });
    });
  };
  sweep(
    'ro',
    Array.from({ length: 256 }, (_, i) => i),
    true,
  );
  sweep('wo', MODE_SAMPLE, false);
  sweep('rw', MODE_SAMPLE, false);

  // sg's write(2) path as nobody.
  const writes = submitBatch(
    'sg write(2)',
    (d) => [
      `open 0 ${d.sg} rw`,
      `v3 0 write 0x53 6 ${VENDOR_6} none 0 0 0 null`,
      'reap 0',
      `open 1 ${d.sg} wo`,
      `v3 1 write 0x53 6 ${VENDOR_6} none 0 0 0 null`,
      'reap 1',
      `open 2 ${d.sg} ro`,
      `v3 2 write 0x53 6 ${VENDOR_6} none 0 0 0 null`,
    ],
    { unprivileged: true },
  );
  const vendor6 = hexBytes(VENDOR_6);
  add(writes, 1, 'sg rw write(2) vendor 0xc0 (nobody)', {
    cdb: vendor6,
    iface: 'sg',
    openMode: 'read-write',
    capSysRawio: false,
    submission: 'write',
  });
  add(writes, 4, 'sg wo write(2) vendor 0xc0 (nobody)', {
    cdb: vendor6,
    iface: 'sg',
    openMode: 'write-only',
    capSysRawio: false,
    submission: 'write',
  });
  add(writes, 7, 'sg ro write(2) vendor 0xc0 (nobody)', {
    cdb: vendor6,
    iface: 'sg',
    openMode: 'read-only',
    capSysRawio: false,
    submission: 'write',
  });

  // sg_check_file_access: root opens, submits, changes its credentials (setegid), again.
  const creds = submitBatch(
    'credentials',
    (d) => [
      `open 0 ${d.sg} rw`,
      `v3 0 write 0x53 6 ${TUR} none 0 0 0 null`,
      'reap 0',
      'dropcreds',
      `v3 0 write 0x53 6 ${TUR} none 0 0 0 null`,
      'reap 0',
      `v3 0 ioctl 0x53 6 ${TUR} none 0 0 0 null`,
    ],
    { unprivileged: false },
  );
  const tur = hexBytes(TUR);
  const root = { iface: 'sg', openMode: 'read-write', capSysRawio: true, cdb: tur } as const;
  add(creds, 1, 'sg rw write(2) TUR, credentials as opened (root)', { ...root, submission: 'write' });
  add(creds, 4, 'sg rw write(2) TUR after setegid (root)', {
    ...root,
    submission: 'write',
    credentialsChanged: true,
  });
  add(creds, 6, 'sg rw SG_IO TUR after setegid (root)', { ...root, credentialsChanged: true }, [
    'sg-file-credentials-changed',
  ]);
  for (const [index, changed] of [
    [2, false],
    [5, true],
  ] as const) {
    const refused = sgFileAccessRefused('read', changed);
    collect.add(
      creds,
      index,
      {
        input: `sg rw read(2) ${changed ? 'after setegid' : 'credentials as opened'} (root)`,
        rules: [{ id: 'sg-file-credentials-changed', fires: refused }],
        predicted: refused ? 'EPERM' : 'allowed',
      },
      observePermission,
    );
  }

  // A scanner: SG_IO through sg is not filtered; SEND_COMMAND and bsg are.
  const scanner = scannerBatch((s) => [
    `open 0 ${s.sg} ro`,
    `v3 0 ioctl 0x53 6 ${VENDOR_6} none 0 0 0 null`,
    `sendcmd 0 0 0 ${VENDOR_10}`,
    `open 1 ${s.bsg} ro`,
    `v4 1 0x51 0 0 6 ${VENDOR_6} 0 0 0 0 null`,
  ]);
  const asScanner = { openMode: 'read-only', capSysRawio: false, deviceType: TYPE_SCANNER } as const;
  add(scanner, 1, 'scanner sg ro SG_IO vendor 0xc0 (nobody)', { ...asScanner, cdb: vendor6, iface: 'sg' });
  add(
    scanner,
    2,
    'scanner sg ro SCSI_IOCTL_SEND_COMMAND vendor 0xc0 (nobody)',
    { ...asScanner, cdb: hexBytes(VENDOR_10), iface: 'sg', submission: 'send-command' },
    ['sg-scanner-unfiltered'],
  );
  add(scanner, 4, 'scanner bsg ro SG_IO vendor 0xc0 (nobody)', { ...asScanner, cdb: vendor6, iface: 'bsg' }, [
    'sg-scanner-unfiltered',
  ]);

  // A partition: refused before any table without CAP_SYS_RAWIO.
  const inquiry = hexBytes(INQUIRY);
  add(partitionBatch, 1, 'partition ro SG_IO INQUIRY (nobody)', {
    cdb: inquiry,
    iface: 'block',
    openMode: 'read-only',
    capSysRawio: false,
    partition: true,
  });
  add(partitionBatch, 3, 'whole disk ro SG_IO INQUIRY (nobody)', {
    cdb: inquiry,
    iface: 'block',
    openMode: 'read-only',
    capSysRawio: false,
  });
  add(partitionBatch, 5, 'partition ro SG_IO INQUIRY (root)', {
    cdb: inquiry,
    iface: 'block',
    openMode: 'read-only',
    capSysRawio: true,
    partition: true,
  });

  // SCSI_IOCTL_SEND_COMMAND as nobody.
  const send = submitBatch(
    'SCSI_IOCTL_SEND_COMMAND',
    (d) => [
      `open 0 ${d.sg} ro`,
      `sendcmd 0 0 36 ${INQUIRY}`,
      `sendcmd 0 0 0 ${WRITE_10_NONE}`,
      `open 1 ${d.sg} wo`,
      `sendcmd 1 0 0 ${WRITE_10_NONE}`,
      `open 2 ${d.sg} rw`,
      `sendcmd 2 0 0 ${VENDOR_10}`,
      `open 3 ${d.bsg} rw`,
      `sendcmd 3 0 36 ${INQUIRY}`,
      `v4 3 0x51 0 0 6 ${INQUIRY} 0 36 0 0 arena`,
      `open 4 ${d.disk} ro`,
      `sendcmd 4 0 36 ${INQUIRY}`,
      `sendcmd 4 0 0 ${VENDOR_10}`,
    ],
    { unprivileged: true, blockNodes: (d) => [d.disk] },
  );
  const nobody = { capSysRawio: false, submission: 'send-command' } as const;
  const write10 = hexBytes(WRITE_10_NONE);
  const vendor10 = hexBytes(VENDOR_10);
  add(send, 1, 'sg ro SEND_COMMAND INQUIRY (nobody)', {
    ...nobody,
    cdb: inquiry,
    iface: 'sg',
    openMode: 'read-only',
  });
  add(send, 2, 'sg ro SEND_COMMAND WRITE(10) 0 blocks (nobody)', {
    ...nobody,
    cdb: write10,
    iface: 'sg',
    openMode: 'read-only',
  });
  add(send, 4, 'sg wo SEND_COMMAND WRITE(10) 0 blocks (nobody)', {
    ...nobody,
    cdb: write10,
    iface: 'sg',
    openMode: 'write-only',
  });
  add(
    send,
    6,
    'sg rw SEND_COMMAND vendor 0xc0 (nobody)',
    { ...nobody, cdb: vendor10, iface: 'sg', openMode: 'read-write' },
    ['sg-read-write-unfiltered'],
  );
  add(send, 8, 'bsg rw SEND_COMMAND INQUIRY (nobody)', {
    ...nobody,
    cdb: inquiry,
    iface: 'bsg',
    openMode: 'read-write',
  });
  add(send, 9, 'bsg rw SG_IO INQUIRY (nobody)', {
    cdb: inquiry,
    iface: 'bsg',
    openMode: 'read-write',
    capSysRawio: false,
  });
  add(send, 11, 'disk ro SEND_COMMAND INQUIRY (nobody)', {
    ...nobody,
    cdb: inquiry,
    iface: 'block',
    openMode: 'read-only',
  });
  add(send, 12, 'disk ro SEND_COMMAND vendor 0xc0 (nobody)', {
    ...nobody,
    cdb: vendor10,
    iface: 'block',
    openMode: 'read-only',
  });

  // CDROM_SEND_PACKET as nobody, and once as root.
  const packet = submitBatch(
    'CDROM_SEND_PACKET',
    (d) => [
      `open 0 ${d.sg} ro`,
      `cdrom 0 2 36 ${INQUIRY_12}`,
      `open 1 ${d.sg} wo`,
      `cdrom 1 2 36 ${INQUIRY_12}`,
      `open 2 ${d.sg} rw`,
      `cdrom 2 2 36 ${INQUIRY_12}`,
      `cdrom 2 3 0 ${VENDOR_12}`,
      `open 3 ${d.bsg} rw`,
      `cdrom 3 2 36 ${INQUIRY_12}`,
      `open 4 ${d.disk} ro`,
      `cdrom 4 2 36 ${INQUIRY_12}`,
    ],
    { unprivileged: true, blockNodes: (d) => [d.disk] },
  );
  const cdrom = { capSysRawio: false, submission: 'cdrom-packet' } as const;
  const inquiry12 = hexBytes(INQUIRY_12);
  add(packet, 1, 'sg ro CDROM_SEND_PACKET INQUIRY (nobody)', {
    ...cdrom,
    cdb: inquiry12,
    iface: 'sg',
    openMode: 'read-only',
  });
  add(packet, 3, 'sg wo CDROM_SEND_PACKET INQUIRY (nobody)', {
    ...cdrom,
    cdb: inquiry12,
    iface: 'sg',
    openMode: 'write-only',
  });
  add(packet, 5, 'sg rw CDROM_SEND_PACKET INQUIRY (nobody)', {
    ...cdrom,
    cdb: inquiry12,
    iface: 'sg',
    openMode: 'read-write',
  });
  add(packet, 6, 'sg rw CDROM_SEND_PACKET vendor 0xc0 (nobody)', {
    ...cdrom,
    cdb: hexBytes(VENDOR_12),
    iface: 'sg',
    openMode: 'read-write',
  });
  add(packet, 8, 'bsg rw CDROM_SEND_PACKET INQUIRY (nobody)', {
    ...cdrom,
    cdb: inquiry12,
    iface: 'bsg',
    openMode: 'read-write',
  });
  add(packet, 10, 'disk ro CDROM_SEND_PACKET INQUIRY (nobody)', {
    ...cdrom,
    cdb: inquiry12,
    iface: 'block',
    openMode: 'read-only',
  });

  // Root: CAP_SYS_RAWIO passes the filter, but not sg's CDROM_SEND_PACKET gate.
  const rawio = submitBatch(
    'CAP_SYS_RAWIO',
    (d) => [
      `open 0 ${d.bsg} ro`,
      `v4 0 0x51 0 0 6 ${VENDOR_6} 0 0 0 0 null`,
      `open 1 ${d.sg} ro`,
      `v3 1 ioctl 0x53 6 ${VENDOR_6} none 0 0 0 null`,
      `cdrom 1 2 36 ${INQUIRY_12}`,
    ],
    { unprivileged: false },
  );
  add(rawio, 1, 'bsg ro SG_IO vendor 0xc0 (root)', {
    cdb: vendor6,
    iface: 'bsg',
    openMode: 'read-only',
    capSysRawio: true,
  });
  add(rawio, 3, 'sg ro SG_IO vendor 0xc0 (root)', {
    cdb: vendor6,
    iface: 'sg',
    openMode: 'read-only',
    capSysRawio: true,
  });
  add(
    rawio,
    4,
    'sg ro CDROM_SEND_PACKET INQUIRY (root)',
    { cdb: inquiry12, iface: 'sg', openMode: 'read-only', capSysRawio: true, submission: 'cdrom-packet' },
    ['cap-sys-rawio'],
  );
  return collect.cases;
}

/** The `permissions` area. */
export const permissionsArea: ConformanceArea<BatchedProbe> = {
  name: 'permissions',
  title: 'command filter and the gates before it (decidePermission)',
  rules: RULES,
  plan,
  run: runBatchedCases,
};
