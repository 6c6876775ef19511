/**
 * The v3 constants against glibc's <scsi/sg.h> as gcc sees it. glibc 2.36's copy lacks the
 * newer kernel additions (SG_FLAG_MMAP_IO, SG_FLAG_Q_AT_*, SG_DXFER_UNKNOWN,
 * SG_GET_ACCESS_COUNT, SG_SCSI_RESET_TARGET/NO_ESCALATE): those are checked when a header
 * defines them, and their values are cited from the kernel's include/scsi/sg.h in the source.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as compat from '../src/index.js';

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const gcc = hasGcc();
if (!gcc)
  console.warn('constants-c: gcc is not installed, the constant checks against <scsi/sg.h> are skipped');

/** C macro -> the export holding its value (the same name unless noted). */
const CONSTANTS: readonly string[] = [
  'SG_DXFER_NONE',
  'SG_DXFER_TO_DEV',
  'SG_DXFER_FROM_DEV',
  'SG_DXFER_TO_FROM_DEV',
  'SG_DXFER_UNKNOWN',
  'SG_FLAG_DIRECT_IO',
  'SG_FLAG_LUN_INHIBIT',
  'SG_FLAG_UNUSED_LUN_INHIBIT',
  'SG_FLAG_MMAP_IO',
  'SG_FLAG_NO_DXFER',
  'SG_FLAG_Q_AT_TAIL',
  'SG_FLAG_Q_AT_HEAD',
  'SG_INFO_OK_MASK',
  'SG_INFO_OK',
  'SG_INFO_CHECK',
  'SG_INFO_DIRECT_IO_MASK',
  'SG_INFO_INDIRECT_IO',
  'SG_INFO_DIRECT_IO',
  'SG_INFO_MIXED_IO',
  'SG_EMULATED_HOST',
  'SG_SET_TRANSFORM',
  'SG_GET_TRANSFORM',
  'SG_SET_RESERVED_SIZE',
  'SG_GET_RESERVED_SIZE',
  'SG_GET_SCSI_ID',
  'SG_SET_FORCE_LOW_DMA',
  'SG_GET_LOW_DMA',
  'SG_SET_FORCE_PACK_ID',
  'SG_GET_PACK_ID',
  'SG_GET_NUM_WAITING',
  'SG_GET_SG_TABLESIZE',
  'SG_GET_VERSION_NUM',
  'SG_SCSI_RESET',
  'SG_SCSI_RESET_NOTHING',
  'SG_SCSI_RESET_DEVICE',
  'SG_SCSI_RESET_BUS',
  'SG_SCSI_RESET_HOST',
  'SG_SCSI_RESET_TARGET',
  'SG_SCSI_RESET_NO_ESCALATE',
  'SG_IO',
  'SG_GET_REQUEST_TABLE',
  'SG_SET_KEEP_ORPHAN',
  'SG_GET_KEEP_ORPHAN',
  'SG_GET_ACCESS_COUNT',
  'SG_SCATTER_SZ',
  'SG_DEF_FORCE_PACK_ID',
  'SG_DEF_KEEP_ORPHAN',
  'SG_DEF_RESERVED_SIZE',
  'SG_MAX_QUEUE',
  'SG_BIG_BUFF',
  'SG_MAX_SENSE',
  'SG_SET_TIMEOUT',
  'SG_GET_TIMEOUT',
  'SG_GET_COMMAND_Q',
  'SG_SET_COMMAND_Q',
  'SG_SET_DEBUG',
  'SG_NEXT_CMD_LEN',
  'SG_DEF_COMMAND_Q',
  'SG_DEF_UNDERRUN_FLAG',
  'SG_INTERFACE_ID_ORIG',
];

/** Macros glibc 2.36 defines, so the check cannot silently check nothing. */
const IN_GLIBC = CONSTANTS.filter(
  (n) =>
    ![
      'SG_DXFER_UNKNOWN',
      'SG_FLAG_UNUSED_LUN_INHIBIT',
      'SG_FLAG_MMAP_IO',
      'SG_FLAG_Q_AT_TAIL',
      'SG_FLAG_Q_AT_HEAD',
      'SG_SCSI_RESET_TARGET',
      'SG_SCSI_RESET_NO_ESCALATE',
      'SG_GET_ACCESS_COUNT',
      'SG_INTERFACE_ID_ORIG',
    ].includes(n),
);

const dir = mkdtempSync(join(tmpdir(), 'sg3-compat-constants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!gcc)('v3 constants against <scsi/sg.h>', () => {
  let printed = new Map<string, number>();
  if (gcc) {
    const body = CONSTANTS.map((n) => `#ifdef ${n}\n  printf("${n} %ld\\n", (long)(${n}));\n#endif`).join(
      '\n',
    );
    writeFileSync(
      join(dir, 'constants.c'),
      `#include <stdio.h>\n#include <scsi/sg.h>\nint main(void) {\n${body}\n  return 0;\n}\n`,
    );
    execFileSync('gcc', ['-Wall', '-Werror', '-o', join(dir, 'constants'), join(dir, 'constants.c')]);
    printed = new Map(
      execFileSync(join(dir, 'constants'), { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => {
          const [name, value] = l.split(' ');
          return [name ?? '', Number(value)] as const;
        }),
    );
  }

  it('defines every macro the header defines, with the same value', () => {
    const exports = compat as unknown as Record<string, unknown>;
    for (const [name, value] of printed) expect({ name, value: exports[name] }).toEqual({ name, value });
  });

  it('found every macro glibc 2.36 is known to define (the check is not vacuous)', () => {
    for (const name of IN_GLIBC) expect(printed.has(name), name).toBe(true);
  });

  it('exports every constant in the list, including the kernel-only ones', () => {
    const exports = compat as unknown as Record<string, unknown>;
    for (const name of CONSTANTS) expect(typeof exports[name], name).toBe('number');
  });
});

describe('v3 constant helpers', () => {
  it('masks a status the way status_byte() does', () => {
    expect(compat.maskedStatusOf(0x02)).toBe(compat.MaskedStatus.CHECK_CONDITION);
    expect(compat.maskedStatusOf(0x22)).toBe(compat.MaskedStatus.COMMAND_TERMINATED);
    expect(compat.maskedStatusOf(0x28)).toBe(compat.MaskedStatus.QUEUE_FULL);
    expect(compat.maskedStatusOf(0x40)).toBe(compat.MaskedStatus.TASK_ABORTED);
    expect(compat.maskedStatusOf(0xff)).toBe(0x7f);
  });

  it('names directions', () => {
    expect(compat.sgDxferDirectionName(compat.SG_DXFER_TO_FROM_DEV)).toBe('SG_DXFER_TO_FROM_DEV');
    expect(compat.sgDxferDirectionName(7)).toBe('dxfer_direction 7');
  });

  it('has the v3 flag mask of the six defined bits', () => {
    expect(compat.SG_V3_FLAG_MASK).toBe(0x10037);
  });
});
