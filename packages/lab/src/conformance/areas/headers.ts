/**
 * Conformance area `headers`: `predictSubmission`'s header and CDB-length checks, in
 * Linux 6.1's order, against sg, block SG_IO and bsg, SCSI_IOCTL_SEND_COMMAND and
 * CDROM_SEND_PACKET; the order cases pair two rules that both apply and check which one
 * the kernel meets first (e.g. block SG_IO's EIO before EPERM, sg's EMSGSIZE before EPERM).
 * @module
 */
import {
  type CdromGenericCommandFields,
  ioctlCompletionResult,
  predictSubmission,
  type ScsiIoctlCommandFields,
  type SgIoHdrFields,
  type SgIoV4Fields,
  SUBMISSION_RULES,
  type SubmissionAccess,
  type SubmissionPrediction,
  type SubmissionRequest,
  type SubmissionRuleId,
  submissionRuleSource,
  TRANSFER_RULES,
  type TransferDirection,
  transferRuleSource,
} from '@sgv4/core';
import { labProbe } from '../../guest/probes.js';
import { type BatchedProbe, CaseCollector, type ProbeBatch, runBatchedCases } from '../batches.js';
import type { ConformanceArea, ConformanceDevice, ConformanceRule } from '../conformance-case.js';
import { creditsFor } from '../credits.js';
import { openDeviceModesFor, outcomeOf, type ProbeLine, runProbeScript } from '../probe-runner.js';

const SUBMISSION_IDS = Object.keys(SUBMISSION_RULES) as SubmissionRuleId[];
/** The transfer rules the header stage applies (checked before the data is mapped). */
const HEADER_TRANSFER_IDS = [
  'sg-mmap-reserve-too-small',
  'sg-max-dxfer-len',
  'block-max-hw-sectors',
  'block-direction',
  'bsg-bidi',
] as const;

const RULES: readonly ConformanceRule[] = [
  ...SUBMISSION_IDS.map((id) => ({
    id,
    kernelFunction: submissionRuleSource(id),
    summary: SUBMISSION_RULES[id].summary,
  })),
  ...HEADER_TRANSFER_IDS.map((id) => ({
    id,
    kernelFunction: transferRuleSource(id),
    summary: TRANSFER_RULES[id].summary,
  })),
  {
    id: 'send-command-status',
    kernelFunction: 'sg_scsi_ioctl (drivers/scsi/scsi_ioctl.c)',
    summary: 'SCSI_IOCTL_SEND_COMMAND returns the SCSI status byte as a positive value',
    kind: 'value',
  },
  {
    id: 'cdrom-packet-status',
    kernelFunction: 'scsi_cdrom_send_packet (drivers/scsi/scsi_ioctl.c)',
    summary: 'CDROM_SEND_PACKET fails with EIO when the device answers with a status other than GOOD',
  },
];

const INQUIRY = '120000002400';
const INQUIRY_12 = '120000002400000000000000';
const TUR = '000000000000';
const VENDOR = 'c00000000000';
const READ_CD_12 = 'be0000000000000000000000';
const MIB = 1024 * 1024;

/** `hex` padded with zero bytes to `length` bytes. */
function padded(hex: string, length: number): string {
  return hex.padEnd(2 * length, '0').slice(0, 2 * length);
}

function bytes(hex: string | null): Uint8Array | null {
  return hex === null ? null : Uint8Array.from(Buffer.from(hex, 'hex'));
}

const DIRECTIONS: Record<string, TransferDirection> = {
  none: 'none',
  to: 'to-device',
  from: 'from-device',
  tofrom: 'to-from-device',
  unknown: 'unknown',
};

/** A v3 probe line and the header the model gets. */
function v3(
  slot: number,
  call: 'ioctl' | 'write',
  fields: {
    iid?: number;
    cmdLength: number;
    cdb: string | null;
    dir: string;
    length: number;
    flags?: number;
  },
  data = 'arena',
  count?: number,
): { line: string; header: SgIoHdrFields } {
  const iid = fields.iid ?? 0x53;
  const flags = fields.flags ?? 0;
  const line =
    `v3 ${slot} ${call} 0x${iid.toString(16)} ${fields.cmdLength} ${fields.cdb ?? 'null'} ${fields.dir} ` +
    `${fields.length} ${flags} 0 ${flags & 4 ? 'null' : data}${count === undefined ? '' : ` ${count}`}`;
  return {
    line,
    header: {
      kind: 'sg_io_hdr',
      interfaceId: iid,
      cmdLength: fields.cmdLength,
      cdb: bytes(fields.cdb),
      dxferDirection: DIRECTIONS[fields.dir] ?? 'unknown',
      dxferLength: fields.length,
      directIo: (flags & 1) !== 0,
      mmapIo: (flags & 4) !== 0,
    },
  };
}

/** A v4 probe line and the header the model gets. */
function v4(
  slot: number,
  fields: {
    guard?: number;
    protocol?: number;
    subprotocol?: number;
    requestLength: number;
    request: string | null;
    dout?: number;
    din?: number;
  },
): { line: string; header: SgIoV4Fields } {
  const guard = fields.guard ?? 0x51;
  const dout = fields.dout ?? 0;
  const din = fields.din ?? 0;
  return {
    line:
      `v4 ${slot} 0x${guard.toString(16)} ${fields.protocol ?? 0} ${fields.subprotocol ?? 0} ` +
      `0x${fields.requestLength.toString(16)} ${fields.request ?? 'null'} ${dout} ${din} 0 0 ${dout || din ? 'arena' : 'null'}`,
    header: {
      kind: 'sg_io_v4',
      guard,
      protocol: fields.protocol ?? 0,
      subprotocol: fields.subprotocol ?? 0,
      requestLength: fields.requestLength,
      request: bytes(fields.request),
      doutXferLength: dout,
      dinXferLength: din,
    },
  };
}

function predictedOf(p: SubmissionPrediction): string {
  return p.outcome === 'refused' ? (p.errno ?? 'EOTHER') : 'ok';
}

/** The scripts, one per node and identity; each case adds its line to one. */
class Script {
  readonly lines: string[];
  readonly batch: ProbeBatch;

  constructor(
    name: string,
    opens: (device: ConformanceDevice) => string[],
    options: { unprivileged: boolean; blockNode?: boolean },
  ) {
    this.lines = [];
    const own = this.lines;
    this.batch = {
      name,
      execute: (device) => {
        const restore = openDeviceModesFor(options.blockNode ? [device.disk] : []);
        try {
          const head = opens(device);
          const out = runProbeScript(labProbe('sg-submit-probe'), [], [...head, ...own], {
            unprivileged: options.unprivileged,
          });
          return out.slice(head.length);
        } finally {
          restore();
        }
      },
    };
  }
}

function plan(device: ConformanceDevice) {
  const collect = new CaseCollector();
  const root: SubmissionAccess = { openMode: 'read-write', capSysRawio: true };
  const nobody: SubmissionAccess = { openMode: 'read-only', capSysRawio: false };
  const add = (
    script: Script,
    line: string,
    input: string,
    request: Omit<SubmissionRequest, 'limits'>,
    tests: readonly string[],
    extra: readonly string[] = [],
  ) => {
    const p = predictSubmission({ ...request, limits: device.limits });
    const index = script.lines.length;
    script.lines.push(...extra, line);
    collect.add(
      script.batch,
      index + extra.length,
      {
        input,
        rules: creditsFor(RULES, tests, p.outcome === 'refused' ? p.rule : undefined),
        predicted: predictedOf(p),
      },
      (l) => ({ observed: outcomeOf(l) }),
    );
  };

  // sg, root, O_RDWR (the command filter is skipped: only the header checks decide).
  const sgRoot = new Script('sg headers (root)', (d) => [`open 0 ${d.sg} rw`], { unprivileged: false });
  const sg = (input: string, h: ReturnType<typeof v3>, tests: readonly string[]) =>
    add(sgRoot, h.line, input, { iface: 'sg', header: h.header, access: root }, tests);
  sg(
    "sg SG_IO interface_id 'Q'",
    v3(0, 'ioctl', { iid: 0x51, cmdLength: 6, cdb: INQUIRY, dir: 'from', length: 36 }),
    ['sg-interface-id'],
  );
  sg(
    "sg SG_IO interface_id 'Q' with MMAP_IO beyond the reserve",
    v3(0, 'ioctl', { iid: 0x51, cmdLength: 6, cdb: INQUIRY, dir: 'from', length: MIB, flags: 4 }),
    ['sg-interface-id', 'sg-mmap-reserve-too-small'],
  );
  sg(
    'sg SG_IO MMAP_IO beyond the reserve with cmd_len 4',
    v3(0, 'ioctl', { cmdLength: 4, cdb: INQUIRY, dir: 'from', length: MIB, flags: 4 }),
    ['sg-mmap-reserve-too-small', 'sg-cdb-length'],
  );
  sg('sg SG_IO cmd_len 5', v3(0, 'ioctl', { cmdLength: 5, cdb: INQUIRY, dir: 'from', length: 36 }), [
    'sg-cdb-length',
  ]);
  sg(
    'sg SG_IO cmd_len 253',
    v3(0, 'ioctl', { cmdLength: 253, cdb: padded(INQUIRY, 253), dir: 'from', length: 36 }),
    ['sg-cdb-length'],
  );
  sg('sg SG_IO cmdp NULL', v3(0, 'ioctl', { cmdLength: 6, cdb: null, dir: 'from', length: 36 }), [
    'sg-cdb-length',
  ]);
  sg(
    'sg SG_IO cmd_len 33',
    v3(0, 'ioctl', { cmdLength: 33, cdb: padded(INQUIRY, 33), dir: 'from', length: 36 }),
    ['sg-cdb-too-long', 'sg-cdb-length'],
  );
  sg(
    'sg SG_IO cmd_len 32',
    v3(0, 'ioctl', { cmdLength: 32, cdb: padded(INQUIRY, 32), dir: 'from', length: 36 }),
    ['sg-cdb-too-long', 'sg-cdb-length'],
  );
  sg(
    'sg SG_IO dxfer_len 256 MiB',
    v3(0, 'ioctl', { cmdLength: 6, cdb: INQUIRY, dir: 'from', length: 256 * MIB }),
    ['sg-max-dxfer-len'],
  );
  sg(
    'sg SG_IO dxfer_len 256 MiB with cmd_len 33',
    v3(0, 'ioctl', { cmdLength: 33, cdb: padded(INQUIRY, 33), dir: 'from', length: 256 * MIB }),
    ['sg-max-dxfer-len', 'sg-cdb-too-long'],
  );
  sg('sg SG_IO INQUIRY', v3(0, 'ioctl', { cmdLength: 6, cdb: INQUIRY, dir: 'from', length: 36 }), [
    'sg-interface-id',
    'sg-mmap-reserve-too-small',
    'sg-cdb-length',
    'sg-max-dxfer-len',
    'sg-cdb-too-long',
  ]);
  const write = (input: string, h: ReturnType<typeof v3>, count: number, tests: readonly string[]) =>
    add(
      sgRoot,
      h.line,
      input,
      { iface: 'sg', call: 'write', header: h.header, access: root, writeCount: count },
      tests,
    );
  write(
    'sg write(2) of 20 header bytes',
    v3(0, 'write', { cmdLength: 6, cdb: TUR, dir: 'none', length: 0 }, 'null', 20),
    20,
    ['sg-write-count', 'sg-v3-header-size'],
  );
  write(
    'sg write(2) of 60 header bytes',
    v3(0, 'write', { cmdLength: 6, cdb: TUR, dir: 'none', length: 0 }, 'null', 60),
    60,
    ['sg-write-count', 'sg-v3-header-size'],
  );
  write(
    "sg write(2) interface_id '\\0'",
    v3(0, 'write', { iid: 0, cmdLength: 6, cdb: TUR, dir: 'none', length: 0 }, 'null', 88),
    88,
    ['sg-interface-id', 'sg-v3-header-size'],
  );
  write(
    'sg write(2) TUR',
    v3(0, 'write', { cmdLength: 6, cdb: TUR, dir: 'none', length: 0 }, 'null', 88),
    88,
    ['sg-write-count', 'sg-v3-header-size', 'sg-interface-id'],
  );
  sgRoot.lines.push('reap 0');

  // sg, nobody, O_RDONLY: the header checks against EPERM.
  const sgNobody = new Script('sg headers (nobody)', (d) => [`open 0 ${d.sg} ro`], { unprivileged: true });
  const sgRo = (input: string, h: ReturnType<typeof v3>, tests: readonly string[]) =>
    add(sgNobody, h.line, input, { iface: 'sg', header: h.header, access: nobody }, tests);
  sgRo(
    'sg ro SG_IO vendor 0xc0 cmd_len 4 (EMSGSIZE before EPERM)',
    v3(0, 'ioctl', { cmdLength: 4, cdb: VENDOR, dir: 'from', length: 36 }),
    ['sg-cdb-length'],
  );
  sgRo(
    'sg ro SG_IO vendor 0xc0 cmd_len 40 (EPERM before > 32)',
    v3(0, 'ioctl', { cmdLength: 40, cdb: padded(VENDOR, 40), dir: 'from', length: 36 }),
    ['sg-cdb-too-long'],
  );
  sgRo(
    'sg ro SG_IO vendor 0xc0 dxfer_len 256 MiB (EPERM before 256 MiB)',
    v3(0, 'ioctl', { cmdLength: 6, cdb: VENDOR, dir: 'from', length: 256 * MIB }),
    ['sg-max-dxfer-len'],
  );

  // Block SG_IO, root.
  const blockRoot = new Script('block headers (root)', (d) => [`open 0 ${d.disk} rw`], {
    unprivileged: false,
  });
  const blk = (input: string, h: ReturnType<typeof v3>, tests: readonly string[]) =>
    add(blockRoot, h.line, input, { iface: 'block', header: h.header, access: root }, tests);
  blk(
    "disk SG_IO interface_id 'Q'",
    v3(0, 'ioctl', { iid: 0x51, cmdLength: 6, cdb: INQUIRY, dir: 'from', length: 36 }),
    ['block-interface-id'],
  );
  blk(
    'disk SG_IO dxfer_len 0xffffffff',
    v3(0, 'ioctl', { cmdLength: 6, cdb: INQUIRY, dir: 'from', length: 0xffff_ffff }),
    ['block-max-hw-sectors'],
  );
  blk(
    'disk SG_IO 512 bytes, direction UNKNOWN',
    v3(0, 'ioctl', { cmdLength: 6, cdb: INQUIRY, dir: 'unknown', length: 512 }),
    ['block-direction'],
  );
  blk(
    'disk SG_IO 512 bytes, direction NONE',
    v3(0, 'ioctl', { cmdLength: 6, cdb: INQUIRY, dir: 'none', length: 512 }),
    ['block-direction'],
  );
  blk(
    'disk SG_IO cmd_len 33',
    v3(0, 'ioctl', { cmdLength: 33, cdb: padded(INQUIRY, 33), dir: 'from', length: 36 }),
    ['block-cdb-too-long'],
  );
  blk('disk SG_IO cmd_len 5', v3(0, 'ioctl', { cmdLength: 5, cdb: INQUIRY, dir: 'from', length: 36 }), [
    'block-cdb-too-short',
  ]);
  blk('disk SG_IO cmdp NULL', v3(0, 'ioctl', { cmdLength: 6, cdb: null, dir: 'from', length: 36 }), [
    'block-cdb-fault',
  ]);
  blk('disk SG_IO INQUIRY', v3(0, 'ioctl', { cmdLength: 6, cdb: INQUIRY, dir: 'from', length: 36 }), [
    'block-interface-id',
    'block-max-hw-sectors',
    'block-direction',
    'block-cdb-too-long',
    'block-cdb-too-short',
    'block-cdb-fault',
  ]);

  // Block SG_IO, nobody, O_RDONLY: EIO and EMSGSIZE come before EPERM.
  const blockNobody = new Script('block headers (nobody)', (d) => [`open 0 ${d.disk} ro`], {
    unprivileged: true,
    blockNode: true,
  });
  const blkRo = (input: string, h: ReturnType<typeof v3>, tests: readonly string[]) =>
    add(blockNobody, h.line, input, { iface: 'block', header: h.header, access: nobody }, tests);
  blkRo(
    'disk ro SG_IO vendor 0xc0 dxfer_len 0xffffffff (EIO before EPERM)',
    v3(0, 'ioctl', { cmdLength: 6, cdb: VENDOR, dir: 'from', length: 0xffff_ffff }),
    ['block-max-hw-sectors'],
  );
  blkRo(
    'disk ro SG_IO vendor 0xc0 cmd_len 5 (EMSGSIZE before EPERM)',
    v3(0, 'ioctl', { cmdLength: 5, cdb: VENDOR, dir: 'from', length: 36 }),
    ['block-cdb-too-short'],
  );

  // bsg, root.
  const bsgRoot = new Script('bsg headers (root)', (d) => [`open 0 ${d.bsg} rw`], { unprivileged: false });
  const bsg = (input: string, h: ReturnType<typeof v4>, tests: readonly string[]) =>
    add(bsgRoot, h.line, input, { iface: 'bsg', header: h.header, access: root }, tests);
  bsg("bsg guard 'S'", v4(0, { guard: 0x53, requestLength: 6, request: INQUIRY, din: 36 }), ['bsg-guard']);
  bsg('bsg protocol 1', v4(0, { protocol: 1, requestLength: 6, request: INQUIRY, din: 36 }), [
    'bsg-protocol',
  ]);
  bsg('bsg subprotocol 1', v4(0, { subprotocol: 1, requestLength: 6, request: INQUIRY, din: 36 }), [
    'bsg-protocol',
  ]);
  bsg('bsg dout and din 512', v4(0, { requestLength: 6, request: INQUIRY, dout: 512, din: 512 }), [
    'bsg-bidi',
  ]);
  bsg(
    'bsg dout and din 512 with request_len 40',
    v4(0, { requestLength: 40, request: padded(INQUIRY, 40), dout: 512, din: 512 }),
    ['bsg-bidi', 'bsg-request-len'],
  );
  bsg('bsg request_len 33', v4(0, { requestLength: 33, request: padded(INQUIRY, 33), din: 36 }), [
    'bsg-request-len',
  ]);
  bsg(
    'bsg request_len 0x10006 (kept as 16 bits: 6)',
    v4(0, { requestLength: 0x1_0006, request: INQUIRY, din: 36 }),
    ['bsg-request-len'],
  );
  bsg('bsg request_len 0 (no minimum)', v4(0, { requestLength: 0, request: null }), [
    'bsg-request-len',
    'bsg-cdb-fault',
  ]);
  bsg('bsg request NULL', v4(0, { requestLength: 6, request: null, din: 36 }), ['bsg-cdb-fault']);
  bsg('bsg INQUIRY', v4(0, { requestLength: 6, request: INQUIRY, din: 36 }), [
    'bsg-guard',
    'bsg-protocol',
    'bsg-bidi',
    'bsg-request-len',
    'bsg-cdb-fault',
  ]);

  // bsg, nobody, O_RDONLY: the length and protocol checks come before EPERM.
  const bsgNobody = new Script('bsg headers (nobody)', (d) => [`open 0 ${d.bsg} ro`], { unprivileged: true });
  const bsgRo = (input: string, h: ReturnType<typeof v4>, tests: readonly string[]) =>
    add(bsgNobody, h.line, input, { iface: 'bsg', header: h.header, access: nobody }, tests);
  bsgRo(
    'bsg ro vendor 0xc0 request_len 40 (EINVAL before EPERM)',
    v4(0, { requestLength: 40, request: padded(VENDOR, 40) }),
    ['bsg-request-len'],
  );
  bsgRo(
    'bsg ro vendor 0xc0 protocol 1 (EINVAL before EPERM)',
    v4(0, { protocol: 1, requestLength: 6, request: VENDOR }),
    ['bsg-protocol'],
  );

  // SCSI_IOCTL_SEND_COMMAND and CDROM_SEND_PACKET on sg, root, O_RDWR.
  const ioctls = new Script(
    'SEND_COMMAND / CDROM_SEND_PACKET (root)',
    (d) => [`open 0 ${d.sg} rw`, `open 1 ${d.disk} rw`],
    {
      unprivileged: false,
    },
  );
  const send = (
    input: string,
    inLength: number,
    outLength: number,
    cdb: string,
    tests: readonly string[],
  ) => {
    const header: ScsiIoctlCommandFields = {
      kind: 'scsi_ioctl_command',
      inLength,
      outLength,
      data: Uint8Array.from(Buffer.from(cdb, 'hex')),
    };
    add(
      ioctls,
      `sendcmd 0 ${inLength} ${outLength} ${cdb}`,
      input,
      { iface: 'sg', call: 'send-command', header, access: root },
      tests,
    );
  };
  send('sg SEND_COMMAND inlen 4097', 4097, 0, INQUIRY, ['send-command-length']);
  send('sg SEND_COMMAND outlen 4097', 0, 4097, INQUIRY, ['send-command-length']);
  send('sg SEND_COMMAND INQUIRY outlen 36', 0, 36, INQUIRY, ['send-command-length']);
  const packet = (
    input: string,
    slot: number,
    dataDirection: number,
    bufferLength: number,
    cmd: string,
    tests: readonly string[],
  ) => {
    const header: CdromGenericCommandFields = {
      kind: 'cdrom_generic_command',
      cmd: Uint8Array.from(Buffer.from(cmd, 'hex')),
      dataDirection,
      bufferLength,
    };
    add(
      ioctls,
      `cdrom ${slot} ${dataDirection} ${bufferLength} ${cmd}`,
      input,
      { iface: slot === 0 ? 'sg' : 'block', call: 'cdrom-packet', header, access: root },
      tests,
    );
  };
  packet('sg CDROM_SEND_PACKET data_direction 7', 0, 7, 0, INQUIRY_12, ['cdrom-packet-direction']);
  packet('sg CDROM_SEND_PACKET UNKNOWN with 512 bytes', 0, 0, 512, INQUIRY_12, [
    'cdrom-packet-direction',
    'block-direction',
  ]);
  packet('sg CDROM_SEND_PACKET NONE with 512 bytes', 0, 3, 512, INQUIRY_12, ['block-direction']);
  packet('sg CDROM_SEND_PACKET INQUIRY READ 36', 0, 2, 36, INQUIRY_12, [
    'cdrom-packet-direction',
    'block-direction',
  ]);
  packet('disk CDROM_SEND_PACKET READ 0xffffffff bytes', 1, 2, 0xffff_ffff, INQUIRY_12, [
    'block-max-hw-sectors',
  ]);

  // What the two ioctls return once the device answered: the status, learned with SG_IO.
  const completion = (call: 'send-command' | 'cdrom-packet', cdb: string, input: string) => {
    const index = ioctls.lines.length;
    ioctls.lines.push(
      `v3 0 ioctl 0x53 12 ${cdb} none 0 0 0 null`,
      call === 'send-command' ? `sendcmd 0 0 0 ${cdb}` : `cdrom 0 3 0 ${cdb}`,
    );
    const rule = call === 'send-command' ? 'send-command-status' : 'cdrom-packet-status';
    const statusOf = (batch: readonly ProbeLine[]) => Number(batch[index]?.status ?? -1);
    const describe = (result: number | 'EIO') => (result === 'EIO' ? 'EIO' : `returns ${result}`);
    const known = cdb === READ_CD_12 ? 2 : 0;
    collect.add(
      ioctls.batch,
      index + 1,
      {
        input,
        rules: [{ id: rule, fires: call === 'send-command' || known !== 0 }],
        predicted: describe(ioctlCompletionResult(call, known)),
      },
      (line, batch) => ({
        observed: line.ret < 0 ? (line.errno ?? 'EOTHER') : `returns ${line.ret}`,
        predicted: describe(ioctlCompletionResult(call, statusOf(batch))),
      }),
    );
  };
  completion('send-command', READ_CD_12, 'sg SEND_COMMAND READ CD (scsi_debug: CHECK CONDITION)');
  completion('send-command', INQUIRY_12, 'sg SEND_COMMAND INQUIRY (GOOD)');
  completion('cdrom-packet', READ_CD_12, 'sg CDROM_SEND_PACKET READ CD (scsi_debug: CHECK CONDITION)');
  completion('cdrom-packet', INQUIRY_12, 'sg CDROM_SEND_PACKET INQUIRY (GOOD)');
  return collect.cases;
}

/** The `headers` area. */
export const headersArea: ConformanceArea<BatchedProbe> = {
  name: 'headers',
  title: 'header and CDB-length checks per path, in the kernel order (predictSubmission)',
  rules: RULES,
  plan,
  run: runBatchedCases,
};
