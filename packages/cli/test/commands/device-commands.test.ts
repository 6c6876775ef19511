/**
 * The device commands through the real `sgv4` binary on the host, against the embedded target
 * (`emu:`, no device, no guest): --json documents parsed, exit statuses, bad arguments.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServedIscsiTarget, serveIscsiTarget } from '@sgv4/iscsi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSgv4 } from '../support/run-binary.js';

const dir = mkdtempSync(join(tmpdir(), 'sgv4-device-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function json(args: readonly string[]): Promise<Record<string, unknown>> {
  const run = await runSgv4([...args, '--json']);
  expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

// Each case starts node and the CLI: give a loaded machine room.
describe('sgv4 device commands on emu: (real binary)', { timeout: 60_000 }, () => {
  it('inquiry: identity, serial and identifiers', async () => {
    const inq = await json(['inquiry', 'emu:']);
    expect(inq).toMatchObject({
      peripheralType: 0,
      peripheralTypeName: 'disk',
      vendor: 'SGV4',
      product: 'EMBEDDED DISK',
      cmdque: true,
    });
    expect(String(inq.serial)).toMatch(/^\S+$/);
    expect((inq.identifiers as unknown[]).length).toBeGreaterThan(0);
    expect(inq.vpdPages).toContain(0x83);
    const text = await runSgv4(['inquiry', 'emu:']);
    expect(text.stdout).toMatch(/Vendor identification: SGV4/);
  });

  it('inquiry --vpd: decoded pages, a raw page, and an unsupported one as ILLEGAL REQUEST (exit 5)', async () => {
    const vpd83 = await json(['inquiry', 'emu:', '--vpd', '0x83']);
    expect(vpd83).toMatchObject({ pageCode: 0x83, pageName: 'Device Identification' });
    expect((vpd83.identifiers as { typeName: string }[]).some((d) => d.typeName === 'NAA')).toBe(true);
    const b0 = await json(['inquiry', 'emu:', '--vpd', '176']);
    expect((b0.fields as Record<string, number>).maximumTransferLength).toBeTypeOf('number');
    const bad = await runSgv4(['inquiry', 'emu:', '--vpd', '0xfe']);
    expect(bad.status).toBe(5);
    expect(bad.stderr).toMatch(/^sgv4 inquiry: CHECK CONDITION: Illegal Request/);
  });

  it('readcap, tur, limits', async () => {
    expect(await json(['readcap', 'emu:?size=16M'])).toMatchObject({
      source: 'READ CAPACITY(10)',
      lastLba: '32767',
      blocks: '32768',
      blockSize: 512,
      bytes: '16777216',
    });
    expect(await json(['readcap', 'emu:?size=16M&lbs=4096', '--16'])).toMatchObject({
      source: 'READ CAPACITY(16)',
      blockSize: 4096,
      thinProvisioned: true,
    });
    const tur = await runSgv4(['tur', 'emu:']);
    expect([tur.status, tur.stdout.trim()]).toEqual([0, 'emu:: ready']);
    const limits = await json(['limits', 'emu:']);
    expect(String(limits.source)).toMatch(/@sgv4\/target/);
    expect(limits.queueDepth).toBe(64);
  });

  it('dd copies a file through the device and back within one run; read and write', async () => {
    const src = join(dir, 'src.bin');
    const data = Buffer.alloc(64 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    writeFileSync(src, data);
    const out = await json(['dd', `if=${src}`, 'of=emu:?size=1M', 'bs=512', 'bpt=16', '--qd', '4']);
    expect(out).toMatchObject({
      recordsIn: 128,
      recordsOut: 128,
      bytes: 65536,
      transfers: 8,
      commands: 8,
      mode: 'indirect',
      qd: 4,
    });
    expect(typeof out.mbPerSec).toBe('number');
    expect(typeof out.iops).toBe('number');
    const fromDevice = await json([
      'dd',
      'if=emu:?size=1M',
      `of=${join(dir, 'zeros.bin')}`,
      'bs=512',
      'count=16',
    ]);
    expect(fromDevice).toMatchObject({ recordsIn: 16, recordsOut: 16 });
    expect(readFileSync(join(dir, 'zeros.bin')).every((b) => b === 0)).toBe(true);
    const text = await runSgv4(['dd', 'if=emu:', 'of=/dev/null', 'bs=512', 'count=256']);
    expect(text.status).toBe(0);
    expect(text.stderr).toMatch(
      /^256\+0 records in\n256\+0 records out\ntime to transfer data: [\d.]+ secs at [\d.]+ MB\/sec, \d+ IOPS\n$/,
    );
    const read = await json(['read', 'emu:', '--lba', '0', '--count', '2']);
    expect(read).toMatchObject({ lba: '0', count: 2, blockSize: 512, bytes: 1024, data: '00'.repeat(1024) });
    const block = join(dir, 'block.bin');
    writeFileSync(block, Buffer.alloc(1024, 0x33));
    expect(await json(['write', 'emu:', '--lba', '10', '--in', block])).toMatchObject({
      lba: '10',
      count: 2,
      bytes: 1024,
    });
  });

  it('raw: GOOD with data, CHECK CONDITION reported with its category and exit status', async () => {
    const good = await json(['raw', 'emu:', '12', '00', '00', '00', '60', '00', '--in', '96']);
    expect(good).toMatchObject({
      nodeKind: 'emu',
      abi: 'none',
      status: 0,
      category: 'GOOD',
      exitStatus: 0,
      transferred: 96,
    });
    expect(Buffer.from(String(good.data), 'hex').subarray(8, 12).toString()).toBe('SGV4');
    const bad = await runSgv4(['raw', 'emu:', '12', '01', 'fe', '00', '60', '00', '--in', '96', '--json']);
    expect(bad.status).toBe(5);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      statusName: 'CHECK CONDITION',
      category: 'SENSE',
      exitStatus: 5,
      senseLine: expect.stringMatching(/^Illegal Request/),
    });
  });

  it('sense of a device (REQUEST SENSE) and list on a host without SCSI devices', async () => {
    const sense = await runSgv4(['sense', 'emu:']);
    expect(sense.status).toBe(0);
    expect(sense.stdout).toMatch(/^emu:: (No Sense|no sense data)/);
    expect(await json(['list'])).toMatchObject({ devices: expect.any(Array) });
  });
});

describe('sgv4 device commands over iSCSI (real binary, a portal on 127.0.0.1)', { timeout: 60_000 }, () => {
  const IQN = 'iqn.2026-11.dev.sgv4:cli-device';
  let served: ServedIscsiTarget;
  let port = 0;
  beforeAll(async () => {
    served = await serveIscsiTarget({ address: '127.0.0.1:0', iqn: IQN, luns: ['mem:16M'] });
    port = served.portal.address.port;
  });
  afterAll(() => served.close());

  it('list iscsi://host:port discovers the target (SendTargets) and gives its URL', async () => {
    const found = await json(['list', `iscsi://127.0.0.1:${port}`]);
    expect(found).toMatchObject({
      portal: `127.0.0.1:${port}`,
      targets: [{ targetName: IQN, url: `iscsi://127.0.0.1:${port}/${IQN}/0` }],
    });
  });

  it('inquiry and readcap of the LU through the iscsi:// transport', async () => {
    const url = `iscsi://127.0.0.1:${port}/${IQN}/0`;
    expect(await json(['inquiry', url])).toMatchObject({ vendor: 'SGV4', peripheralTypeName: 'disk' });
    // Each run is a new I_T nexus: the transport cleared its power-on UNIT ATTENTION at login.
    expect(await json(['readcap', url])).toMatchObject({ bytes: String(16 << 20) });
  });
});

describe('sgv4 device commands: bad arguments (real binary)', { timeout: 60_000 }, () => {
  it.each([
    [['inquiry'], 1, /missing argument/],
    [['inquiry', 'emu:', '--vpd', '300'], 1, /--vpd must be in 0..255/],
    [['inquiry', 'emu:?lbs=7'], 1, /emu lbs: must be 512 or 4096/],
    [['read', 'emu:', '--count', '1'], 1, /--lba is required/],
    [['read', 'emu:', '--lba', '0x', '--count', '1'], 1, /--lba must be an integer/],
    [['write', 'emu:', '--lba', '0'], 1, /--in is required/],
    [['dd', 'if=emu:', 'bs=512'], 1, /of=DST is required/],
    [['dd', 'if=emu:', 'of=/dev/null', 'colour=red'], 1, /operand 'colour=red'/],
    [['dd', 'if=emu:', 'of=/dev/null', 'bs=4096', 'count=1'], 1, /does not match the device block size 512/],
    [['dd', 'if=emu:', 'of=/dev/null', 'count=1', '--mode', 'dio'], 1, /--mode dio/],
    [['dd', 'if=emu:', 'of=/dev/null', 'count=1', '--mode', 'mmap'], 1, /--mode mmap needs an sg device/],
    [['dd', 'if=emu:', 'of=/dev/null', 'count=1', '--qd', '0'], 1, /--qd must be in 1..4096/],
    [['raw', 'emu:', '12'], 1, /the CDB must be 6..32 bytes/],
    [['tur', join(dir, 'missing')], 52, /ENOENT/],
    [['perm', '2a00000000000000010a', '--device', 'emu:', '--mode', 'ro'], 31, /--mode contradicts --device/],
  ] as const)('sgv4 %j exits %i', async (args, status, message) => {
    const run = await runSgv4(args);
    expect(run.status, run.stderr).toBe(status);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('leaves arguments after -- alone: `sgv4 raw -- -h` is not a help request', async () => {
    const run = await runSgv4(['raw', '--', '-h']);
    expect(run.status).toBe(1);
    expect(run.stdout).not.toMatch(/Usage:/);
  });
});
