/**
 * Running one command in a fresh guest: validate the settings, make sure the host tools
 * and the initramfs are there, boot QEMU, stream the command's stdout and stderr as they
 * grow on the control share, and hand back its exact exit status and bytes.
 * @module
 */
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { LabGuestError, LabTimeoutError } from '../errors.js';
import { LAB_PROBES_ENV } from '../guest/probes.js';
import { type LabGuestConfig, type LabGuestOptions, resolveGuestConfig } from '../guest-config.js';
import { defaultLabCacheDir } from '../host/initramfs.js';
import { ensureLabInitramfs } from '../host/lab-initramfs.js';
import { ensureLabProbes, LAB_PROBES } from '../host/probes.js';
import { type LabHost, requireLabHost } from '../host/requirements.js';
import { type LabProgress, type ProgressStep, SILENT_PROGRESS } from '../progress.js';
import {
  commandScript,
  GUEST_CONTROL_DIR,
  guestBaseEnvironment,
  type LabUser,
  labEnvFile,
} from './command-script.js';
import { qemuArguments } from './qemu-arguments.js';
import { spawnQemu } from './qemu-process.js';

/** Everything about one lab run. */
export interface LabRunOptions extends LabGuestOptions {
  /** argv of the command to run in the guest (for a shell: the shell, default `/bin/bash -i` or `/bin/sh -i`). */
  readonly command?: readonly string[];
  /** Interactive: the guest console is this process's terminal (`sgv4 lab shell`). */
  readonly interactive?: boolean;
  /** Working directory in the guest (default: this process's cwd, which the guest sees unchanged). */
  readonly cwd?: string;
  /** Extra environment variables for the command. */
  readonly env?: Readonly<Record<string, string>>;
  /** `root` (default) or `nobody` (uid/gid 65534, no capabilities, device nodes made 0666). */
  readonly user?: LabUser;
  /** Hard timeout for the whole run in ms (default 600000); QEMU is killed when it expires. */
  readonly timeoutMs?: number;
  /** With `accel: 'auto'`: how long KVM may take to reach the command before TCG takes over (default 30000). */
  readonly kvmBootTimeoutMs?: number;
  /** Where the command's stdout streams (default process.stdout; null: nowhere). */
  readonly stdout?: Writable | null;
  /** Where the command's stderr streams (default process.stderr; null: nowhere). */
  readonly stderr?: Writable | null;
  /** Progress display (default: none). */
  readonly progress?: LabProgress;
  /** A host directory the guest sees writable at `$SGV4_LAB_RESULTS` (default: a fresh one in the run directory). */
  readonly resultsDir?: string;
  /** initramfs cache directory (default {@link defaultLabCacheDir}). */
  readonly cacheDir?: string;
  /** Keep the run directory (console log, control files) even on success (default false). */
  readonly keepRunDir?: boolean;
  /**
   * Compile the lab's C probes on the host (cached) and hand them to the guest in the
   * control share, named by `$SGV4_LAB_PROBES` (default false).
   */
  readonly probes?: boolean;
}

/** What a run returns. */
export interface LabRunResult {
  /** The command's exit status (128 + n when killed by signal n), exactly as the guest shell saw it. */
  readonly status: number;
  /** Every byte the command wrote to stdout (empty for an interactive run). */
  readonly stdout: Buffer;
  /** Every byte the command wrote to stderr (empty for an interactive run). */
  readonly stderr: Buffer;
  /** The accelerator that ran the guest. */
  readonly accel: 'tcg' | 'kvm';
  /** From starting QEMU to the guest starting the command, in ms. */
  readonly bootMs: number;
  /** From the command starting to QEMU exiting, in ms. */
  readonly commandMs: number;
  /** The whole run, preparation included, in ms. */
  readonly totalMs: number;
  /** The run directory when kept, else undefined. */
  readonly runDir: string | undefined;
  /** The validated guest configuration. */
  readonly config: LabGuestConfig;
}

const DEFAULT_TIMEOUT_MS = 600_000;
const POLL_MS = 50;

/** Runs a command (or an interactive shell) in a fresh guest. See {@link LabRunOptions}. */
export async function runInLab(options: LabRunOptions): Promise<LabRunResult> {
  const started = Date.now();
  const config = resolveGuestConfig(options);
  const progress = options.progress ?? SILENT_PROGRESS;
  const host = requireLabHost();
  const cacheDir = options.cacheDir ?? defaultLabCacheDir();
  // The command is checked before anything is built or created, so a bad call leaves nothing behind.
  const interactive = options.interactive === true;
  const argv = options.command ?? (interactive ? defaultShell() : undefined);
  if (!argv || argv.length === 0) throw new LabGuestError('no command to run', undefined);
  const initramfs = await ensureLabInitramfs(host, cacheDir, progress);
  const runDir = mkdtempSync(join(tmpdir(), 'sgv4-lab-run-'));
  const controlDir = join(runDir, 'ctl');
  const resultsDir = options.resultsDir ?? join(runDir, 'results');
  mkdirSync(controlDir);
  mkdirSync(resultsDir, { recursive: true });
  try {
    const probeEnv: Record<string, string> = {};
    if (options.probes === true) {
      const build = await progress.step('compiling the lab probes', async () =>
        ensureLabProbes({ cacheDir }),
      );
      const target = join(controlDir, 'probes');
      mkdirSync(target);
      for (const name of LAB_PROBES) {
        copyFileSync(join(build.dir, name), join(target, name));
        chmodSync(join(target, name), 0o755);
      }
      probeEnv[LAB_PROBES_ENV] = `${GUEST_CONTROL_DIR}/probes`;
    }
    writeFileSync(join(controlDir, 'lab.env'), labEnvFile(config, interactive ? 'shell' : 'run'));
    writeFileSync(
      join(controlDir, 'command.sh'),
      commandScript({
        argv,
        cwd: options.cwd ?? process.cwd(),
        env: { ...guestBaseEnvironment(config), ...probeEnv, ...options.env },
        user: options.user ?? 'root',
      }),
    );
    const consoleLog = join(runDir, 'console.log');
    const attempts: ('tcg' | 'kvm')[] =
      config.accel === 'auto' ? (kvmUsable() ? ['kvm', 'tcg'] : ['tcg']) : [config.accel];
    let lastError: unknown;
    for (const [index, accel] of attempts.entries()) {
      const fallbackAvailable = index < attempts.length - 1;
      try {
        const boot = await bootOnce({
          host,
          config,
          accel,
          initramfs: initramfs.path,
          controlDir,
          resultsDir,
          consoleLog,
          interactive,
          options,
          progress,
          bootDeadlineMs: fallbackAvailable ? (options.kvmBootTimeoutMs ?? 30_000) : undefined,
        });
        const keep = options.keepRunDir === true;
        if (!keep) rmSync(runDir, { recursive: true, force: true });
        return { ...boot, accel, totalMs: Date.now() - started, runDir: keep ? runDir : undefined, config };
      } catch (error) {
        lastError = error;
        if (!(error instanceof BootFallback)) throw error;
        progress.note(`lab: KVM did not reach the command (${error.message}); falling back to TCG`);
        for (const name of ['started', 'stdout', 'stderr', 'status', 'guest-error']) {
          rmSync(join(controlDir, name), { force: true });
        }
      }
    }
    throw lastError;
  } catch (error) {
    // A guest that failed keeps its run directory: the error names its console log. Any other
    // failure (probes, QEMU not starting) leaves nothing behind unless the caller asked to keep it.
    const namesConsoleLog = error instanceof LabGuestError || error instanceof LabTimeoutError;
    if (options.keepRunDir !== true && !namesConsoleLog) rmSync(runDir, { recursive: true, force: true });
    throw error;
  }
}

function defaultShell(): string[] {
  return existsSync('/bin/bash') ? ['/bin/bash', '-i'] : ['/bin/sh', '-i'];
}

function kvmUsable(): boolean {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/** KVM failed to reach the command in time; the caller retries with TCG. */
class BootFallback extends Error {}

interface BootInput {
  readonly host: LabHost;
  readonly config: LabGuestConfig;
  readonly accel: 'tcg' | 'kvm';
  readonly initramfs: string;
  readonly controlDir: string;
  readonly resultsDir: string;
  readonly consoleLog: string;
  readonly interactive: boolean;
  readonly options: LabRunOptions;
  readonly progress: LabProgress;
  readonly bootDeadlineMs: number | undefined;
}

type BootOutcome = Pick<LabRunResult, 'status' | 'stdout' | 'stderr' | 'bootMs' | 'commandMs'>;

/** Follows a file the guest appends to, forwarding new bytes. */
class FileFollower {
  readonly #path: string;
  readonly #sink: Writable | null;
  readonly #chunks: Buffer[] = [];
  #offset = 0;
  /** Called before new bytes are forwarded (erases the progress spinner). */
  beforeWrite: () => void = () => {};

  constructor(path: string, sink: Writable | null) {
    this.#path = path;
    this.#sink = sink;
  }

  /** Reads what is new; true when there was something. */
  poll(): boolean {
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return false;
    }
    let any = false;
    try {
      const buffer = Buffer.alloc(65536);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.#offset);
        if (n <= 0) break;
        const chunk = Buffer.from(buffer.subarray(0, n));
        this.#offset += n;
        this.#chunks.push(chunk);
        this.beforeWrite();
        this.#sink?.write(chunk);
        any = true;
      }
    } finally {
      closeSync(fd);
    }
    return any;
  }

  /** Everything read so far. */
  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

async function bootOnce(input: BootInput): Promise<BootOutcome> {
  const { controlDir, consoleLog, interactive, options, progress } = input;
  const args = qemuArguments({
    accel: input.accel,
    memoryMb: input.config.memoryMb,
    cpus: input.config.cpus,
    kernelImage: input.host.kernel.image,
    initramfs: input.initramfs,
    controlDir,
    resultsDir: input.resultsDir,
    console: interactive ? 'stdio' : { file: consoleLog },
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const bootStarted = Date.now();
  const qemu = spawnQemu(input.host.qemu, args, interactive ? 'inherit' : ['ignore', 'ignore', 'pipe']);
  let qemuStderr = '';
  qemu.stderr?.on('data', (chunk: Buffer) => {
    qemuStderr = (qemuStderr + chunk.toString('utf8')).slice(-2000);
  });
  const exited = new Promise<number | string | null>((resolve) => {
    qemu.once('exit', (code, signal) => resolve(code ?? signal));
    qemu.once('error', () => resolve(null));
  });
  let qemuDone = false;
  void exited.then(() => {
    qemuDone = true;
  });
  let timedOut = false;
  const hardTimer = setTimeout(() => {
    timedOut = true;
    qemu.kill('SIGKILL');
  }, timeoutMs);
  const logForErrors = interactive ? undefined : consoleLog;
  try {
    const startedFile = join(controlDir, 'started');
    const stdout = new FileFollower(
      join(controlDir, 'stdout'),
      options.stdout === undefined ? process.stdout : options.stdout,
    );
    const stderr = new FileFollower(
      join(controlDir, 'stderr'),
      options.stderr === undefined ? process.stderr : options.stderr,
    );
    const accelName = input.accel.toUpperCase();
    await progress.step(
      `booting the guest (${accelName}, ${input.host.kernel.version})`,
      async () => {
        while (!existsSync(startedFile) && !qemuDone) {
          if (input.bootDeadlineMs !== undefined && Date.now() - bootStarted > input.bootDeadlineMs) {
            qemu.kill('SIGKILL');
            await exited;
            throw new BootFallback(`no command after ${input.bootDeadlineMs} ms`);
          }
          await sleep(POLL_MS);
        }
      },
      { terminalOnly: true },
    );
    const bootMs = Date.now() - bootStarted;
    const commandStarted = Date.now();
    const label = interactive ? 'guest shell' : `running ${argvSummary(options.command ?? [])}`;
    const follow = async (step: ProgressStep) => {
      while (!qemuDone) {
        if (!interactive) {
          const before = Date.now();
          if (hasPending(stdout, stderr, step)) continue;
          await sleep(Math.max(0, POLL_MS - (Date.now() - before)));
        } else {
          await sleep(POLL_MS);
        }
      }
      if (!interactive) hasPending(stdout, stderr, step);
    };
    if (interactive) await exited;
    else await progress.step(label, follow, { terminalOnly: true });
    const qemuCode = await exited;
    const commandMs = Date.now() - commandStarted;
    if (timedOut) throw new LabTimeoutError(timeoutMs, qemu.pid, logForErrors);
    const statusFile = join(controlDir, 'status');
    const guestError = join(controlDir, 'guest-error');
    if (existsSync(guestError)) {
      throw new LabGuestError(
        `guest set-up failed: ${readFileSync(guestError, 'utf8').trim()}`,
        logForErrors,
      );
    }
    if (!existsSync(statusFile)) {
      if (input.bootDeadlineMs !== undefined && !existsSync(startedFile)) {
        const lastLine = qemuStderr.trim().split('\n').slice(-1)[0] ?? '';
        throw new BootFallback(`QEMU exited with ${qemuCode}: ${lastLine}`);
      }
      const why = qemuStderr.trim() ? `: ${qemuStderr.trim().split('\n').slice(-1)[0]}` : '';
      throw new LabGuestError(
        `the guest stopped before reporting the command's exit status (QEMU exit code ${qemuCode})${why}`,
        logForErrors,
      );
    }
    const status = Number.parseInt(readFileSync(statusFile, 'utf8').trim(), 10);
    return { status, stdout: stdout.bytes(), stderr: stderr.bytes(), bootMs, commandMs };
  } finally {
    clearTimeout(hardTimer);
    if (!qemuDone) {
      qemu.kill('SIGKILL');
      await exited;
    }
  }
}

function hasPending(stdout: FileFollower, stderr: FileFollower, step: ProgressStep): boolean {
  // Erase the spinner before forwarding output, so the two never share a line.
  stdout.beforeWrite = step.interrupt;
  stderr.beforeWrite = step.interrupt;
  const fromStdout = stdout.poll();
  const fromStderr = stderr.poll();
  return fromStdout || fromStderr;
}

function argvSummary(argv: readonly string[]): string {
  const text = argv.join(' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
