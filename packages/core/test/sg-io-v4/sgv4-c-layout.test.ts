/**
 * Proves the sg_io_v4 layout and encoder against the C compiler: a program built against
 * <linux/bsg.h> prints offsetof/sizeof of every field and the bytes of a struct filled
 * with distinct values; the encoder must produce the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSgIoV4Header,
  decodeSgIoV4,
  encodeSgIoV4,
  SG_IO_V4_LAYOUT,
  SG_IO_V4_SIZE,
  type SgIoV4Header,
} from '../../src/index.js';

const hasCompiler = existsSync('/usr/include/linux/bsg.h') && whichGcc();

function whichGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A distinct value per field: u32/s32 fields get 0x11000000 + index*0x10203, u64 fields a 64-bit pattern. */
function distinctValue(index: number, type: 's32' | 'u32' | 'u64'): number | bigint {
  if (type === 'u64') return 0x8000_0000_0000_0000n | (BigInt(index) << 40n) | BigInt(0x1020304 + index);
  const v = 0x1100_0000 + index * 0x10203;
  return type === 's32' ? -v : v;
}

const dir = mkdtempSync(join(tmpdir(), 'sgv4-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasCompiler)('struct sg_io_v4 against gcc and <linux/bsg.h>', () => {
  const assignments = SG_IO_V4_LAYOUT.map((f, i) => {
    const v = distinctValue(i, f.type);
    return `  h.${f.cName} = ${typeof v === 'bigint' ? `${v}ULL` : `${v}`};`;
  }).join('\n');
  const offsets = SG_IO_V4_LAYOUT.map(
    (f) => `  printf("${f.cName} %zu %zu\\n", offsetof(struct sg_io_v4, ${f.cName}), sizeof h.${f.cName});`,
  ).join('\n');
  const program = `#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/bsg.h>
int main(void) {
  struct sg_io_v4 h;
  memset(&h, 0, sizeof h);
${assignments}
  printf("sizeof %zu\\n", sizeof h);
${offsets}
  const unsigned char *p = (const unsigned char *)&h;
  printf("bytes ");
  for (size_t i = 0; i < sizeof h; i++) printf("%02x", p[i]);
  printf("\\n");
  return 0;
}
`;
  writeFileSync(join(dir, 'layout.c'), program);
  let output = '';
  if (hasCompiler) {
    execFileSync('gcc', ['-Wall', '-Werror', '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    output = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
  }
  const lines = new Map(
    output
      .trim()
      .split('\n')
      .map((l) => {
        const [k, ...rest] = l.split(' ');
        return [k ?? '', rest] as const;
      }),
  );

  it('has the size gcc reports', () => {
    expect(Number(lines.get('sizeof')?.[0])).toBe(SG_IO_V4_SIZE);
  });

  it('has every field at gcc offsetof with gcc sizeof', () => {
    for (const f of SG_IO_V4_LAYOUT) {
      const [offset, size] = lines.get(f.cName) ?? [];
      expect({ field: f.cName, offset: Number(offset), size: Number(size) }).toEqual({
        field: f.cName,
        offset: f.offset,
        size: f.type === 'u64' ? 8 : 4,
      });
    }
    expect(SG_IO_V4_LAYOUT).toHaveLength(33);
  });

  it('encodes a filled struct to exactly the bytes gcc lays out, and decodes them back', () => {
    const partial: Record<string, number | bigint> = {};
    SG_IO_V4_LAYOUT.forEach((f, i) => {
      partial[f.name] = distinctValue(i, f.type);
    });
    const header = createSgIoV4Header(partial as Partial<SgIoV4Header>);
    const hex = Buffer.from(encodeSgIoV4(header)).toString('hex');
    expect(hex).toBe(lines.get('bytes')?.[0]);
    expect(decodeSgIoV4(Buffer.from(hex, 'hex'))).toEqual(header);
  });
});
