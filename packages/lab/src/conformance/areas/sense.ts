/**
 * Conformance area `sense`: real sense data from scsi_debug's error injection, captured
 * with SG_IO on the sg node. Two rules: how many sense bytes sg's reply carries, with
 * DRIVER_SENSE and SG_INFO_CHECK (`sgSenseReply`, sg_new_read), and what the bytes say
 * (`decodeSense`, SPC-5 fixed and descriptor formats), judged by sg3_utils'
 * `sg_decode_sense` on the same bytes and by the fault scsi_debug was told to inject.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { buildCdb, decodeSense, hexByte, hexDigits, sgSenseReply } from '@sgv4/core';
import { labProbe } from '../../guest/probes.js';
import { getScsiDebugParam, setScsiDebugParam } from '../../guest/scsi-debug-sysfs.js';
import { type BatchedProbe, CaseCollector, type ProbeBatch, runBatchedCases } from '../batches.js';
import type {
  ConformanceArea,
  ConformanceDevice,
  ConformanceRule,
  ObservedCase,
} from '../conformance-case.js';
import { type ProbeLine, runProbeOnce } from '../probe-runner.js';

const RULES: readonly ConformanceRule[] = [
  {
    id: 'sense-reply',
    kernelFunction: 'sg_new_read (drivers/scsi/sg.c)',
    summary:
      'sb_len_wr = min(8 + sense[7], 96, mx_sb_len) with DRIVER_SENSE on CHECK CONDITION; SG_INFO_CHECK on any status',
  },
  {
    id: 'sense-decode',
    kernelFunction: 'SPC-5 4.4 sense data (peer: sg3_utils sg_decode_sense)',
    summary: 'sense key, ASC/ASCQ and INFORMATION of fixed and descriptor sense',
    kind: 'value',
  },
];

/** One capture: scsi_debug knobs, the CDB, and what the injection must produce. */
interface Capture {
  readonly name: string;
  readonly knobs: Readonly<Record<string, number>>;
  readonly cdb: Uint8Array;
  readonly inLength: number;
  readonly maxSenseLength: number;
  /** The sense key, ASC and ASCQ (and INFORMATION) scsi_debug injects; absent for GOOD. */
  readonly expect?: { key: number; asc: number; ascq: number; information?: bigint };
  /** This capture's full sense comes from capture `senseFrom` (the same injection, mx_sb_len 96). */
  readonly senseFrom?: number;
}

const CAPTURES: readonly Capture[] = [
  {
    name: 'medium error at LBA 0x1234 (opts=2), fixed format',
    knobs: { opts: 2 },
    cdb: buildCdb('read10', { lba: 0x1234, transferLength: 1 }),
    inLength: 512,
    maxSenseLength: 96,
    expect: { key: 3, asc: 0x11, ascq: 0, information: 0x1234n },
  },
  {
    name: 'the same with mx_sb_len 8',
    knobs: { opts: 2 },
    cdb: buildCdb('read10', { lba: 0x1234, transferLength: 1 }),
    inLength: 512,
    maxSenseLength: 8,
    senseFrom: 0,
  },
  {
    name: 'medium error at LBA 0x1234, descriptor format (dsense=1)',
    knobs: { opts: 2, dsense: 1 },
    cdb: buildCdb('read16', { lba: 0x1234n, transferLength: 1 }),
    inLength: 512,
    maxSenseLength: 96,
    // scsi_debug 6.1 (resp_read_dt0) sets INFORMATION only in fixed format.
    expect: { key: 3, asc: 0x11, ascq: 0 },
  },
  {
    // 6.1 scsi_debug injects the transport error only on the deferred-response path
    // (schedule_resp), so delay must be non-zero.
    name: 'ABORTED COMMAND on every command (opts=0x10, every_nth=1, delay=1)',
    knobs: { delay: 1, opts: 0x10, every_nth: 1 },
    cdb: buildCdb('tur'),
    inLength: 0,
    maxSenseLength: 96,
    expect: { key: 0x0b, asc: 0x4b, ascq: 0x03 },
  },
  {
    name: 'invalid opcode 0xc7',
    knobs: {},
    cdb: Uint8Array.of(0xc7, 0, 0, 0, 0, 0),
    inLength: 0,
    maxSenseLength: 96,
    expect: { key: 5, asc: 0x20, ascq: 0 },
  },
  {
    name: 'LBA out of range',
    knobs: {},
    cdb: buildCdb('read10', { lba: 0xffff_fff0, transferLength: 1 }),
    inLength: 512,
    maxSenseLength: 96,
    expect: { key: 5, asc: 0x21, ascq: 0 },
  },
  {
    name: 'TEST UNIT READY, GOOD',
    knobs: {},
    cdb: buildCdb('tur'),
    inLength: 0,
    maxSenseLength: 96,
  },
];

/** The sense-capture-probe line as a probe line with parsed fields. */
function capture(device: ConformanceDevice, c: Capture): ProbeLine {
  const saved = Object.fromEntries(Object.keys(c.knobs).map((k) => [k, getScsiDebugParam(k)]));
  for (const [k, v] of Object.entries(c.knobs)) setScsiDebugParam(k, v);
  try {
    const args = [
      device.sg,
      String(c.inLength),
      String(c.maxSenseLength),
      ...Array.from(c.cdb, (b) => b.toString(16)),
    ];
    const text = runProbeOnce(labProbe('sense-capture-probe'), args).trim();
    const m =
      /^errno=(\d+) status=0x([0-9a-f]+) host=0x([0-9a-f]+) driver=0x([0-9a-f]+) info=0x([0-9a-f]+) sb_len=(\d+) sense=([0-9a-f]*)$/.exec(
        text,
      );
    if (!m) throw new Error(`sense-capture-probe printed '${text}'`);
    return {
      op: 'capture',
      ret: Number(m[1]) === 0 ? 0 : -1,
      errno: Number(m[1]) === 0 ? null : `errno ${m[1]}`,
      status: Number.parseInt(m[2] ?? '', 16),
      host: Number.parseInt(m[3] ?? '', 16),
      driver: Number.parseInt(m[4] ?? '', 16),
      info: Number.parseInt(m[5] ?? '', 16),
      sbLenWr: Number(m[6]),
      sense: m[7] ?? '',
    };
  } finally {
    // Restore in reverse: every_nth before opts, so nothing is injected in between.
    for (const k of Object.keys(saved).reverse()) setScsiDebugParam(k, saved[k] ?? '0');
  }
}

function describeReply(r: { senseBytesWritten: number; driverStatus: number; infoCheck: boolean }): string {
  return `sb_len_wr ${r.senseBytesWritten}, driver 0x${r.driverStatus.toString(16)}, info ${r.infoCheck ? 'CHECK' : '0'}`;
}

/** sg_decode_sense's "Sense key: X" and "Additional sense: Y" for the same bytes. */
function sg3Decode(sense: Uint8Array): string {
  const out = execFileSync(
    'sg_decode_sense',
    Array.from(sense, (b) => hexDigits(b)),
    { encoding: 'utf8' },
  );
  const key = /Sense key: (.+)$/m.exec(out)?.[1]?.trim() ?? '';
  const asc = (/^Additional sense: (.+)$/m.exec(out)?.[1] ?? out.split('\n')[1] ?? '').trim();
  return `${key} / ${asc}`;
}

function plan(_device: ConformanceDevice) {
  const collect = new CaseCollector();
  const batch: ProbeBatch = {
    name: 'sense captures',
    execute: (device) => CAPTURES.map((c) => capture(device, c)),
  };
  CAPTURES.forEach((c, index) => {
    const check = c.expect !== undefined || c.senseFrom !== undefined;
    collect.add(
      batch,
      index,
      {
        input: `${c.name}: SG_IO, mx_sb_len ${c.maxSenseLength}`,
        rules: [{ id: 'sense-reply', fires: check }],
        predicted: check
          ? 'CHECK CONDITION with sense'
          : describeReply({ senseBytesWritten: 0, driverStatus: 0, infoCheck: false }),
      },
      (line, lines): ObservedCase => {
        const source = c.senseFrom === undefined ? line : lines[c.senseFrom];
        const full = Uint8Array.from(Buffer.from(String(source?.sense ?? ''), 'hex'));
        const reply = sgSenseReply({
          status: Number(line.status),
          hostStatus: Number(line.host),
          sense: full,
          maxSenseLength: c.maxSenseLength,
        });
        return {
          predicted: describeReply(reply),
          observed:
            line.ret < 0
              ? (line.errno ?? 'EOTHER')
              : describeReply({
                  senseBytesWritten: Number(line.sbLenWr),
                  driverStatus: Number(line.driver),
                  infoCheck: (Number(line.info) & 1) !== 0,
                }),
        };
      },
    );
    const expect = c.expect;
    if (expect === undefined) return;
    collect.add(
      batch,
      index,
      {
        input: `${c.name}: decodeSense against sg_decode_sense`,
        rules: [{ id: 'sense-decode', fires: true }],
        predicted: 'decodeSense',
      },
      (line): ObservedCase => {
        const sense = Uint8Array.from(Buffer.from(String(line.sense ?? ''), 'hex'));
        const ours = decodeSense(sense);
        const got = [ours.senseKey, ours.asc, ours.ascq];
        const want = [expect.key, expect.asc, expect.ascq];
        const info = expect.information === undefined || ours.information === expect.information;
        const injected = got.every((v, i) => v === want[i]) && info;
        const hex = (v: number | undefined) => hexByte(v ?? 0);
        return {
          predicted:
            `${ours.senseKeyName} / ${ours.ascText}` +
            (injected
              ? ''
              : ` (key ${hex(got[0])} asc ${hex(got[1])} ascq ${hex(got[2])}, not the injected fault)`),
          observed: sg3Decode(sense),
        };
      },
    );
  });
  return collect.cases;
}

/** The `sense` area. */
export const senseArea: ConformanceArea<BatchedProbe> = {
  name: 'sense',
  title: 'sense data from scsi_debug error injection (sgSenseReply, decodeSense)',
  rules: RULES,
  plan,
  run: runBatchedCases,
};
