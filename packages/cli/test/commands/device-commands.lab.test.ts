/**
 * The device commands against the real drivers (scsi_debug in the lab), field by field against sg3_utils on the same device: `inquiry` vs sg_inq,
 * `readcap` vs sg_readcap, `inquiry --vpd 0x83/0xb0` vs sg_vpd; data written by `sgv4 dd` read
 * back by sg_dd and the reverse, in every --mode and at --qd 16; faults from scsi_debug as the
 * right exit statuses; the permission model for an unprivileged caller (through the real binary,
 * in a process of its own). The other cases run the command line in-process: starting node under
 * TCG costs seconds per run, and the host tests already drive the real binary (device-commands.test.ts).
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getScsiDebugParam,
  getSgAllowDio,
  labDeviceNodes,
  runUnprivileged,
  setScsiDebugParam,
  setSgAllowDio,
} from '@sgv4/lab';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';
import { runProgram, SGV4_BIN } from '../support/run-binary.js';

/** `sgv4 args...` in this process (see the module comment). */
const runSgv4 = runCaptured;

const nodes = labDeviceNodes();
const sg = nodes.sg[0] as string;
const bsg = nodes.bsg[0] as string;
const block = nodes.block[0] as string;
const dir = mkdtempSync(join(tmpdir(), 'sgv4-cli-lab-'));
chmodSync(dir, 0o755); // the unprivileged runs read their payload from here
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function json(args: readonly string[]): Promise<Record<string, unknown>> {
  const run = await runSgv4([...args, '--json']);
  expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

async function sg3(program: string, args: readonly string[]): Promise<string> {
  const run = await runProgram(program, args);
  expect(run.status, `${program} ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

/** `key=value` pairs of sg_inq's standard INQUIRY lines (e.g. `PQual=0  PDT=0 ...`). */
function sgInqFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of text.matchAll(/\[?([A-Za-z0-9_]+)=(0x[0-9a-f]+|\d+)\]?/g))
    fields[m[1] as string] = m[2] as string;
  for (const [label, key] of [
    ['Vendor identification', 'vendor'],
    ['Product identification', 'product'],
    ['Product revision level', 'revision'],
    ['Unit serial number', 'serial'],
  ] as const) {
    const m = new RegExp(`${label}: (.*)$`, 'm').exec(text);
    if (m) fields[key] = (m[1] as string).trim();
  }
  return fields;
}

describe('sgv4 list', () => {
  it('pairs the nodes of the lab disk and agrees with sg_inq on who it is', async () => {
    const { devices } = (await json(['list'])) as {
      devices: {
        nodes: Record<string, string>;
        vendor: string;
        product: string;
        revision: string;
        serial?: string;
      }[];
    };
    const disk = devices.find((d) => d.nodes.sg === sg);
    const theirs = sgInqFields(await sg3('sg_inq', [sg]));
    expect(disk).toMatchObject({
      nodes: { sg, bsg, block },
      vendor: theirs.vendor,
      product: theirs.product,
      revision: theirs.revision,
      serial: theirs.serial,
    });
  });
});

describe.each([
  ['sg', sg],
  ['bsg', bsg],
  ['block', block],
])('sgv4 inquiry %s field by field against sg_inq', (_kind, device) => {
  it('standard INQUIRY', async () => {
    const ours = await json(['inquiry', device]);
    const theirs = sgInqFields(await sg3('sg_inq', [device]));
    const b = (v: unknown) => (v ? '1' : '0');
    expect({
      PQual: String(ours.peripheralQualifier),
      PDT: String(ours.peripheralType),
      RMB: b(ours.removable),
      version: `0x${(ours.version as number).toString(16).padStart(2, '0')}`,
      NormACA: b(ours.normaca),
      HiSUP: b(ours.hisup),
      Resp_data_format: String(ours.responseDataFormat),
      SCCS: b(ours.sccs),
      ACC: b(ours.acc),
      TPGS: String(ours.tpgs),
      '3PC': b(ours.thirdPartyCopy),
      Protect: b(ours.protect),
      EncServ: b(ours.encserv),
      MultiP: b(ours.multip),
      CmdQue: b(ours.cmdque),
      vendor: ours.vendor,
      product: ours.product,
      revision: ours.revision,
      serial: ours.serial,
      length: String(ours.length),
    }).toEqual({
      PQual: theirs.PQual,
      PDT: theirs.PDT,
      RMB: theirs.RMB,
      version: theirs.version,
      NormACA: theirs.NormACA,
      HiSUP: theirs.HiSUP,
      Resp_data_format: theirs.Resp_data_format,
      SCCS: theirs.SCCS,
      ACC: theirs.ACC,
      TPGS: theirs.TPGS,
      '3PC': theirs['3PC'],
      Protect: theirs.Protect,
      EncServ: theirs.EncServ,
      MultiP: theirs.MultiP,
      CmdQue: theirs.CmdQue,
      vendor: theirs.vendor,
      product: theirs.product,
      revision: theirs.revision,
      serial: theirs.serial,
      length: theirs.length,
    });
  });
});

/** sg_readcap's fields: Last LBA, Number of logical blocks, Logical block length, Device size, and the (16) extras. */
function sgReadcapFields(text: string): Record<string, string> {
  const f: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_ ]+?)=(0x[0-9a-f]+|\d+)/g))
    f[(m[1] as string).trim()] = m[2] as string;
  const size = /Device size: (\d+) bytes/.exec(text);
  if (size) f.bytes = size[1] as string;
  return f;
}

describe('sgv4 readcap field by field against sg_readcap', () => {
  it.each([
    [sg, false],
    [block, false],
    [bsg, true],
  ])('%s (--16: %s)', async (device, sixteen) => {
    const ours = await json(['readcap', device, ...(sixteen ? ['--16'] : [])]);
    const theirs = sgReadcapFields(await sg3('sg_readcap', [...(sixteen ? ['--16'] : []), device]));
    expect(String(ours.lastLba)).toBe(theirs['Last LBA']);
    expect(String(ours.blocks)).toBe(theirs['Number of logical blocks']);
    expect(String(ours.blockSize)).toBe(theirs['Logical block length']);
    expect(String(ours.bytes)).toBe(theirs.bytes);
    if (sixteen) {
      expect(ours.source).toBe('READ CAPACITY(16)');
      expect(ours.protectionEnabled ? '1' : '0').toBe(theirs.prot_en);
      expect(String(ours.protectionType)).toBe(theirs.p_type);
      expect(ours.thinProvisioned ? '1' : '0').toBe(theirs.lbpme);
      expect(ours.unmappedReadsZero ? '1' : '0').toBe(theirs.lbprz);
      expect(String(ours.logicalPerPhysicalExponent)).toBe(
        theirs['Logical blocks per physical block exponent'],
      );
      expect(String(ours.lowestAlignedLba)).toBe(theirs['Lowest aligned LBA']);
    }
  });
});

interface SgVpdDesignator {
  association: string;
  type: string;
  codeSet: string;
  value: string;
}

/** The designators sg_vpd --page=0x83 prints, with their values normalised to ours. */
function sgVpd83(text: string): SgVpdDesignator[] {
  const out: SgVpdDesignator[] = [];
  let association = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^ {2}Addressed logical unit:/.test(line)) association = 'logical unit';
    else if (/^ {2}Target port:/.test(line)) association = 'target port';
    else if (/^ {2}Target device that contains addressed lu:/.test(line)) association = 'target device';
    const d = /designator type: (.*),\s+code set: (.*)$/.exec(line);
    if (!d) continue;
    const entry: SgVpdDesignator = {
      association,
      type: d[1] as string,
      codeSet: (d[2] as string).trim().toLowerCase(),
      value: '',
    };
    for (let j = i + 1; j < lines.length && !/designator type:|^ {2}\S/.test(lines[j] as string); j++) {
      const v = (lines[j] as string).trim();
      if (/^0x[0-9a-f]+$/i.test(v)) entry.value = v.slice(2).toLowerCase();
      else if (v.startsWith('vendor id:')) entry.value = v.slice(10).trim();
      else if (v.startsWith('vendor specific:')) entry.value += `|${v.slice(16).trim()}`;
      else if (/^(Relative target port|Target port group|Logical unit group): 0x/.test(v))
        entry.value = String(Number.parseInt(v.split('0x')[1] as string, 16));
      else if (v === 'SCSI name string:') entry.value = (lines[j + 1] as string).trim();
    }
    out.push(entry);
  }
  return out;
}

describe('sgv4 inquiry --vpd field by field against sg_vpd', () => {
  it.each([sg, bsg])(
    'VPD 0x83 on %s: every designator, association, type, code set and value',
    async (device) => {
      const ours = (await json(['inquiry', device, '--vpd', '0x83'])).identifiers as {
        association: string;
        typeName: string;
        codeSet: string;
        value: string;
      }[];
      const theirs = sgVpd83(await sg3('sg_vpd', ['--page=0x83', device]));
      expect(theirs.length).toBeGreaterThan(0);
      const normalise = (d: (typeof ours)[number]): SgVpdDesignator => ({
        association: d.association,
        type: d.typeName,
        codeSet: d.codeSet,
        value:
          d.typeName === 'T10 vendor identification'
            ? `${d.value.slice(0, 8).trim()}|${d.value.slice(8).trim()}`
            : /Relative target port|Target port group|Logical unit group/.test(d.typeName)
              ? String(Number.parseInt(d.value, 16))
              : d.value,
      });
      expect(ours.map(normalise)).toEqual(theirs);
    },
  );

  it(`VPD 0xb0 on ${block}: the Block Limits fields`, async () => {
    const ours = (await json(['inquiry', block, '--vpd', '0xb0'])).fields as Record<string, number>;
    const text = await sg3('sg_vpd', ['--page=0xb0', block]);
    const field = (label: string): number => {
      const m = new RegExp(`${label.replace(/[()]/g, '\\$&')}: (0x[0-9a-f]+|\\d+)`).exec(text);
      if (!m) throw new Error(`sg_vpd has no '${label}'`);
      return Number(m[1]);
    };
    expect({
      wsnz: ours.wsnz,
      maximumCompareAndWriteLength: ours.maximumCompareAndWriteLength,
      optimalTransferLengthGranularity: ours.optimalTransferLengthGranularity,
      maximumTransferLength: ours.maximumTransferLength,
      optimalTransferLength: ours.optimalTransferLength,
      maximumPrefetchLength: ours.maximumPrefetchLength,
      maximumUnmapLbaCount: ours.maximumUnmapLbaCount,
      maximumUnmapBlockDescriptorCount: ours.maximumUnmapBlockDescriptorCount,
      optimalUnmapGranularity: ours.optimalUnmapGranularity,
      maximumWriteSameLength: Number(ours.maximumWriteSameLength),
    }).toEqual({
      wsnz: field('Write same non-zero (WSNZ)'),
      maximumCompareAndWriteLength: field('Maximum compare and write length'),
      optimalTransferLengthGranularity: field('Optimal transfer length granularity'),
      maximumTransferLength: field('Maximum transfer length'),
      optimalTransferLength: field('Optimal transfer length'),
      maximumPrefetchLength: field('Maximum prefetch transfer length'),
      maximumUnmapLbaCount: field('Maximum unmap LBA count'),
      maximumUnmapBlockDescriptorCount: field('Maximum unmap block descriptor count'),
      optimalUnmapGranularity: field('Optimal unmap granularity'),
      maximumWriteSameLength: field('Maximum write same length'),
    });
  });
});

describe('data integrity: sgv4 dd and sg_dd, both ways', () => {
  const BLOCKS = 2048; // 1 MiB of 512-byte blocks
  const SEEK = 4096;

  it.each([
    ['indirect', sg, '1'],
    ['indirect', bsg, '16'],
    ['indirect', block, '16'],
    ['mmap', sg, '4'],
    ['indirect', sg, '16'],
  ])(
    'sgv4 dd --mode %s to %s at --qd %s, read back by sg_dd: same checksum, nothing extra',
    async (mode, device, qd) => {
      const src = join(dir, `in-${mode}-${qd}.bin`);
      writeFileSync(src, Buffer.from(randomData(BLOCKS * 512)));
      // Sentinels around the range: they must survive.
      await runSgv4(['dd', 'if=/dev/zero', `of=${device}`, 'bs=512', 'count=1', `seek=${SEEK - 1}`]);
      await runSgv4(['dd', 'if=/dev/zero', `of=${device}`, 'bs=512', 'count=1', `seek=${SEEK + BLOCKS}`]);
      const out = await json([
        'dd',
        `if=${src}`,
        `of=${device}`,
        'bs=512',
        `seek=${SEEK}`,
        '--qd',
        qd,
        '--mode',
        mode,
      ]);
      expect(out).toMatchObject({ recordsIn: BLOCKS, recordsOut: BLOCKS, bytes: BLOCKS * 512 });
      const back = join(dir, `back-${mode}-${qd}.bin`);
      const theirs = await runProgram('sg_dd', [
        `if=${sg}`,
        `of=${back}`,
        'bs=512',
        `count=${BLOCKS + 2}`,
        `skip=${SEEK - 1}`,
      ]);
      expect(theirs.status, theirs.stderr).toBe(0);
      const got = readFileSync(back);
      expect(got.length).toBe((BLOCKS + 2) * 512);
      expect(got.subarray(0, 512).every((b) => b === 0)).toBe(true);
      expect(got.subarray((BLOCKS + 1) * 512).every((b) => b === 0)).toBe(true);
      expect(
        createHash('sha256')
          .update(got.subarray(512, (BLOCKS + 1) * 512))
          .digest('hex'),
      ).toBe(sha256(src));
    },
  );

  it.each([
    ['indirect', sg, '16'],
    ['indirect', bsg, '1'],
    ['mmap', sg, '16'],
  ])('sg_dd writes, sgv4 dd --mode %s from %s at --qd %s reads: same checksum', async (mode, device, qd) => {
    const src = join(dir, `sgdd-${mode}-${qd}.bin`);
    writeFileSync(src, Buffer.from(randomData(BLOCKS * 512)));
    const theirs = await runProgram('sg_dd', [`if=${src}`, `of=${sg}`, 'bs=512', `seek=${SEEK}`]);
    expect(theirs.status, theirs.stderr).toBe(0);
    const back = join(dir, `sgv4-back-${mode}-${qd}.bin`);
    const out = await json([
      'dd',
      `if=${device}`,
      `of=${back}`,
      'bs=512',
      `count=${BLOCKS}`,
      `skip=${SEEK}`,
      '--qd',
      qd,
      '--mode',
      mode,
    ]);
    expect(out).toMatchObject({ recordsIn: BLOCKS, recordsOut: BLOCKS });
    expect(sha256(back)).toBe(sha256(src));
  });

  it('sg to bsg, device to device through two rings (sg write()/readv() consumer at 4 KiB QD16): reads back equal', async () => {
    const src = join(dir, 'd2d.bin');
    writeFileSync(src, Buffer.from(randomData(BLOCKS * 512)));
    expect((await runProgram('sg_dd', [`if=${src}`, `of=${sg}`, 'bs=512', `seek=${SEEK}`])).status).toBe(0);
    const TO = SEEK + 4 * BLOCKS;
    const out = await json([
      'dd',
      `if=${sg}`,
      `of=${bsg}`,
      'bs=512',
      'bpt=8',
      `skip=${SEEK}`,
      `seek=${TO}`,
      `count=${BLOCKS}`,
      '--qd',
      '16',
    ]);
    expect(out).toMatchObject({ recordsIn: BLOCKS, recordsOut: BLOCKS, commands: 2 * (BLOCKS / 8) });
    const back = join(dir, 'd2d-back.bin');
    expect(
      (await runProgram('sg_dd', [`if=${sg}`, `of=${back}`, 'bs=512', `skip=${TO}`, `count=${BLOCKS}`]))
        .status,
    ).toBe(0);
    expect(sha256(back)).toBe(sha256(src));
  });

  it('--mode dio on sg with allow_dio=1 moves data directly (no incomplete DIO), and it is intact', async () => {
    const before = getSgAllowDio();
    setSgAllowDio(true);
    try {
      const src = join(dir, 'dio.bin');
      writeFileSync(src, Buffer.from(randomData(BLOCKS * 512)));
      const w = await json([
        'dd',
        `if=${src}`,
        `of=${sg}`,
        'bs=512',
        `seek=${SEEK}`,
        '--mode',
        'dio',
        '--qd',
        '16',
      ]);
      expect(w.dioIncomplete).toBe(0);
      const back = join(dir, 'dio-back.bin');
      const r = await json([
        'dd',
        `if=${sg}`,
        `of=${back}`,
        'bs=512',
        `count=${BLOCKS}`,
        `skip=${SEEK}`,
        '--mode',
        'dio',
      ]);
      expect(r.dioIncomplete).toBe(0);
      expect(sha256(back)).toBe(sha256(src));
    } finally {
      setSgAllowDio(before);
    }
    // With allow_dio=0 the driver silently copies: the report says how often.
    const out = await json([
      'dd',
      `if=${sg}`,
      'of=/dev/null',
      'bs=512',
      'bpt=8',
      'count=64',
      '--mode',
      'dio',
    ]);
    expect(out.dioIncomplete).toBe(8);
  });
});

/** `n` random bytes (getRandomValues fills at most 64 KiB at a time). */
function randomData(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536)
    globalThis.crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

describe('faults from scsi_debug as sg3_utils exit statuses', () => {
  const opts = Number(getScsiDebugParam('opts'));
  const everyNth = Number(getScsiDebugParam('every_nth'));
  afterAll(() => {
    setScsiDebugParam('opts', opts);
    setScsiDebugParam('every_nth', everyNth);
  });

  it('a medium error (opts=2) is exit status 3/18 with the decoded sense; the block next to it reads fine', async () => {
    setScsiDebugParam('opts', opts | 0x2);
    try {
      const bad = await runSgv4(['read', sg, '--lba', '0x1234', '--count', '1', '--json']);
      expect([3, 18]).toContain(bad.status);
      const error = (JSON.parse(bad.stdout) as { error: { name: string; message: string; status: number } })
        .error;
      expect(error.name).toBe('DeviceError');
      expect(error.message).toMatch(/Medium Error: Unrecovered read error/);
      expect(bad.stderr).toMatch(/^sgv4 read: CHECK CONDITION: Medium Error/);
      const good = await runSgv4([
        'read',
        sg,
        '--lba',
        '0x1233',
        '--count',
        '1',
        '--out',
        join(dir, 'ok.bin'),
      ]);
      expect(good.status).toBe(0);
    } finally {
      setScsiDebugParam('opts', opts);
    }
  });

  it('dd through the ring: a medium error mid-copy (opts=2) is exit status 3/18 with the decoded sense', async () => {
    setScsiDebugParam('opts', opts | 0x2);
    try {
      // Transfers of 8 blocks from 4608 (0x1200) at QD16: the one holding 0x1234 fails, the others complete.
      const run = await runSgv4([
        'dd',
        `if=${sg}`,
        `of=${join(dir, 'medium.bin')}`,
        'bs=512',
        'bpt=8',
        'skip=4608',
        'count=128',
        '--qd',
        '16',
      ]);
      expect([3, 18]).toContain(run.status);
      expect(run.stderr).toMatch(/CHECK CONDITION: Medium Error: Unrecovered read error/);
    } finally {
      setScsiDebugParam('opts', opts);
    }
  });

  it('raw: a command scsi_debug drops (opts=4) ends GOOD with DID_TIME_OUT in the kernel: exit status 33, not 0', async () => {
    setScsiDebugParam('opts', opts | 0x4);
    setScsiDebugParam('every_nth', 1);
    try {
      const run = await runSgv4([
        'raw',
        sg,
        '00',
        '00',
        '00',
        '00',
        '00',
        '00',
        '--timeout',
        '1000',
        '--json',
      ]);
      expect(run.status).toBe(33);
      const error = (JSON.parse(run.stdout) as { error: { name: string; timeoutMs: number } }).error;
      expect(error).toMatchObject({ name: 'TimeoutError', timeoutMs: 1000 });
      expect(run.stderr).toMatch(/timed out after 1000 ms/);
    } finally {
      setScsiDebugParam('every_nth', everyNth);
      setScsiDebugParam('opts', opts);
    }
  });

  it('raw: CHECK CONDITION is reported, not thrown, with the sense key category', async () => {
    const run = await runSgv4(['raw', bsg, '12', '01', 'fe', '00', '60', '00', '--in', '96', '--json']);
    expect(run.status).toBe(5);
    expect(JSON.parse(run.stdout)).toMatchObject({
      statusName: 'CHECK CONDITION',
      category: 'SENSE',
      exitStatus: 5,
      senseLine: 'Illegal Request: Invalid field in cdb, cdb byte 2',
    });
  });
});

describe('permissions for an unprivileged caller (uid 65534, no capabilities)', () => {
  const sgv4 = (args: string[]) => runUnprivileged(process.execPath, [SGV4_BIN, ...args]);
  const write10 = ['2a', '00', '00', '00', '10', '00', '00', '00', '01', '00'];
  const payload = join(dir, 'block.bin');
  writeFileSync(payload, Buffer.alloc(512, 0x77), { mode: 0o644 });

  it('predicted: WRITE(10) on a read-only sg fd is refused before submission, with the fix in the message', async () => {
    const run = await sgv4(['raw', sg, ...write10, '--out', payload, '--readonly', '--json']);
    expect(run.status).toBe(51);
    const error = (JSON.parse(run.stdout) as { error: Record<string, unknown> }).error;
    expect(error).toMatchObject({ name: 'CommandPermissionError', code: 'EPERM', predicted: true });
    expect(String(error.explanation)).toMatch(/open the sg node O_RDWR/);
  });

  it('real: with the pre-check off the kernel answers EPERM, and it is the same error, explained', async () => {
    const run = await sgv4([
      'raw',
      bsg,
      ...write10,
      '--out',
      payload,
      '--readonly',
      '--no-permission-check',
      '--json',
    ]);
    expect(run.status).toBe(51);
    const error = (JSON.parse(run.stdout) as { error: Record<string, unknown> }).error;
    expect(error).toMatchObject({ name: 'CommandPermissionError', code: 'EPERM', predicted: false });
    expect(String(error.explanation)).toMatch(/write-safe/);
  });

  it('allowed: the same WRITE(10) on a read-write bsg node goes through (write-safe, writable)', async () => {
    const perm = await sgv4(['perm', ...write10, '--device', bsg, '--json']);
    expect(perm.status).toBe(0);
    expect(JSON.parse(perm.stdout)).toMatchObject({
      allowed: true,
      rule: 'write-safe-writable',
      capSysRawio: false,
    });
    const run = await sgv4(['raw', bsg, ...write10, '--out', payload]);
    expect(run.status, run.stderr).toBe(0);
  });
});
