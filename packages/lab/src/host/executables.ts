/**
 * Finding programs on the host: `PATH` lookup and the static-binary test busybox needs.
 * @module
 */
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** System directories searched after `PATH`, since non-root shells often lack the sbin ones. */
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of executable `name`, searching `PATH` then the system directories. */
export function findExecutable(
  name: string,
  pathVariable: string = process.env.PATH ?? '',
): string | undefined {
  const dirs = [...pathVariable.split(delimiter).filter((d) => d.length > 0), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * True when `path` is a 64-bit little-endian ELF executable without a PT_INTERP program
 * header, i.e. statically linked: the initramfs has no dynamic loader, so its busybox
 * must be the one from Debian's busybox-static, not the dynamically linked `busybox`.
 */
export function isStaticElf(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 64) return false;
    const isElf64Le = header.readUInt32BE(0) === 0x7f454c46 && header[4] === 2 && header[5] === 1;
    if (!isElf64Le) return false;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
