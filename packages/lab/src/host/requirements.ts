/**
 * What the lab needs on the host, how to tell whether it is there, and installing it.
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabSetupError } from '../errors.js';
import type { LabProgress } from '../progress.js';
import { findExecutable, isStaticElf } from './executables.js';
import { findLabKernel, type LabKernel } from './kernel.js';

/** Everything found on a ready host. */
export interface LabHost {
  /** `qemu-system-x86_64`. */
  readonly qemu: string;
  /** The guest kernel. */
  readonly kernel: LabKernel;
  /** A statically linked busybox (Debian busybox-static). */
  readonly busybox: string;
  /** `modprobe` (kmod), used to resolve module dependencies for the initramfs. */
  readonly modprobe: string;
  /** `sg_inq` from sg3-utils; its presence stands for the whole package. */
  readonly sgInq: string;
}

/** One requirement and whether the host meets it. */
export interface LabRequirement {
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  /** What was looked for. */
  readonly what: string;
  /** Where it was found; undefined when missing. */
  readonly foundAt: string | undefined;
}

/** The Debian packages the lab itself needs, in install order. */
export const LAB_DEBIAN_PACKAGES = [
  'qemu-system-x86',
  'linux-image-amd64',
  'sg3-utils',
  'busybox-static',
  'kmod',
];

/**
 * The peers the tests and benchmarks measure this project against, each with the program
 * that stands for its package: fio's sg engine, tgt (a userspace iSCSI target), libiscsi's
 * tools and conformance suite, open-iscsi (the kernel initiator's tools, run in the guest),
 * Chromium (the documentation site's browser test) and gcc-multilib (`-m32` layout checks).
 */
export const PEER_DEBIAN_PACKAGES: readonly {
  readonly debianPackage: string;
  readonly what: string;
  readonly find: () => string | undefined;
}[] = [
  { debianPackage: 'fio', what: 'fio', find: () => findExecutable('fio') },
  { debianPackage: 'tgt', what: 'tgtd', find: () => findExecutable('tgtd') },
  { debianPackage: 'libiscsi-bin', what: 'iscsi-test-cu', find: () => findExecutable('iscsi-test-cu') },
  { debianPackage: 'open-iscsi', what: 'iscsiadm', find: () => findExecutable('iscsiadm') },
  { debianPackage: 'chromium', what: 'chromium', find: () => findExecutable('chromium') },
  { debianPackage: 'gcc-multilib', what: 'gcc -m32 runtime (32/crtbegin.o)', find: findGccMultilib },
];

/** Checks every requirement without changing anything. */
export function inspectLabHost(): LabRequirement[] {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => isStaticElf(p));
  const kernel = findLabKernel();
  return [
    {
      debianPackage: 'qemu-system-x86',
      what: 'qemu-system-x86_64',
      foundAt: findExecutable('qemu-system-x86_64'),
    },
    {
      debianPackage: 'linux-image-amd64',
      what: 'a kernel in /boot with sg.ko and scsi_debug.ko in /lib/modules',
      foundAt: kernel?.image,
    },
    { debianPackage: 'sg3-utils', what: 'sg_inq', foundAt: findExecutable('sg_inq') },
    { debianPackage: 'busybox-static', what: 'a statically linked busybox', foundAt: busybox },
    { debianPackage: 'kmod', what: 'modprobe', foundAt: findExecutable('modprobe') },
    ...PEER_DEBIAN_PACKAGES.map(({ debianPackage, what, find }) => ({
      debianPackage,
      what,
      foundAt: find(),
    })),
  ];
}

/** gcc-multilib installs the 32-bit runtime objects under the gcc library directory. */
function findGccMultilib(): string | undefined {
  const base = '/usr/lib/gcc/x86_64-linux-gnu';
  let versions: string[];
  try {
    versions = readdirSync(base);
  } catch {
    return undefined;
  }
  return versions.map((v) => join(base, v, '32', 'crtbegin.o')).find((p) => existsSync(p));
}

/** The exact command that installs `packages`, for a user who is not root. */
export function installCommandFor(packages: readonly string[]): string {
  return `sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/** The host's lab tools, or a {@link LabSetupError} naming the install command. */
export function requireLabHost(): LabHost {
  const requirements = inspectLabHost();
  const missing = requirements.filter((r) => r.foundAt === undefined).map((r) => r.debianPackage);
  if (missing.length > 0) throw missingPackagesError(missing);
  const at = (pkg: string) => requirements.find((r) => r.debianPackage === pkg)?.foundAt ?? '';
  const kernel = findLabKernel();
  if (!kernel) throw missingPackagesError(['linux-image-amd64']);
  return {
    qemu: at('qemu-system-x86'),
    kernel,
    busybox: at('busybox-static'),
    modprobe: at('kmod'),
    sgInq: at('sg3-utils'),
  };
}

function missingPackagesError(missing: readonly string[]): LabSetupError {
  const command = installCommandFor(missing);
  return new LabSetupError(`missing ${missing.join(', ')}; install with: ${command}`, missing, command);
}

/** How {@link ensureLabHost} may change the host. */
export interface EnsureLabHostOptions {
  /** Install missing packages with apt-get when running as root (default true). */
  readonly install?: boolean;
  /** Progress display for the install step. */
  readonly progress?: LabProgress;
}

/**
 * Makes sure the host has the lab's tools: when something is missing and the process
 * runs as root, `apt-get update` then `apt-get install -y --no-install-recommends` the
 * missing packages; otherwise a {@link LabSetupError} with the one install command.
 */
export async function ensureLabHost(
  options: EnsureLabHostOptions = {},
): Promise<LabHost & { installed: string[] }> {
  const missing = inspectLabHost()
    .filter((r) => r.foundAt === undefined)
    .map((r) => r.debianPackage);
  if (missing.length === 0) return { ...requireLabHost(), installed: [] };
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || options.install === false) throw missingPackagesError(missing);
  const run = async () => {
    await runApt(['update']);
    await runApt(['install', '-y', '--no-install-recommends', ...missing]);
  };
  if (options.progress) await options.progress.step(`installing ${missing.join(', ')}`, run);
  else await run();
  return { ...requireLabHost(), installed: missing };
}

function runApt(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) =>
      reject(new LabSetupError(`cannot run apt-get: ${error.message}`, [], `apt-get ${args.join(' ')}`)),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        const last = log.trim().split('\n').slice(-1)[0] ?? '';
        const command = `apt-get ${args.join(' ')}`;
        reject(new LabSetupError(`'${command}' failed with exit code ${code}: ${last}`, [], command));
      }
    });
  });
}
