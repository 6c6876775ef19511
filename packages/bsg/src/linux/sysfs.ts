/**
 * What sysfs says about SCSI devices (Linux 6.1 drivers/scsi/scsi_sysfs.c, sg.c, block/bsg.c,
 * block/blk-sysfs.c): which scsi_device a node belongs to, its identity attributes, its
 * sg/bsg/block nodes and its request-queue limits. Everything takes a sysfs root and a /dev
 * root so the parsing is tested on a tree built in a temporary directory, and in the lab on
 * the real one.
 * @module
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  InvalidFieldError,
  OsError,
  parseSysfsQueueLimits,
  SYSFS_QUEUE_LIMIT_FILES,
  type SysfsQueueLimits,
} from '@sgv4/core';
import type { Hctl } from '../transport/transport.js';

/** Where sysfs and the device nodes are (the real ones by default). */
export interface SysfsRoots {
  /** Default `/sys`. */
  readonly sysfsRoot?: string;
  /** Default `/dev`. */
  readonly devRoot?: string;
}

/** The attributes of one scsi_device directory. */
export interface ScsiDeviceAttributes {
  /** The directory (resolved). */
  readonly dir: string;
  /** `H:C:T:L`. */
  readonly address: string;
  /** Parsed address. */
  readonly hctl: Hctl;
  /** `type`: peripheral device type. */
  readonly peripheralType: number;
  /** `vendor` (trailing spaces trimmed). */
  readonly vendor: string;
  /** `model`. */
  readonly product: string;
  /** `rev`. */
  readonly revision: string;
  /** `queue_depth`, when the LLD exposes it. */
  readonly queueDepth?: number;
  /** `state` (running, offline, blocked...). */
  readonly state?: string;
  /** `vpd_pg80` bytes (the Unit Serial Number page the kernel fetched), when present. */
  readonly vpdPage80?: Uint8Array;
  /** `vpd_pg83` bytes (Device Identification), when present. */
  readonly vpdPage83?: Uint8Array;
  /** sg node name (`sg0`). */
  readonly sgName?: string;
  /** Block node name (`sda`). */
  readonly blockName?: string;
  /** bsg node name (`0:0:0:0`). */
  readonly bsgName?: string;
}

function sysfs(roots: SysfsRoots): string {
  return roots.sysfsRoot ?? '/sys';
}

function dev(roots: SysfsRoots): string {
  return roots.devRoot ?? '/dev';
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function readBytes(path: string): Uint8Array | undefined {
  try {
    const b = readFileSync(path);
    return b.length === 0 ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.length);
  } catch {
    return undefined;
  }
}

function firstEntry(dir: string): string | undefined {
  try {
    return readdirSync(dir).sort()[0];
  } catch {
    return undefined;
  }
}

/** Parses `H:C:T:L`; undefined when `text` is not one. */
export function parseHctl(text: string): Hctl | undefined {
  const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(text);
  if (m === null) return undefined;
  return { host: Number(m[1]), channel: Number(m[2]), target: Number(m[3]), lun: BigInt(m[4] ?? 0) };
}

/**
 * Reads a scsi_device directory (`/sys/bus/scsi/devices/H:C:T:L`): the identity attributes
 * scsi_sysfs.c shows (`type`, `vendor`, `model`, `rev`, `queue_depth`, `state`, the binary
 * `vpd_pg80`/`vpd_pg83` the kernel fetched at scan), and the names of its sg
 * (`scsi_generic/sgN`), block (`block/sdX`) and bsg (`bsg/H:C:T:L`) class devices.
 */
export function readScsiDevice(dir: string): ScsiDeviceAttributes {
  const resolved = realpathSync(dir);
  const address = basename(resolved);
  const hctl = parseHctl(address);
  if (hctl === undefined)
    throw new InvalidFieldError('scsi_device', 'must be a directory named H:C:T:L', resolved);
  const text = (name: string) => readText(join(resolved, name))?.replace(/\s+$/, '');
  const number = (name: string) => {
    const t = text(name);
    return t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
  };
  const vpdPage80 = readBytes(join(resolved, 'vpd_pg80'));
  const vpdPage83 = readBytes(join(resolved, 'vpd_pg83'));
  const sgName = firstEntry(join(resolved, 'scsi_generic'));
  const blockName = firstEntry(join(resolved, 'block'));
  const bsgName = firstEntry(join(resolved, 'bsg'));
  const queueDepth = number('queue_depth');
  const state = text('state');
  return {
    dir: resolved,
    address,
    hctl,
    peripheralType: number('type') ?? 0x1f,
    vendor: text('vendor') ?? '',
    product: text('model') ?? '',
    revision: text('rev') ?? '',
    ...(queueDepth !== undefined ? { queueDepth } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(vpdPage80 ? { vpdPage80 } : {}),
    ...(vpdPage83 ? { vpdPage83 } : {}),
    ...(sgName ? { sgName } : {}),
    ...(blockName ? { blockName } : {}),
    ...(bsgName ? { bsgName } : {}),
  };
}

/** The device nodes of a scsi_device that exist under the /dev root. */
export function deviceNodes(
  attrs: ScsiDeviceAttributes,
  roots: SysfsRoots = {},
): { sg?: string; bsg?: string; block?: string } {
  const d = dev(roots);
  const sg = attrs.sgName ? join(d, attrs.sgName) : undefined;
  const bsg = attrs.bsgName ? join(d, 'bsg', attrs.bsgName) : undefined;
  const block = attrs.blockName ? join(d, attrs.blockName) : undefined;
  return {
    ...(sg && existsSync(sg) ? { sg } : {}),
    ...(bsg && existsSync(bsg) ? { bsg } : {}),
    ...(block && existsSync(block) ? { block } : {}),
  };
}

/** Every scsi_device (`/sys/class/scsi_device/*`), in H:C:T:L order. */
export function listScsiDevices(roots: SysfsRoots = {}): ScsiDeviceAttributes[] {
  const classDir = join(sysfs(roots), 'class', 'scsi_device');
  let names: string[];
  try {
    names = readdirSync(classDir);
  } catch {
    return [];
  }
  const out: ScsiDeviceAttributes[] = [];
  for (const name of names) {
    if (parseHctl(name) === undefined) continue;
    try {
      out.push(readScsiDevice(join(classDir, name, 'device')));
    } catch {
      // A device being removed while we look: skip it.
    }
  }
  return out.sort((a, b) => compareHctl(a.hctl, b.hctl));
}

/** Orders addresses numerically, host first. */
export function compareHctl(a: Hctl, b: Hctl): number {
  return (
    a.host - b.host ||
    a.channel - b.channel ||
    a.target - b.target ||
    (a.lun < b.lun ? -1 : a.lun > b.lun ? 1 : 0)
  );
}

/** The sysfs node of a device file, from its type and rdev (`/sys/dev/char/MAJ:MIN`, include/linux/kdev_t.h). */
export function sysfsNodeDir(path: string, roots: SysfsRoots = {}): { dir: string; type: 'char' | 'block' } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path, { bigint: true });
  } catch (error) {
    throw OsError.fromNodeError(error, 'stat') ?? error;
  }
  const rdev = st.rdev;
  // new_decode_dev(): major = (dev & 0xfff00) >> 8, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00).
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  const type = st.isBlockDevice() ? 'block' : 'char';
  return { dir: join(sysfs(roots), 'dev', type, `${major}:${minor}`), type };
}

/**
 * The scsi_device behind an sg, bsg or block node: the class device's `device` link (for a
 * partition, its parent disk's). Undefined when the node is not a SCSI device (e.g. a loop
 * device or a FIFO).
 */
export function scsiDeviceOfNode(
  path: string,
  roots: SysfsRoots = {},
): { attributes: ScsiDeviceAttributes; partition: boolean } | undefined {
  const { dir } = sysfsNodeDir(path, roots);
  let classDir: string;
  try {
    classDir = realpathSync(dir);
  } catch {
    return undefined;
  }
  const partition = existsSync(join(classDir, 'partition'));
  const deviceLink = partition ? join(classDir, '..', 'device') : join(classDir, 'device');
  try {
    const target = realpathSync(deviceLink);
    if (parseHctl(basename(target)) === undefined) return undefined;
    return { attributes: readScsiDevice(target), partition };
  } catch {
    return undefined;
  }
}

/**
 * The request-queue limits of a scsi_device, parsed by the core from its disk's
 * `queue/` directory (block/blk-sysfs.c); undefined when no block driver is bound (then
 * there is no queue directory in sysfs: an sg-only device such as a tape or an enclosure).
 */
export function queueLimitsOf(
  attrs: ScsiDeviceAttributes,
): (SysfsQueueLimits & { source: string }) | undefined {
  if (attrs.blockName === undefined) return undefined;
  const dir = join(attrs.dir, 'block', attrs.blockName, 'queue');
  const files: Record<string, string> = {};
  for (const name of SYSFS_QUEUE_LIMIT_FILES) {
    const t = readText(join(dir, name));
    if (t !== undefined) files[name] = t;
  }
  if (Object.keys(files).length === 0) return undefined;
  return { ...parseSysfsQueueLimits(files), source: `sysfs:${dir}` };
}
