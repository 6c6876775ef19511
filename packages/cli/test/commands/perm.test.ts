/** `sgv4 perm`: decisions, explanations, exit statuses, --json fields, --print and errors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

describe('sgv4 perm', () => {
  it('allows INQUIRY on a read-only bsg node and says why', async () => {
    const run = await runCaptured([
      'perm',
      '12',
      '00',
      '00',
      '00',
      '24',
      '00',
      '--mode',
      'ro',
      '--iface',
      'bsg',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('ALLOWED  INQUIRY (0x12)');
    expect(run.stdout).toContain('Allowed: INQUIRY (0x12) is read-safe in table linux-6.1');
  });

  it('refuses WRITE(10) on a read-only sg fd with exit status 51 (EPERM) and the fix', async () => {
    const run = await runCaptured(['perm', '2a000000000000000100', '--mode', 'ro', '--iface', 'sg']);
    expect(run.status).toBe(51);
    expect(run.stdout).toContain('DENIED (EPERM)  WRITE_10 (0x2a)');
    expect(run.stdout).toContain('open the sg node O_RDWR');
  });

  it('--json has the documented fields, ATA detail included', async () => {
    const cdb = '85 08 0e 00 00 00 01 00 00 00 00 00 00 00 ec 00';
    const run = await runCaptured([
      'perm',
      cdb,
      '--mode',
      'ro',
      '--iface',
      'bsg',
      '--policy',
      'ata-aware',
      '--json',
    ]);
    expect(run.status).toBe(0);
    const json = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([
      'allowed',
      'errno',
      'rule',
      'filtered',
      'table',
      'policy',
      'interface',
      'openMode',
      'capSysRawio',
      'deviceType',
      'submission',
      'partition',
      'command',
      'match',
      'ata',
      'explanation',
    ]);
    expect(json).toMatchObject({
      allowed: true,
      table: 'sgv4-proposal',
      match: 'ata-command',
      ata: {
        form: 'ATA PASS-THROUGH(16)',
        command: '0xec',
        name: 'IDENTIFY DEVICE',
        class: 'read-safe',
        decisive: true,
      },
    });
  });

  it('--cap-sys-rawio, --device-type 6 and --partition change the outcome', async () => {
    const wb = ['3b', '00', '00', '00', '00', '00', '00', '00', '00', '00'];
    expect((await runCaptured(['perm', ...wb, '--mode', 'ro', '--iface', 'bsg'])).status).toBe(51);
    expect(
      (await runCaptured(['perm', ...wb, '--mode', 'ro', '--iface', 'bsg', '--cap-sys-rawio'])).status,
    ).toBe(0);
    expect(
      (await runCaptured(['perm', ...wb, '--mode', 'ro', '--iface', 'sg', '--device-type', '6'])).status,
    ).toBe(0);
    const part = await runCaptured([
      'perm',
      '12 00 00 00 24 00',
      '--mode',
      'rw',
      '--iface',
      'block',
      '--partition',
    ]);
    expect(part.status).toBe(75);
    expect(part.stdout).toContain('whole-disk node');
  });

  it('--print writes the cmdfilter format, and a printed file is accepted by --table', async () => {
    const printed = await runCaptured(['perm', '--table', 'blk-filter-5.14', '--print']);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain('read_table: 0x00 0x03 0x08 0x12');
    expect(printed.stdout).toMatch(/write_table: .*0xa2 0xa3 0xa6/);
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-perm-cli-'));
    const file = join(dir, 'custom.cmdfilter');
    writeFileSync(file, 'name: custom\nbase: linux-6.1\nwrite_table: +0x3b\n');
    const run = await runCaptured([
      'perm',
      '3b00000000000000000000',
      '--mode',
      'wo',
      '--iface',
      'bsg',
      '--table',
      file,
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('table: custom');
  });

  it('bad input names the argument', async () => {
    const hex = await runCaptured(['perm', 'zz', '--mode', 'ro', '--iface', 'sg']);
    expect(hex.status).toBe(1);
    expect(hex.stderr).toContain("<cdb-hex>: 'zz' is not hexadecimal");
    const mode = await runCaptured(['perm', '12', '--mode', 'r', '--iface', 'sg']);
    expect(mode.stderr).toContain('--mode must be one of ro, wo, rw');
    const token = await runCaptured(['perm', '--table', '/nonexistent/x', '--print']);
    expect(token.status).toBe(52); // ENOENT
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-perm-cli-'));
    const file = join(dir, 'bad.cmdfilter');
    writeFileSync(file, 'read_table: 0x12 0x100\n');
    const bad = await runCaptured(['perm', '--table', file, '--print']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('read_table token 1: opcode must be in 0x00..0xff');
  });
});

describe('sgv4 demo --only permissions', () => {
  it('prints the decision matrix computed by the model', async () => {
    const run = await runCaptured(['demo', '--only', 'permissions']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/INQUIRY\s+allowed\s+allowed\s+allowed\s+allowed\s+allowed/);
    expect(run.stdout).toMatch(/WRITE BUFFER\s+EPERM\s+allowed\s+EPERM\s+EPERM\s+EPERM/);
    expect(run.stdout).toMatch(/ATA-12 SECURITY ERASE PREPARE\s+EPERM\s+allowed\s+EPERM\s+allowed\s+EPERM/);
    expect(run.stdout).toContain('Linux checks only byte 0');
  });
});
