import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { LabProgress, LabTimeoutError, runInLab } from '@sgv4/lab';
import { describe, expect, it } from 'vitest';
import { liveQemuCount } from '../../src/run/qemu-process.js';

/** QEMU processes whose parent is this test process (setpriv execs QEMU, so the child is QEMU). */
function qemuChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const ppid = Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1]);
      if (ppid === process.pid && name.startsWith('qemu-system')) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

describe('lab run (real guests)', () => {
  it('labs run side by side, each returning its exit status, stdout and stderr exactly', async () => {
    const script = (tag: string, code: number) =>
      `printf 'out ${tag}\\n\\001\\377 no newline'; printf 'err ${tag}\\n' >&2; exit ${code}`;
    const notes: string[] = [];
    const progress = new LabProgress({ isTTY: false, write: (text: string) => notes.push(text) });
    const [a, b, auto] = await Promise.all([
      runInLab({ command: ['sh', '-c', script('a', 7)], stdout: null, stderr: null, timeoutMs: 240_000 }),
      runInLab({
        command: ['sh', '-c', script('b', 0)],
        stdout: null,
        stderr: null,
        timeoutMs: 240_000,
        scsiDebug: { sector_size: 4096 },
      }),
      // KVM when it boots, else TCG (on this project's machines QEMU aborts under KVM).
      runInLab({
        command: ['true'],
        stdout: null,
        stderr: null,
        timeoutMs: 240_000,
        accel: 'auto',
        progress,
      }),
    ]);
    expect(auto.status).toBe(0);
    if (auto.accel === 'tcg' && existsSync('/dev/kvm')) {
      expect(notes.join('')).toMatch(/KVM did not reach the command .*; falling back to TCG/);
    }
    expect(a.status).toBe(7);
    expect(a.stdout).toEqual(
      Buffer.concat([Buffer.from('out a\n'), Buffer.from([1, 0xff]), Buffer.from(' no newline')]),
    );
    expect(a.stderr.toString()).toBe('err a\n');
    expect(b.status).toBe(0);
    expect(b.stdout.subarray(0, 6).toString()).toBe('out b\n');
    expect(b.stderr.toString()).toBe('err b\n');
    expect(a.bootMs).toBeGreaterThan(0);
    expect(a.accel).toBe('tcg');
    expect(qemuChildren()).toEqual([]);
  }, 240_000);

  it('the hard timeout kills QEMU, says so, and keeps the console log', async () => {
    let caught: unknown;
    try {
      await runInLab({ command: ['sleep', '600'], stdout: null, stderr: null, timeoutMs: 4000 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LabTimeoutError);
    const error = caught as LabTimeoutError;
    expect(error.message).toMatch(
      /^timed out after 4 s: killed QEMU \(pid \d+\); guest console log kept at \S+console\.log$/,
    );
    expect(error.exitStatus).toBe(33);
    expect(error.consoleLogPath && existsSync(error.consoleLogPath)).toBe(true);
    expect(qemuChildren()).toEqual([]);
    expect(liveQemuCount()).toBe(0);
  }, 60_000);
});
