/**
 * Writing a cpio archive in the "newc" format, the one the kernel unpacks as an
 * initramfs (init/initramfs.c; Documentation/driver-api/early-userspace/buffer-format.rst):
 * a 110-byte ASCII header ("070701" and 13 eight-digit hex fields), the NUL-terminated
 * name padded to 4 bytes, the data padded to 4 bytes, and a final "TRAILER!!!" entry.
 * Writing it here keeps the build free of a cpio binary and byte-for-byte deterministic.
 * @module
 */

/** One archive member. */
export type NewcEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode: number }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly data: Buffer };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

function header(ino: number, mode: number, nlink: number, size: number, nameSize: number): string {
  const fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameSize, 0];
  return `070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`;
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

/** The archive for `entries`, in order (a directory must precede what it contains). Owner root, mtime 0. */
export function writeNewcArchive(entries: readonly NewcEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (path: string, mode: number, nlink: number, data: Buffer) => {
    const name = Buffer.from(`${path}\0`, 'utf8');
    const head = Buffer.from(header(ino++, mode, nlink, data.length, name.length), 'ascii');
    parts.push(head, name, pad4(head.length + name.length), data, pad4(data.length));
  };
  for (const entry of entries) {
    if (entry.kind === 'dir') add(entry.path, S_IFDIR | entry.mode, 2, Buffer.alloc(0));
    else add(entry.path, S_IFREG | entry.mode, 1, entry.data);
  }
  add('TRAILER!!!', 0, 1, Buffer.alloc(0));
  return Buffer.concat(parts);
}
