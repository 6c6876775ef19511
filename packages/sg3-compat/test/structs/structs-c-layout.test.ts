/**
 * Proves the sg structure layouts and the encoder against the C compiler on both ABIs: a
 * program built with `gcc -m64` and `gcc -m32` against glibc's <scsi/sg.h> prints
 * offsetof/sizeof of every member and the bytes of each struct filled with distinct values;
 * the layouts and encoder must match them byte for byte. A second program (-m64) does the
 * same for transcriptions of the kernel's own compat structs (`struct compat_sg_io_hdr` from
 * include/scsi/sg.h, `struct compat_sg_req_info` from drivers/scsi/sg.c, `struct
 * compat_iovec` from include/linux/compat.h), which is what a 64-bit kernel reads from and
 * writes to a 32-bit caller: they must equal the -m32 layouts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CType,
  type FieldValue,
  SG_IO_HDR,
  SG_IOVEC,
  SG_REQ_INFO,
  SG_SCSI_ID,
  type SgAbi,
  type StructCodec,
} from '../../src/index.js';

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const gcc = hasGcc();
if (!gcc) console.warn('structs-c-layout: gcc is not installed, the C layout proofs are skipped');

/** A struct under test: its codec and the C type name the program uses for it. */
interface Subject {
  // biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of codecs
  readonly codec: StructCodec<any>;
  /** `struct sg_io_hdr` etc. on the glibc side. */
  readonly cType: string;
  /** The kernel's compat transcription's C type (compiled -m64). */
  readonly compatType: string;
}

const SUBJECTS: readonly Subject[] = [
  { codec: SG_IO_HDR, cType: 'struct sg_io_hdr', compatType: 'struct compat_sg_io_hdr' },
  { codec: SG_IOVEC, cType: 'struct sg_iovec', compatType: 'struct compat_iovec' },
  { codec: SG_REQ_INFO, cType: 'struct sg_req_info', compatType: 'struct compat_sg_req_info' },
  { codec: SG_SCSI_ID, cType: 'struct sg_scsi_id', compatType: 'struct sg_scsi_id' },
];

/** A distinct value for member `index` of C type `type` that fits the type on `abi`. */
function distinct(index: number, type: CType, abi: SgAbi): number | bigint {
  switch (type) {
    case 's8':
      return -(index + 3);
    case 'u8':
      return 0xa0 + index;
    case 's16':
      return -(0x1200 + index);
    case 'u16':
      return 0xb100 + index;
    case 's32':
      return -(0x1100_0000 + index * 0x10203);
    case 'u32':
      return 0xc100_0000 + index * 0x10203;
    case 'ptr':
    case 'ulong':
      return abi === 'lp64'
        ? 0x8000_0000_0000_0000n | (BigInt(index) << 40n) | BigInt(0x1020304 + index)
        : BigInt(0x8102_0304 + index * 0x111);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see Subject
function filledValue(codec: StructCodec<any>, abi: SgAbi): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  codec.fields.forEach((f, i) => {
    if (f.count === undefined) out[f.name] = distinct(i, f.type, abi);
    else
      out[f.name] = Array.from({ length: f.count }, (_, k) => distinct(i * 8 + k, f.type, abi)) as number[];
  });
  return out;
}

function cLiteral(v: number | bigint, type: CType): string {
  if (typeof v === 'bigint') return `(${type === 'ptr' ? 'void *' : 'unsigned long'})${v}UL`;
  return String(v);
}

/** C statements filling `var` (of the subject's type) with the distinct values and printing layout and bytes. */
function cBlock(s: Subject, type: string, abi: SgAbi, tag: string): string {
  const values = filledValue(s.codec, abi);
  const lines: string[] = [`  { ${type} v; memset(&v, 0, sizeof v);`];
  for (const f of s.codec.fields) {
    const value = values[f.name]!;
    if (Array.isArray(value)) {
      value.forEach((e: number | bigint, k: number) => {
        lines.push(`    v.${f.cName}[${k}] = ${cLiteral(e, f.type)};`);
      });
    } else if (tag === 'compat' && f.type === 'ptr') {
      lines.push(`    v.${f.cName} = ${value}U;`);
    } else if (tag === 'compat' && f.type === 'ulong') {
      lines.push(`    v.${f.cName} = ${value}U;`);
    } else {
      lines.push(`    v.${f.cName} = ${cLiteral(value as number | bigint, f.type)};`);
    }
    lines.push(
      `    printf("${tag} ${s.codec.cName} field ${f.cName} %zu %zu\\n", offsetof(${type}, ${f.cName}), sizeof v.${f.cName});`,
    );
  }
  lines.push(`    printf("${tag} ${s.codec.cName} sizeof %zu\\n", sizeof v);`);
  lines.push(`    dump("${tag} ${s.codec.cName} bytes", &v, sizeof v); }`);
  return lines.join('\n');
}

const PRELUDE = `#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <scsi/sg.h>
static void dump(const char *what, const void *p, size_t n) {
  const unsigned char *b = p;
  printf("%s ", what);
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\\n");
}
`;

/** Transcriptions of the kernel's compat structs (Linux 6.1), with its compat types spelled out. */
const COMPAT_STRUCTS = `typedef int32_t compat_int_t;
typedef uint32_t compat_uint_t;
typedef uint32_t compat_uptr_t;
typedef uint32_t compat_size_t;
struct compat_iovec { compat_uptr_t iov_base; compat_size_t iov_len; };
struct compat_sg_io_hdr {
  compat_int_t interface_id; compat_int_t dxfer_direction; unsigned char cmd_len; unsigned char mx_sb_len;
  unsigned short iovec_count; compat_uint_t dxfer_len; compat_uint_t dxferp; compat_uptr_t cmdp;
  compat_uptr_t sbp; compat_uint_t timeout; compat_uint_t flags; compat_int_t pack_id; compat_uptr_t usr_ptr;
  unsigned char status; unsigned char masked_status; unsigned char msg_status; unsigned char sb_len_wr;
  unsigned short host_status; unsigned short driver_status; compat_int_t resid; compat_uint_t duration;
  compat_uint_t info;
};
struct compat_sg_req_info {
  char req_state; char orphan; char sg_io_owned; char problem; int pack_id; compat_uptr_t usr_ptr;
  unsigned int duration; int unused;
};
`;

const dir = mkdtempSync(join(tmpdir(), 'sg3-compat-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compiles and runs `source` with gcc `flag`; returns its output lines by key (`tag struct what`). */
function run(name: string, flag: string, source: string): Map<string, string[]> {
  const c = join(dir, `${name}.c`);
  const exe = join(dir, name);
  writeFileSync(c, source);
  try {
    execFileSync('gcc', [flag, '-Wall', '-Werror', '-o', exe, c], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `gcc ${flag} failed${flag === '-m32' ? ' (is gcc-multilib installed? sgv4 lab setup installs it)' : ''}: ${stderr}`,
    );
  }
  const map = new Map<string, string[]>();
  for (const line of execFileSync(exe, { encoding: 'utf8' }).trim().split('\n')) {
    const parts = line.split(' ');
    const key = parts.slice(0, parts[2] === 'field' ? 4 : 3).join(' ');
    map.set(key, parts.slice(parts[2] === 'field' ? 4 : 3));
  }
  return map;
}

describe.skipIf(!gcc)('sg structures against gcc on both ABIs', () => {
  const body = (abi: SgAbi) => SUBJECTS.map((s) => cBlock(s, s.cType, abi, abi)).join('\n');
  const results: Record<SgAbi, Map<string, string[]>> = gcc
    ? {
        lp64: run('layout64', '-m64', `${PRELUDE}int main(void) {\n${body('lp64')}\n  return 0;\n}\n`),
        ilp32: run('layout32', '-m32', `${PRELUDE}int main(void) {\n${body('ilp32')}\n  return 0;\n}\n`),
      }
    : { lp64: new Map(), ilp32: new Map() };
  const compat = gcc
    ? run(
        'compat64',
        '-m64',
        `${PRELUDE}${COMPAT_STRUCTS}int main(void) {\n${SUBJECTS.map((s) => cBlock(s, s.compatType, 'ilp32', 'compat')).join('\n')}\n  return 0;\n}\n`,
      )
    : new Map<string, string[]>();

  for (const abi of ['lp64', 'ilp32'] as const) {
    for (const s of SUBJECTS) {
      const name = s.codec.cName;
      it(`${name} (${abi}): sizeof and every member's offsetof/sizeof as gcc ${abi === 'lp64' ? '-m64' : '-m32'}`, () => {
        const out = results[abi];
        const layout = s.codec.layout(abi);
        expect(Number(out.get(`${abi} ${name} sizeof`)?.[0])).toBe(layout.size);
        for (const f of layout.fields) {
          const [offset, size] = out.get(`${abi} ${name} field ${f.cName}`) ?? [];
          expect({ member: f.cName, offset: Number(offset), size: Number(size) }).toEqual({
            member: f.cName,
            offset: f.offset,
            size: f.size,
          });
        }
      });

      it(`${name} (${abi}): encodes a filled struct to gcc's bytes and decodes them back`, () => {
        const value = filledValue(s.codec, abi);
        const hex = Buffer.from(s.codec.encode(value, abi)).toString('hex');
        expect(hex).toBe(results[abi].get(`${abi} ${name} bytes`)?.[0]);
        expect(s.codec.decode(Buffer.from(hex, 'hex'), abi)).toEqual(value);
      });
    }
  }

  for (const s of SUBJECTS) {
    it(`the kernel's ${s.compatType} (gcc -m64) has the ilp32 layout and bytes of ${s.codec.cName}`, () => {
      const name = s.codec.cName;
      const layout = s.codec.layout('ilp32');
      expect(Number(compat.get(`compat ${name} sizeof`)?.[0])).toBe(layout.size);
      for (const f of layout.fields) {
        const [offset, size] = compat.get(`compat ${name} field ${f.cName}`) ?? [];
        expect({ member: f.cName, offset: Number(offset), size: Number(size) }).toEqual({
          member: f.cName,
          offset: f.offset,
          size: f.size,
        });
      }
      expect(compat.get(`compat ${name} bytes`)?.[0]).toBe(results.ilp32.get(`ilp32 ${name} bytes`)?.[0]);
    });
  }

  it('has the sizes the kernel documents: 88/64, 16/8, 24/20, 32/32', () => {
    expect(SUBJECTS.map((s) => [s.codec.size('lp64'), s.codec.size('ilp32')])).toEqual([
      [88, 64],
      [16, 8],
      [24, 20],
      [32, 32],
    ]);
  });
});
