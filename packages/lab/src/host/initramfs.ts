/**
 * The guest's initramfs: static busybox, the kernel modules the lab loads (with their
 * dependencies and the `modules.*` indexes busybox's modprobe reads) and `/init`. Built
 * once and cached, keyed by the kernel version, the module set (names, resolved files,
 * their sizes and times), busybox and the init script; a changed input gives a new key,
 * the old image is deleted and a new one built.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ExitStatus } from '@sgv4/core';
import { LabError } from '../errors.js';
import type { LabKernel } from './kernel.js';
import { type NewcEntry, writeNewcArchive } from './newc-archive.js';

/**
 * Modules the guest loads: the SCSI pass-through stack (sg, sd_mod for /dev/sda and its
 * queue limits, scsi_debug), the virtio 9p transport for the shared file systems, and the
 * iSCSI initiator modules (loaded on demand by the tests that use them).
 */
export const LAB_MODULES = [
  'sg',
  'sd_mod',
  'scsi_debug',
  'virtio_pci',
  '9pnet_virtio',
  '9p',
  // The kernel's iSCSI initiator (iscsi_tcp) and the crc32c it needs for digests: the chroot's
  // modprobe helper runs in the initramfs root, so crc32c cannot be autoloaded later.
  'iscsi_tcp',
  'crc32c_generic',
];

/** Bump when the archive layout changes, to invalidate every cached image. */
const LAYOUT_VERSION = 1;

/** Inputs of an initramfs build. */
export interface InitramfsInputs {
  /** The guest kernel (its modules go in). */
  readonly kernel: LabKernel;
  /** Module names to include with their dependencies. */
  readonly modules: readonly string[];
  /** Statically linked busybox. */
  readonly busybox: string;
  /** `modprobe`, to resolve dependencies (`--show-depends`, softdeps included). */
  readonly modprobe: string;
  /** The `/init` text. */
  readonly initScript: string;
  /** The cache directory. */
  readonly cacheDir: string;
}

/** A ready initramfs. */
export interface Initramfs {
  /** The gzip-compressed newc archive. */
  readonly path: string;
  /** The cache key (hex). */
  readonly key: string;
  /** True when this call built it; false when the cached one was current. */
  readonly built: boolean;
  /** Module files included, absolute host paths. */
  readonly moduleFiles: readonly string[];
}

/** The default cache: `$SGV4_LAB_CACHE_DIR`, else `$XDG_CACHE_HOME/sgv4/lab`, else `~/.cache/sgv4/lab`. */
export function defaultLabCacheDir(): string {
  if (process.env.SGV4_LAB_CACHE_DIR) return process.env.SGV4_LAB_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'sgv4', 'lab');
}

/** The module files `names` need, in load order, via `modprobe -S <version> --show-depends` per name. */
export function resolveModuleFiles(kernel: LabKernel, names: readonly string[], modprobe: string): string[] {
  const files: string[] = [];
  for (const name of names) {
    let output: string;
    try {
      output = execFileSync(modprobe, ['-S', kernel.version, '--show-depends', name], { encoding: 'utf8' });
    } catch (error) {
      throw new LabError(
        `cannot resolve the dependencies of kernel module '${name}' for ${kernel.version}: ${(error as Error).message}`,
        ExitStatus.FILE_ERROR,
      );
    }
    for (const line of output.split('\n')) {
      const match = /^insmod (\S+)/.exec(line.trim());
      if (match?.[1] && !files.includes(match[1])) files.push(match[1]);
    }
  }
  return files;
}

function fileFingerprint(path: string): string {
  const s = statSync(path);
  return `${path}:${s.size}:${s.mtimeMs}`;
}

/** The cache key of `inputs` given the resolved module files. */
export function initramfsKey(inputs: InitramfsInputs, moduleFiles: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(
    `layout ${LAYOUT_VERSION}\nkernel ${inputs.kernel.version}\nmodules ${inputs.modules.join(' ')}\n`,
  );
  for (const file of moduleFiles) hash.update(`${fileFingerprint(file)}\n`);
  hash.update(`busybox ${fileFingerprint(inputs.busybox)}\n`);
  hash.update(`init ${inputs.initScript}`);
  return hash.digest('hex');
}

/** Returns the cached initramfs for `inputs`, building it (atomically) when absent or stale. */
export function ensureInitramfs(inputs: InitramfsInputs): Initramfs {
  const moduleFiles = resolveModuleFiles(inputs.kernel, inputs.modules, inputs.modprobe);
  const key = initramfsKey(inputs, moduleFiles);
  const prefix = `initramfs-${inputs.kernel.version}-`;
  const path = join(inputs.cacheDir, `${prefix}${key.slice(0, 16)}.cpio.gz`);
  try {
    statSync(path);
    return { path, key, built: false, moduleFiles };
  } catch {
    // not cached yet
  }
  mkdirSync(inputs.cacheDir, { recursive: true });
  const image = gzipSync(writeNewcArchive(initramfsEntries(inputs, moduleFiles)), { level: 6 });
  // Write then rename, so two labs building at once never see a partial image.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, image);
  renameSync(temporary, path);
  for (const name of readdirSync(inputs.cacheDir)) {
    if (name.startsWith(prefix) && name.endsWith('.cpio.gz') && join(inputs.cacheDir, name) !== path) {
      unlinkSync(join(inputs.cacheDir, name));
    }
  }
  return { path, key, built: true, moduleFiles };
}

function initramfsEntries(inputs: InitramfsInputs, moduleFiles: readonly string[]): NewcEntry[] {
  const entries: NewcEntry[] = [];
  const dirs = new Set<string>();
  const addDir = (dir: string) => {
    if (dir === '.' || dir === '/' || dirs.has(dir)) return;
    addDir(dirname(dir));
    dirs.add(dir);
    entries.push({ kind: 'dir', path: dir, mode: 0o755 });
  };
  const addFile = (path: string, data: Buffer, mode: number) => {
    addDir(dirname(path));
    entries.push({ kind: 'file', path, data, mode });
  };
  const rel = (absolute: string) => absolute.replace(/^\/+/, '');
  addFile('bin/busybox', readFileSync(inputs.busybox), 0o755);
  addFile('init', Buffer.from(inputs.initScript, 'utf8'), 0o755);
  const modulesDir = rel(inputs.kernel.modulesDir);
  for (const name of readdirSync(inputs.kernel.modulesDir)) {
    if (name.startsWith('modules.'))
      addFile(`${modulesDir}/${name}`, readFileSync(join(inputs.kernel.modulesDir, name)), 0o644);
  }
  for (const file of moduleFiles) {
    const target = file.startsWith(inputs.kernel.modulesDir)
      ? `${modulesDir}${file.slice(inputs.kernel.modulesDir.length)}`
      : rel(file);
    addFile(target, readFileSync(file), 0o644);
  }
  return entries;
}
