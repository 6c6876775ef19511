/**
 * `sgv4 target serve --iscsi` as a process: libiscsi's tools see the LUs it serves (memory and
 * file), CHAP is enforced, and SIGTERM ends the sessions and exits 0.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

describe.skipIf(!existsSync('/usr/bin/iscsi-ls'))('sgv4 target serve --iscsi (process)', () => {
  it('serves memory and file LUs to libiscsi with CHAP, and exits 0 on SIGTERM', async () => {
    expect(existsSync(cli), 'the CLI is built (pnpm build)').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-serve-'));
    const image = join(dir, 'disk1.img');
    const iqn = 'iqn.2026-11.dev.sgv4:cli';
    const child = spawn(
      process.execPath,
      [
        cli,
        'target',
        'serve',
        '--iscsi',
        '127.0.0.1:13276',
        '--iqn',
        iqn,
        '--lun',
        'mem:64M',
        '--lun',
        `file:${image},size=16M`,
        '--chap-user',
        'alice',
        '--chap-secret',
        'alice-secret-01',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !out.includes('/1 '); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain(`iscsi://127.0.0.1:13276/${iqn}/0  64 MiB, 512-byte blocks, memory`);
      expect(out).toContain(`iscsi://127.0.0.1:13276/${iqn}/1  16 MiB, 512-byte blocks, ${image}`);
      expect(statSync(image).size).toBe(16 << 20);
      const refused = await exec('iscsi-inq', [`iscsi://127.0.0.1:13276/${iqn}/0`]).catch(
        (e: { stderr: string }) => e,
      );
      expect(refused).toHaveProperty('stderr');
      const ls = await exec('iscsi-ls', ['-s', `iscsi://alice%alice-secret-01@127.0.0.1:13276`]);
      expect(ls.stdout).toContain(`Target:${iqn} Portal:127.0.0.1:13276,1`);
      expect(ls.stdout).toMatch(/Lun:0 +Type:DIRECT_ACCESS \(Size:63M\)/);
      expect(ls.stdout).toMatch(/Lun:1 +Type:DIRECT_ACCESS \(Size:15M\)/);
      expect(err).toMatch(/login refused: .*authentication|login refused: .*AuthMethod/);
      expect(err).toMatch(
        /login: iqn\.2007-10\.com\.github:sahlberg:libiscsi:iscsi-ls,i,0x[0-9a-f]{12} \(Normal/,
      );
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(err).toContain('target serve: closed');
  });
});
