import { Writable } from 'node:stream';
import { ExitStatus } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/framework/command.js';
import { dispatch } from '../../src/framework/dispatch.js';
import { parseIntegerArgument } from '../../src/framework/invocation.js';
import { UsageError } from '../../src/framework/usage-error.js';
import { runCaptured } from '../support/capture-io.js';

const silent = () => new Writable({ write: (_c, _e, done) => done() });

describe('sgv4 command frame', () => {
  it('prints the version from package.json', async () => {
    const run = await runCaptured(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('lists every top-level command in --help', async () => {
    const run = await runCaptured(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('demo');
    expect(run.stdout).toContain('--version');
  });

  it('gives --help on every command and subcommand', async () => {
    const { commands } = await import('../../src/commands/index.js');
    const walk = async (path: string[], list: readonly Command[]): Promise<void> => {
      for (const c of list) {
        const run = await runCaptured([...path, c.name, '--help']);
        expect(run.status, `${[...path, c.name].join(' ')} --help`).toBe(0);
        expect(run.stdout).toContain(`sgv4 ${[...path, c.name].join(' ')}`);
        if (c.json) expect(run.stdout).toContain('--json');
        await walk([...path, c.name], c.subcommands ?? []);
      }
    };
    await walk([], commands);
  });

  it('rejects an unknown command with exit status 1 and one line naming it', async () => {
    const run = await runCaptured(['frobnicate']);
    expect(run.status).toBe(ExitStatus.SYNTAX_ERROR);
    expect(run.stderr.split('\n')[0]).toMatch(
      /^sgv4: unknown command 'frobnicate' \(one of: demo, [a-z, -]+\)$/,
    );
  });

  it('rejects an unknown option naming the option', async () => {
    const run = await runCaptured(['demo', '--bogus']);
    expect(run.status).toBe(ExitStatus.SYNTAX_ERROR);
    expect(run.stderr).toContain("'--bogus'");
  });

  it('maps thrown errors to sg3_utils exit statuses', async () => {
    const failing = (error: unknown): Command => ({
      name: 'root',
      summary: 'test root',
      subcommands: [
        {
          name: 'x',
          summary: 'throws',
          json: true,
          run: () => {
            throw error;
          },
        },
      ],
    });
    const io = { stdout: silent(), stderr: silent() };
    const enoent = Object.assign(new Error('no such device'), { errno: 2, code: 'ENOENT' });
    expect(await dispatch(failing(enoent), ['x'], io, '0')).toBe(52);
    expect(await dispatch(failing(new UsageError('bad', ExitStatus.CONTRADICT)), ['x'], io, '0')).toBe(31);
    expect(await dispatch(failing(new Error('other')), ['x'], io, '0')).toBe(ExitStatus.OTHER);
  });

  it('reports errors as JSON on stdout with --json', async () => {
    const out: string[] = [];
    const stdout = new Writable({
      write: (c, _e, done) => {
        out.push(String(c));
        done();
      },
    });
    const root: Command = {
      name: 'root',
      summary: 'test root',
      subcommands: [
        {
          name: 'x',
          summary: 'throws',
          json: true,
          run: () => {
            throw Object.assign(new Error('busy'), { errno: 16, code: 'EBUSY' });
          },
        },
      ],
    };
    const status = await dispatch(root, ['x', '--json'], { stdout, stderr: silent() }, '0');
    expect(status).toBe(66);
    expect(JSON.parse(out.join(''))).toMatchObject({
      error: { message: 'busy', code: 'EBUSY', errno: 16, exitStatus: 66 },
    });
  });

  it('parses integer arguments strictly', () => {
    expect(parseIntegerArgument('--len', '0x10', { min: 0, max: 100 })).toBe(16);
    expect(parseIntegerArgument('--len', '42', { min: 0, max: 100 })).toBe(42);
    expect(() => parseIntegerArgument('--len', '4k', { min: 0, max: 100 })).toThrow(
      /--len must be an integer/,
    );
    expect(() => parseIntegerArgument('--len', '101', { min: 0, max: 100 })).toThrow(
      /--len must be in 0..100/,
    );
  });
});

describe('sgv4 demo', () => {
  it('runs the environment step for real and lists steps', async () => {
    const list = await runCaptured(['demo', '--list']);
    expect(list.stdout).toContain('environment');
    const run = await runCaptured(['demo', '--only', 'environment']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Node ${process.version}`);
  });

  it('rejects an unknown step', async () => {
    const run = await runCaptured(['demo', '--only', 'nope']);
    expect(run.status).toBe(ExitStatus.SYNTAX_ERROR);
    expect(run.stderr).toContain("no step 'nope'");
  });
});
