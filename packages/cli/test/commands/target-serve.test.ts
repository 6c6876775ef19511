/** `sgv4 target serve`: the command line is checked before anything listens. */
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

describe('sgv4 target serve (arguments)', () => {
  it('names the missing option with exit status 1', async () => {
    const noAddress = await runCaptured(['target', 'serve', '--iqn', 'iqn.2026-11.x:y', '--lun', 'mem:1M']);
    expect(noAddress.status).toBe(1);
    expect(noAddress.stderr).toContain('missing --iscsi HOST[:PORT]');
    const noLun = await runCaptured([
      'target',
      'serve',
      '--iscsi',
      '127.0.0.1:13290',
      '--iqn',
      'iqn.2026-11.x:y',
    ]);
    expect(noLun.status).toBe(1);
    expect(noLun.stderr).toContain('missing --lun SPEC');
    const halfChap = await runCaptured([
      'target',
      'serve',
      '--iscsi',
      '127.0.0.1:13290',
      '--iqn',
      'iqn.2026-11.x:y',
      '--lun',
      'mem:1M',
      '--chap-user',
      'u',
    ]);
    expect(halfChap.status).toBe(1);
    expect(halfChap.stderr).toContain('--chap-user and --chap-secret go together');
  });

  it('refuses a bad LUN spec with the field and the rule', async () => {
    const run = await runCaptured([
      'target',
      'serve',
      '--iscsi',
      '127.0.0.1:13290',
      '--iqn',
      'iqn.2026-11.x:y',
      '--lun',
      'disk:1G',
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('lun[0]: must be mem:SIZE or file:PATH');
  });
});
