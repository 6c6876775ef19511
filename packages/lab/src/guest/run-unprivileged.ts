/**
 * Running a program as an unprivileged user inside the guest, for permission tests:
 * uid/gid 65534 (`nobody`), no supplementary groups, and no capabilities at all
 * (`setpriv --inh-caps=-all --bounding-set=-all`), so CAP_SYS_RAWIO is absent and cannot
 * come back through exec. The sg and bsg nodes are made 0666 first: devtmpfs creates them
 * 0600 root, and the point is to test the drivers' own checks, not the file mode.
 * @module
 */
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { NOBODY_ID } from '../run/command-script.js';

/** Options of {@link runUnprivileged}. */
export interface RunUnprivilegedOptions {
  /** Working directory (default: the current one). */
  readonly cwd?: string;
  /** Environment (default: this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Bytes written to the program's stdin (default: none, stdin closed). */
  readonly input?: string | Buffer;
  /** Leave the device nodes' modes alone (default false: make them 0666). */
  readonly keepDeviceModes?: boolean;
}

/** What the program did. */
export interface RunUnprivilegedResult {
  /** Exit status; 128 + signal number when a signal ended it. */
  readonly status: number;
  /** Its stdout, UTF-8 decoded. */
  readonly stdout: string;
  /** Its stderr, UTF-8 decoded. */
  readonly stderr: string;
}

/** Makes every `/dev/sg*` and `/dev/bsg/*` node readable and writable by everyone. */
export function openLabDeviceModes(): void {
  const chmodAll = (dir: string, filter: (name: string) => boolean) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.filter(filter)) chmodSync(`${dir}/${name}`, 0o666);
  };
  chmodAll('/dev', (n) => /^sg\d+$/.test(n));
  chmodAll('/dev/bsg', () => true);
}

/** Runs `file args...` as uid/gid 65534 without capabilities; see the module comment. */
export function runUnprivileged(
  file: string,
  args: readonly string[],
  options: RunUnprivilegedOptions = {},
): Promise<RunUnprivilegedResult> {
  if (options.keepDeviceModes !== true) openLabDeviceModes();
  const id = String(NOBODY_ID);
  const setprivArgs = [
    `--reuid=${id}`,
    `--regid=${id}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--',
    file,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', setprivArgs, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const status = code ?? 128 + (signal ? constants.signals[signal] : 0);
      resolve({
        status,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}
