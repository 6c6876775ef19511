/**
 * Starts a real tgt (Debian `tgt`: tgtd + tgtadm) on 127.0.0.1 for host tests: one target with
 * file-backed LUNs, optional CHAP accounts, and a stop that kills exactly the tgtd started
 * (tgtd ignores SIGTERM, so SIGKILL by pid).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True when tgtd and tgtadm are installed. */
export const haveTgt = existsSync('/usr/sbin/tgtd') && existsSync('/usr/sbin/tgtadm');

/** A running tgtd. */
export interface TgtTarget {
  /** iSCSI portal port. */
  readonly port: number;
  /** The target name. */
  readonly iqn: string;
  /** Backing files by LUN. */
  readonly files: ReadonlyMap<number, string>;
  /** `iscsi://127.0.0.1:<port>/<iqn>/<lun>`. */
  url(lun: number): string;
  /** Runs tgtadm against this tgtd. */
  admin(...args: string[]): Promise<string>;
  /** SIGKILLs this tgtd and removes its files. */
  stop(): Promise<void>;
  /** The tgtd process (for restarts in tests). */
  readonly process: ChildProcess;
}

/** Options of {@link startTgt}. */
export interface StartTgtOptions {
  /** Portal port (13260..13299 for this workstream). */
  readonly port: number;
  /** tgtd control port (-C), distinct per tgtd. */
  readonly controlPort: number;
  /** Target name (default iqn.2026-11.test:disk1). */
  readonly iqn?: string;
  /** LUN sizes in bytes, LUN 1 upwards (default one 64 MiB LU). */
  readonly luns?: readonly number[];
  /** Incoming CHAP account (the initiator authenticates with it). */
  readonly incoming?: { readonly user: string; readonly secret: string };
  /** Outgoing CHAP account (mutual CHAP: the target proves itself with it). */
  readonly outgoing?: { readonly user: string; readonly secret: string };
  /** Target parameters to set, `name=value` (tgtadm --op update --name --value each). */
  readonly targetParams?: readonly string[];
  /** Reuse an existing directory (and its files) instead of a new one. */
  readonly dir?: string;
  /** Write tgtd's output (with `-d 1` debug) to this file. */
  readonly log?: string;
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`tgtd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts tgtd and configures one target. */
export async function startTgt(options: StartTgtOptions): Promise<TgtTarget> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sgv4-tgt-'));
  const iqn = options.iqn ?? 'iqn.2026-11.test:disk1';
  const files = new Map<number, string>();
  const sizes = options.luns ?? [64 << 20];
  for (const [i, size] of sizes.entries()) {
    const file = join(dir, `lun${i + 1}.img`);
    if (!existsSync(file)) {
      await writeFile(file, '');
      await truncate(file, size);
    }
    files.set(i + 1, file);
  }
  const logFd = options.log === undefined ? 'ignore' : openSync(options.log, 'a');
  const child = spawn(
    '/usr/sbin/tgtd',
    [
      '-f',
      '-C',
      String(options.controlPort),
      '--iscsi',
      `portal=127.0.0.1:${options.port}`,
      ...(options.log === undefined ? [] : ['-d', '1']),
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  if (typeof logFd === 'number') closeSync(logFd);
  const admin = async (...args: string[]) =>
    (await run('/usr/sbin/tgtadm', ['-C', String(options.controlPort), '--lld', 'iscsi', ...args])).stdout;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(options.port, Date.now() + 10_000);
    await admin('--op', 'new', '--mode', 'target', '--tid', '1', '-T', iqn);
    for (const [lun, file] of files) {
      await admin('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', String(lun), '-b', file);
    }
    for (const param of options.targetParams ?? []) {
      const [name, value] = param.split('=') as [string, string];
      await admin('--op', 'update', '--mode', 'target', '--tid', '1', '--name', name, '--value', value);
    }
    for (const [kind, account] of [
      ['', options.incoming],
      ['--outgoing', options.outgoing],
    ] as const) {
      if (!account) continue;
      await admin('--op', 'new', '--mode', 'account', '--user', account.user, '--password', account.secret);
      await admin(
        '--op',
        'bind',
        '--mode',
        'account',
        '--tid',
        '1',
        '--user',
        account.user,
        ...(kind ? [kind] : []),
      );
    }
    await admin('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port: options.port,
    iqn,
    files,
    url: (lun) => `iscsi://127.0.0.1:${options.port}/${iqn}/${lun}`,
    admin,
    stop,
    process: child,
  };
}
