/**
 * SG_DXFER_TO_FROM_DEV on Linux 6.1.80+ (the lab's 6.1.192): block/blk-map.c
 * `bio_copy_user_iov()` copies the data in from a copy of the iterator and never advances it,
 * so `blk_rq_map_user_iov()` maps the transfer again and again from sg's buffer until its
 * pages run out (ENOMEM) or `blk_rq_append_bio()` refuses a bio (EINVAL). Only sg's indirect
 * path (rq_map_data with from_user, drivers/scsi/sg.c `sg_start_req`) meets it.
 */
import {
  InvalidFieldError,
  planTransfer,
  predictSubmission,
  type QueueLimits,
  queueLimitsPreset,
  remapToFromDevCopy,
  type SgTransferOptions,
  sgBuildIndirect,
  sgLinkReserve,
  sgOpenReserve,
  sgSetReservedSize,
  sgToFromDevRefusal,
  TRANSFER_RULES,
  type TransferDirection,
  type UserIovec,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

const scsiDebug = queueLimitsPreset('scsi-debug').limits;
const BASE = 0x7f00_0000_0000;
const flat = (length: number, address = BASE): UserIovec[] => [{ address, length }];

function sg(
  direction: TransferDirection,
  iovecs: UserIovec[],
  options: SgTransferOptions = {},
  limits = scsiDebug,
) {
  return planTransfer({ limits, iface: 'sg', direction, iovecs, sg: options });
}

describe('sg-to-from-dev-regression fires on sg indirect TO_FROM_DEV', () => {
  it('512 bytes through the 32 KiB reserve: 64 rounds fill its 8 pages, the 65th is ENOMEM', () => {
    const plan = sg('to-from-device', flat(512));
    expect(plan).toMatchObject({ outcome: 'refused', buffer: 'sg-reserve', mode: 'copy', sgDirectIo: false });
    expect(plan.refusal).toMatchObject({
      errno: 'ENOMEM',
      id: 'sg-to-from-dev-regression',
      kernelFunction: 'bio_copy_user_iov (map_data->from_user) / blk_rq_map_user_iov (block/blk-map.c)',
    });
    expect(plan.refusal?.rule).toMatch(/round 65, after 32768 bytes and 64 segments: the buffer's 8 pages/);
    expect(plan.copyReason?.rule).toBe('rq-map-data');
  });

  it('the whole reserve, a private buffer larger than it, an iovec list, MMAP_IO: ENOMEM in round 2 or later', () => {
    expect(sg('to-from-device', flat(32768)).refusal?.rule).toMatch(/round 2, after 32768 bytes/);
    const big = sg('to-from-device', flat(65536));
    expect(big).toMatchObject({ buffer: 'sg-indirect', refusal: { errno: 'ENOMEM' } });
    expect(big.refusal?.rule).toMatch(/round 2, after 65536 bytes and 16 segments: the buffer's 16 pages/);
    const iov = sg('to-from-device', [
      { address: BASE, length: 256 },
      { address: BASE + 4096, length: 256 },
    ]);
    expect(iov.refusal).toMatchObject({ errno: 'ENOMEM', id: 'sg-to-from-dev-regression' });
    expect(sg('to-from-device', flat(512), { mmapIo: true }).refusal?.id).toBe('sg-to-from-dev-regression');
    // SG_FLAG_DIRECT_IO that sg does not honour (allow_dio 0, or a misaligned buffer) is indirect.
    expect(sg('to-from-device', flat(512), { directIo: true }).refusal?.errno).toBe('ENOMEM');
    const odd = sg('to-from-device', flat(512, BASE + 1), { directIo: true, allowDio: true });
    expect(odd.refusal?.errno).toBe('ENOMEM');
  });

  it('small transfers meet max_segments first: EINVAL up to 12 bytes, ENOMEM from 16 (scsi_debug: 2048)', () => {
    const at = (n: number) => sg('to-from-device', flat(n)).refusal;
    expect(at(1)).toMatchObject({ errno: 'EINVAL', id: 'sg-to-from-dev-regression' });
    expect(at(1)?.rule).toMatch(/round 2049, after 2049 bytes and 2048 segments: .*max_segments 2048/);
    // 12 bytes straddle a page boundary now and then: two segments in such a round.
    expect(at(12)?.rule).toMatch(/round 2045, .*2048 segments: .*max_segments/);
    // 16 x 2048 = 32 KiB: the pages run out exactly when the segments do; ENOMEM is checked first.
    expect(at(16)).toMatchObject({ errno: 'ENOMEM' });
    expect(at(16)?.rule).toMatch(/round 2049, after 32768 bytes and 2048 segments/);
  });

  it('max_hw_sectors can refuse a round first (EINVAL)', () => {
    const limits: QueueLimits = { ...scsiDebug, maxHwSectors: 16 };
    const plan = sg('to-from-device', flat(4096), {}, limits);
    expect(plan.refusal).toMatchObject({ errno: 'EINVAL', id: 'sg-to-from-dev-regression' });
    expect(plan.refusal?.rule).toMatch(/round 3, .*max_hw_sectors 16/);
  });

  it('uses the reserve elements sg_link_reserve links, not the whole reserve', () => {
    const env = { limits: scsiDebug };
    const reserve = sgSetReservedSize(sgOpenReserve(env), 256 * 1024, env).state;
    expect(reserve.buffer.elements).toBe(8);
    expect(sgLinkReserve(reserve.buffer, 512)).toMatchObject({ elements: 1, bufflen: 512, pageOrder: 3 });
    expect(sgLinkReserve(reserve.buffer, 32769).elements).toBe(2);
    expect(sgLinkReserve(reserve.buffer, 256 * 1024).elements).toBe(8);
    // One linked element: ENOMEM after 64 rounds, as with the default reserve (all 8 elements
    // would let 2048 rounds run into max_segments).
    expect(sg('to-from-device', flat(512), { reserve }).refusal?.rule).toMatch(/round 65,/);
  });
});

describe('sg-to-from-dev-regression passes everything else', () => {
  it('FROM_DEV and TO_DEV of the same sizes map through the same buffers', () => {
    for (const direction of ['from-device', 'to-device'] as const) {
      for (const length of [12, 512, 32768, 65536]) {
        expect(sg(direction, flat(length)).outcome, `${direction} ${length}`).toBe('mapped');
      }
    }
  });

  it('direct IO (allow_dio, SG_FLAG_DIRECT_IO, aligned) pins the caller pages: no map_data', () => {
    for (const length of [512, 65536]) {
      const plan = sg('to-from-device', flat(length), { allowDio: true, directIo: true });
      expect(plan).toMatchObject({ outcome: 'mapped', mode: 'zero-copy', sgDirectIo: true });
    }
  });

  it('block SG_IO maps without map_data, zero-copy or bounced; bsg refuses both directions', () => {
    const block = (iovecs: UserIovec[]) =>
      planTransfer({ limits: scsiDebug, iface: 'block', direction: 'to-from-device', iovecs });
    expect(block(flat(512))).toMatchObject({ outcome: 'mapped', mode: 'zero-copy' });
    expect(block(flat(512, BASE + 1))).toMatchObject({
      outcome: 'mapped',
      mode: 'copy',
      buffer: 'bounce-pages',
    });
    expect(block(flat(65536)).outcome).toBe('mapped');
    const bsg = planTransfer({
      limits: scsiDebug,
      iface: 'bsg',
      direction: 'to-from-device',
      iovecs: flat(512),
    });
    expect(bsg.refusal?.id).toBe('bsg-bidi');
  });

  it('no data (dxfer_len 0) maps nothing', () => {
    expect(
      planTransfer({ limits: scsiDebug, iface: 'sg', direction: 'to-from-device', iovecs: flat(0) }).outcome,
    ).toBe('no-data');
  });
});

describe('TO_FROM_DEV with a NULL dxferp: the copy-in reads address 0 (every 6.1.y)', () => {
  it('EFAULT (user-pages-fault) before the regression, with or without MMAP_IO', () => {
    for (const mmapIo of [false, true]) {
      const plan = sg('to-from-device', flat(512, 0), { mmapIo });
      expect(plan.refusal, `mmap ${mmapIo}`).toMatchObject({ errno: 'EFAULT', id: 'user-pages-fault' });
    }
  });
  it('null-mapped FROM_DEV and TO_DEV copy nothing in: mapped', () => {
    for (const direction of ['from-device', 'to-device'] as const) {
      expect(sg(direction, flat(512, 0), { mmapIo: true }).outcome).toBe('mapped');
    }
  });
  it('unmapped caller pages fault in the first round, before the regression', () => {
    const plan = planTransfer({
      limits: scsiDebug,
      iface: 'sg',
      direction: 'to-from-device',
      iovecs: flat(512),
      userPagesMapped: false,
    });
    expect(plan.refusal).toMatchObject({ errno: 'EFAULT', id: 'user-pages-fault' });
  });
});

describe('sgToFromDevRefusal and remapToFromDevCopy', () => {
  it('agree with planTransfer for a private buffer', () => {
    const built = sgBuildIndirect(65536, { limits: scsiDebug });
    expect(sgToFromDevRefusal(65536, built.buffer, scsiDebug)).toEqual(
      sg('to-from-device', flat(65536)).refusal,
    );
  });
  it('count rounds, bytes and segments', () => {
    const remap = remapToFromDevCopy(
      512,
      { kind: 'sg-buffer', elementSize: 32768, elements: 1 },
      scsiDebug,
      4096,
    );
    expect(remap).toMatchObject({
      errno: 'ENOMEM',
      stoppedBy: 'sg-buffer-pages',
      rounds: 65,
      bytesMapped: 32768,
      segments: 64,
    });
    const tiny = remapToFromDevCopy(
      1,
      { kind: 'sg-buffer', elementSize: 32768, elements: 1 },
      scsiDebug,
      4096,
    );
    expect(tiny).toMatchObject({
      errno: 'EINVAL',
      stoppedBy: 'bio-max-segments',
      rounds: 2049,
      segments: 2048,
    });
  });
  it('rejects inputs the kernel cannot produce, naming the field', () => {
    const buffer = { elements: 1, elementSize: 32768 };
    for (const [length, b, field] of [
      [0, buffer, 'length'],
      [32769, buffer, 'length'],
      [512, { elements: 0, elementSize: 32768 }, 'buffer.elements'],
      [512, { elements: 1, elementSize: 1000 }, 'buffer.elementSize'],
    ] as const) {
      expect(() => sgToFromDevRefusal(length, b, scsiDebug)).toThrow(InvalidFieldError);
      try {
        sgToFromDevRefusal(length, b, scsiDebug);
      } catch (error) {
        expect((error as InvalidFieldError).field).toBe(field);
      }
    }
  });
  it('is catalogued with its kernel function and file', () => {
    expect(TRANSFER_RULES['sg-to-from-dev-regression']).toMatchObject({
      file: 'block/blk-map.c',
      errno: 'ENOMEM',
    });
  });
});

describe('predictSubmission meets it in the data stage', () => {
  it('sg SG_IO TO_FROM_DEV 512 bytes is refused; the same on the disk is submitted', () => {
    const header = {
      kind: 'sg_io_hdr',
      interfaceId: 0x53,
      cmdLength: 10,
      cdb: Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0),
      dxferDirection: 'to-from-device',
      dxferLength: 512,
    } as const;
    const access = { openMode: 'read-write', capSysRawio: true } as const;
    const data = { iovecs: flat(512) };
    const onSg = predictSubmission({ iface: 'sg', header, access, limits: scsiDebug, data });
    expect(onSg).toMatchObject({
      outcome: 'refused',
      errno: 'ENOMEM',
      stage: 'data',
      rule: 'sg-to-from-dev-regression',
    });
    const onDisk = predictSubmission({ iface: 'block', header, access, limits: scsiDebug, data });
    expect(onDisk.outcome).toBe('submitted');
  });
});
