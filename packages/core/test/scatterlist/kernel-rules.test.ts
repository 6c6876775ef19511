/**
 * Transfer rules, each against the Linux 6.1 code it models: the sg check order (drivers/scsi/sg.c sg_new_write ->
 * sg_common_write), import_single_range / __import_iovec (lib/iov_iter.c), the bsg iovec
 * hazard (drivers/scsi/scsi_bsg.c) and the ATAPI DMA drain (drivers/scsi/scsi_lib.c).
 */
import {
  ATAPI_MAX_DRAIN,
  atapiCommandType,
  atapiNeedsDmaDrain,
  atapiQueueLimits,
  InvalidFieldError,
  iovecArrayBytes,
  maxRwCount,
  planTransfer,
  queueLimitsPreset,
  sgOpenReserve,
  sgSetReservedSize,
  TRANSFER_RULES,
  X86_64_TASK_SIZE_MAX,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

const scsiDebug = queueLimitsPreset('scsi-debug').limits;
const MIB = 1024 * 1024;

describe('sg check order: sg_new_write (mmap) before sg_common_write (256 MiB)', () => {
  const sg = (length: number, mmapIo: boolean) =>
    planTransfer({
      limits: scsiDebug,
      iface: 'sg',
      direction: 'from-device',
      iovecs: [{ address: 0, length }],
      sg: { mmapIo },
    });
  it('MMAP_IO with dxfer_len 256 MiB and a 32 KiB reserve is ENOMEM, not EINVAL', () => {
    expect(sg(256 * MIB, true).refusal).toMatchObject({ errno: 'ENOMEM', id: 'sg-mmap-reserve-too-small' });
    expect(sg(256 * MIB, false).refusal).toMatchObject({ errno: 'EINVAL', id: 'sg-max-dxfer-len' });
    expect(sg(256 * MIB, false).refusal?.kernelFunction).toBe('sg_common_write (drivers/scsi/sg.c)');
  });
  it('a reserve of 256 MiB would pass the mmap check and meet the limit', () => {
    const env = { limits: { ...scsiDebug, maxSectors: 0xffffffff } };
    const big = sgSetReservedSize(sgOpenReserve(env), 256 * MIB, env).state;
    const plan = planTransfer({
      limits: scsiDebug,
      iface: 'sg',
      direction: 'from-device',
      iovecs: [{ address: 0, length: 256 * MIB }],
      sg: { mmapIo: true, reserve: big },
    });
    expect(big.buffer.bufflen).toBeLessThan(256 * MIB); // 2048 x 32 KiB elements at most
    expect(plan.refusal?.id).toBe('sg-mmap-reserve-too-small');
  });
});

describe('import_single_range / __import_iovec (lib/iov_iter.c)', () => {
  const max = maxRwCount();
  it('MAX_RW_COUNT is INT_MAX & PAGE_MASK', () => {
    expect(max).toBe(0x7fff_f000);
    expect(maxRwCount(65536)).toBe(0x7fff_0000);
  });
  it('cuts a flat buffer to MAX_RW_COUNT before access_ok', () => {
    const address = X86_64_TASK_SIZE_MAX - max - 1; // odd: copied, never pinned
    const plan = planTransfer({
      limits: scsiDebug,
      iface: 'bsg',
      direction: 'from-device',
      iovecs: [{ address, length: 0xffff_ffff }],
      userPagesMapped: false,
    });
    expect(plan.lengthCap).toMatchObject({ requested: 0xffff_ffff, capped: max });
    expect(plan.length).toBe(max);
    // The copy fails in the bio code (2048 segments), not in access_ok.
    expect(plan.refusal).toMatchObject({ errno: 'EINVAL', id: 'bio-max-segments' });
    // Without the cap the range would reach past TASK_SIZE_MAX: one byte further is EFAULT.
    const past = planTransfer({
      limits: scsiDebug,
      iface: 'bsg',
      direction: 'from-device',
      iovecs: [{ address: address + 2, length: 0xffff_ffff }],
    });
    expect(past.refusal).toMatchObject({ errno: 'EFAULT', id: 'access-ok' });
  });
  it('block SG_IO: the 32-bit EIO check first, then the cap', () => {
    const address = X86_64_TASK_SIZE_MAX - max - 1;
    const block = (length: number) =>
      planTransfer({
        limits: scsiDebug,
        iface: 'block',
        direction: 'from-device',
        iovecs: [{ address, length }],
        userPagesMapped: false,
      });
    expect(block(0xffff_ffff).refusal?.id).toBe('block-max-hw-sectors');
    expect(block(0xffff_fe00).lengthCap?.capped).toBe(max);
    expect(block(0xffff_fe00).refusal?.id).toBe('bio-max-segments');
  });
  it('iovecs: access_ok per iovec over its full length, the total cut to MAX_RW_COUNT', () => {
    const plan = planTransfer({
      limits: scsiDebug,
      iface: 'block',
      direction: 'from-device',
      iovecs: [
        { address: 0x1000, length: 0x6000_0000 },
        { address: 0x8000_0000, length: 0x6000_0000 },
      ],
      dxferLength: 0xc000_0000,
      userPagesMapped: false,
    });
    expect(plan.lengthCap).toMatchObject({ requested: 0xc000_0000, capped: max });
    const beyond = planTransfer({
      limits: scsiDebug,
      iface: 'block',
      direction: 'from-device',
      iovecs: [
        { address: 0x1000, length: 4096 },
        { address: X86_64_TASK_SIZE_MAX - 4096, length: 8192 },
      ],
      dxferLength: 4096,
    });
    // Truncation to dxfer_len comes after import: the second iovec still fails access_ok.
    expect(beyond.refusal).toMatchObject({ errno: 'EFAULT', id: 'access-ok' });
  });
  it('unmapped pages: EFAULT when pinned or copied in, none for a data-in copy', () => {
    const at = (address: number, direction: 'from-device' | 'to-device') =>
      planTransfer({
        limits: scsiDebug,
        iface: 'bsg',
        direction,
        iovecs: [{ address, length: 8192 }],
        userPagesMapped: false,
      });
    expect(at(0x10000, 'from-device').refusal).toMatchObject({ errno: 'EFAULT', id: 'user-pages-fault' });
    expect(at(0x10001, 'from-device').outcome).toBe('mapped');
    expect(at(0x10001, 'to-device').refusal?.id).toBe('user-pages-fault');
  });
});

describe('bsg ignores dout/din_iovec_count (scsi_bsg_sg_io_fn)', () => {
  const iovecs = [
    { address: 0x7f00_0000_1000, length: 256 },
    { address: 0x7f00_0000_3000, length: 256 },
  ];
  it('maps the iovec array as data: the device receives the array bytes', () => {
    const plan = planTransfer({
      limits: scsiDebug,
      iface: 'bsg',
      direction: 'to-device',
      iovecs,
      vector: true,
      iovecArrayAddress: 0x7f00_0000_0000,
      dxferLength: 512,
    });
    expect(plan.outcome).toBe('mapped');
    expect(plan.hazard).toMatchObject({
      id: 'bsg-ignores-iovec-count',
      mappedAddress: 0x7f00_0000_0000,
      mappedLength: 512,
      arrayLength: 32,
    });
    expect(Buffer.from(plan.hazard?.arrayBytes ?? []).toString('hex')).toBe(
      '00100000007f0000' + '0001000000000000' + '00300000007f0000' + '0001000000000000',
    );
    expect(plan.bios[0]?.[0]?.physicalAddress).toBe(0x7f00_0000_0000);
    expect(plan.hazard?.explanation).toMatch(/receives the 32-byte iovec array/);
  });
  it('data-in overwrites the array; a flat buffer has no hazard; the address is required', () => {
    const din = planTransfer({
      limits: scsiDebug,
      iface: 'bsg',
      direction: 'from-device',
      iovecs,
      vector: true,
      iovecArrayAddress: 0x5000,
      dxferLength: 16,
    });
    expect(din.hazard?.arrayBytes).toHaveLength(16);
    expect(din.hazard?.explanation).toMatch(/overwrites/);
    const flat = planTransfer({
      limits: scsiDebug,
      iface: 'bsg',
      direction: 'from-device',
      iovecs: [iovecs[0]!],
    });
    expect(flat.hazard).toBeUndefined();
    expect(() =>
      planTransfer({ limits: scsiDebug, iface: 'bsg', direction: 'to-device', iovecs, vector: true }),
    ).toThrow(InvalidFieldError);
    expect(iovecArrayBytes([])).toHaveLength(0);
  });
});

describe('ATAPI DMA drain (scsi_cmd_needs_dma_drain, ata_scsi_dma_need_drain)', () => {
  const atapi = atapiQueueLimits(scsiDebug);
  it('libata: pad mask 3, one segment kept for the drain', () => {
    expect(atapi.dmaPadMask).toBe(3);
    expect(atapi.maxSegments).toBe(scsiDebug.maxSegments - 1);
    expect(atapiQueueLimits({ ...scsiDebug, maxSegments: 1 }).maxSegments).toBe(1);
  });
  it('atapi_cmd_type classes', () => {
    expect(
      [0x28, 0xa8, 0x2a, 0xaa, 0x2e, 0xbe, 0xb9, 0x85, 0xa1, 0x12].map((op) => atapiCommandType(op)),
    ).toEqual([
      'read',
      'read',
      'write',
      'write',
      'write',
      'read-cd',
      'read-cd',
      'pass-thru',
      'pass-thru',
      'misc',
    ]);
    expect(atapiCommandType(0x85, false)).toBe('misc');
    expect(atapiNeedsDmaDrain(0x12, 'from-device')).toBe(true);
    expect(atapiNeedsDmaDrain(0x12, 'to-device')).toBe(false);
    expect(atapiNeedsDmaDrain(0x28, 'from-device')).toBe(false);
  });
  it('INQUIRY of 36 bytes: data, no pad (36 is a multiple of 4), a 16 KiB drain entry, extra_len', () => {
    const plan = planTransfer({
      limits: atapi,
      iface: 'sg',
      direction: 'from-device',
      iovecs: [{ address: 0x10000, length: 36 }],
      atapi: { opcode: 0x12 },
    });
    expect(plan.outcome).toBe('mapped');
    expect(plan.segments.map((s) => [s.length, s.drain === true])).toEqual([
      [36, false],
      [ATAPI_MAX_DRAIN, true],
    ]);
    expect(plan).toMatchObject({ padLength: 0, drainLength: ATAPI_MAX_DRAIN, extraLength: ATAPI_MAX_DRAIN });
    expect(plan.table.entries).toBe(plan.nrPhysSegments + 1);
  });
  it('odd length: pad then drain; READ(10) and data-out: no drain', () => {
    const odd = planTransfer({
      limits: atapi,
      iface: 'block',
      direction: 'from-device',
      iovecs: [{ address: 0x10000, length: 18 }],
      atapi: { opcode: 0x03 },
    });
    expect(odd).toMatchObject({
      padLength: 2,
      drainLength: ATAPI_MAX_DRAIN,
      extraLength: ATAPI_MAX_DRAIN + 2,
    });
    const read = planTransfer({
      limits: atapi,
      iface: 'block',
      direction: 'from-device',
      iovecs: [{ address: 0x10000, length: 2048 }],
      atapi: { opcode: 0x28 },
    });
    expect(read).toMatchObject({ drainLength: 0, extraLength: 0 });
    const out = planTransfer({
      limits: atapi,
      iface: 'block',
      direction: 'to-device',
      iovecs: [{ address: 0x10000, length: 2048 }],
      atapi: { opcode: 0x55 },
    });
    expect(out.drainLength).toBe(0);
  });
});

describe('every refusal names a catalogued rule', () => {
  it('TRANSFER_RULES entries name a function and a file', () => {
    for (const [id, rule] of Object.entries(TRANSFER_RULES)) {
      expect(rule.kernelFunction, id).toMatch(/^[a-z_]/);
      expect(rule.file, id).toMatch(/^(block|drivers|lib)\//);
    }
  });
});
