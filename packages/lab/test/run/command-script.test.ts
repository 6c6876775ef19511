import { execFileSync } from 'node:child_process';
import { LabProgress } from '@sgv4/lab';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandScript, shellQuote } from '../../src/run/command-script.js';

describe('command.sh', () => {
  it('quotes any argument so that sh passes it through unchanged', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 0, maxLength: 40 }).map((s) => s.replaceAll('\0', '')),
        (arg) => {
          const echoed = execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(arg)}`]);
          expect(echoed.toString('utf8')).toBe(arg);
        },
      ),
      { numRuns: 50 },
    );
    // 50 shells: seconds on a loaded machine; a correctness test, not a speed test.
  }, 60_000);

  it('runs the argv in the working directory with the environment, as root or via setpriv as nobody', () => {
    const root = commandScript({
      argv: ['printf', '%s|', 'a b', "it's"],
      cwd: '/tmp',
      env: { X: 'y z' },
      user: 'root',
    });
    const out = execFileSync('/bin/sh', ['-c', `${root.replace(/^exec /m, '')}printf '%s|%s' "$PWD" "$X"`]);
    expect(out.toString()).toBe("a b|it's|/tmp|y z");
    const nobody = commandScript({ argv: ['id'], cwd: '/', env: {}, user: 'nobody' });
    expect(nobody).toContain('chmod 0666 /dev/sg* /dev/bsg/*');
    expect(nobody).toContain(
      "exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all -- 'id'",
    );
  });
});

describe('progress display', () => {
  function recorder(isTTY: boolean) {
    const lines: string[] = [];
    return { lines, stream: { isTTY, write: (text: string) => lines.push(text) } };
  }
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('shows nothing for a fast step and a start and a finish line for a slow one (not a terminal)', async () => {
    const { lines, stream } = recorder(false);
    const progress = new LabProgress(stream, { thresholdMs: 50 });
    await progress.step('fast', async () => 1);
    expect(lines).toEqual([]);
    await progress.step('slow', () => wait(200));
    expect(lines[0]).toBe('lab: slow ...\n');
    expect(lines[1]).toMatch(/^lab: slow: done in \d+\.\d s\n$/);
    await progress.step('guest', () => wait(200), { terminalOnly: true });
    expect(lines).toHaveLength(2);
  });

  it('draws a spinner in place on a terminal and leaves one summary line', async () => {
    const { lines, stream } = recorder(true);
    const progress = new LabProgress(stream, { thresholdMs: 50 });
    await progress.step('booting', () => wait(500), { terminalOnly: true });
    const eraseLine = '\r\u001b[2K';
    expect(lines.some((l) => l.startsWith(eraseLine) && /. booting \(\d+\.\d s\)$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^✓ booting \(\d+\.\d s\)\n$/);
  });
});
