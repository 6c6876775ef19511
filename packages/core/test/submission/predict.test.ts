/**
 * Header and CDB-length checks per path in Linux 6.1's order (drivers/scsi/sg.c
 * sg_new_write / sg_common_write / sg_start_req; drivers/scsi/scsi_ioctl.c sg_io /
 * scsi_fill_sghdr_rq / sg_scsi_ioctl / scsi_cdrom_send_packet; block/bsg.c bsg_sg_io;
 * drivers/scsi/scsi_bsg.c scsi_bsg_sg_io_fn), and the sense reply (sg_new_read).
 */
import {
  CGC_DATA,
  commandSize,
  InvalidFieldError,
  ioctlCompletionResult,
  predictSubmission,
  queueLimitsPreset,
  type SgIoHdrFields,
  type SgIoV4Fields,
  SUBMISSION_RULES,
  type SubmissionAccess,
  type SubmissionRequest,
  sgSenseReply,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

const limits = queueLimitsPreset('scsi-debug').limits;
const INQUIRY = Uint8Array.of(0x12, 0, 0, 0, 36, 0);
const VENDOR = Uint8Array.of(0xc0, 0, 0, 0, 0, 0);
const MIB = 1024 * 1024;
const ro: SubmissionAccess = { openMode: 'read-only', capSysRawio: false };
const rw: SubmissionAccess = { openMode: 'read-write', capSysRawio: false };

function v3(extra: Partial<SgIoHdrFields> = {}): SgIoHdrFields {
  return {
    kind: 'sg_io_hdr',
    interfaceId: 0x53,
    cmdLength: 6,
    cdb: INQUIRY,
    dxferDirection: 'from-device',
    dxferLength: 36,
    ...extra,
  };
}

function v4(extra: Partial<SgIoV4Fields> = {}): SgIoV4Fields {
  return {
    kind: 'sg_io_v4',
    guard: 0x51,
    protocol: 0,
    subprotocol: 0,
    requestLength: 6,
    request: INQUIRY,
    doutXferLength: 0,
    dinXferLength: 36,
    ...extra,
  };
}

function predict(iface: SubmissionRequest['iface'], header: SubmissionRequest['header'], extra = {}) {
  return predictSubmission({ iface, header, access: ro, limits, ...extra });
}

describe('sg (sg_new_write -> sg_common_write -> sg_start_req)', () => {
  it("interface_id other than 'S' is ENOSYS, before the MMAP_IO checks", () => {
    const p = predict('sg', v3({ interfaceId: 0x51, mmapIo: true, dxferLength: MIB }));
    expect(p).toMatchObject({
      outcome: 'refused',
      errno: 'ENOSYS',
      rule: 'sg-interface-id',
      stage: 'header',
    });
  });
  it('MMAP_IO checks come before the CDB length; the CDB length before EPERM', () => {
    expect(predict('sg', v3({ cmdLength: 4, mmapIo: true, dxferLength: MIB })).errno).toBe('ENOMEM');
    const noCdb = predict('sg', v3({ cdb: null, cmdLength: 6 }));
    expect(noCdb).toMatchObject({ errno: 'EMSGSIZE', rule: 'sg-cdb-length' });
    expect(predict('sg', v3({ cmdLength: 5 })).errno).toBe('EMSGSIZE');
    expect(predict('sg', v3({ cmdLength: 253, cdb: new Uint8Array(253) })).errno).toBe('EMSGSIZE');
    const vendorLong = new Uint8Array(40);
    vendorLong[0] = 0xc0;
    expect(predict('sg', v3({ cmdLength: 40, cdb: vendorLong }))).toMatchObject({
      errno: 'EPERM',
      rule: 'privileged',
      stage: 'permission',
    });
  });
  it('EPERM, then 256 MiB (sg_common_write), then cmd_len > 32 (sg_start_req)', () => {
    expect(predict('sg', v3({ cdb: VENDOR, dxferLength: 256 * MIB })).errno).toBe('EPERM');
    const big = predict('sg', v3({ dxferLength: 256 * MIB }));
    expect(big).toMatchObject({ errno: 'EINVAL', rule: 'sg-max-dxfer-len' });
    expect(big.kernelFunction).toBe('sg_common_write (drivers/scsi/sg.c)');
    const long = new Uint8Array(33);
    long[0] = 0x12;
    const p = predict('sg', v3({ cmdLength: 33, cdb: long, dxferLength: 256 * MIB }));
    expect(p.rule).toBe('sg-max-dxfer-len');
    expect(predict('sg', v3({ cmdLength: 33, cdb: long }))).toMatchObject({
      errno: 'EINVAL',
      rule: 'sg-cdb-too-long',
      kernelFunction: 'sg_start_req (drivers/scsi/sg.c)',
    });
    expect(predict('sg', v3({ cmdLength: 32, cdb: new Uint8Array(32) })).outcome).toBe('submitted');
  });
  it('O_RDWR skips the filter; write(2) checks the header size and, first, the credentials', () => {
    expect(predictSubmission({ iface: 'sg', header: v3({ cdb: VENDOR }), access: rw, limits }).outcome).toBe(
      'submitted',
    );
    const write = (count: number, credentialsChanged = false) =>
      predictSubmission({
        iface: 'sg',
        call: 'write',
        header: v3({ interfaceId: 0 }),
        access: { ...rw, credentialsChanged },
        limits,
        writeCount: count,
      });
    expect(write(20)).toMatchObject({ errno: 'EIO', rule: 'sg-write-count' });
    expect(write(60).rule).toBe('sg-v3-header-size');
    expect(write(88).rule).toBe('sg-interface-id');
    expect(write(60, true)).toMatchObject({
      errno: 'EPERM',
      rule: 'sg-file-credentials-changed',
      stage: 'gate',
    });
  });
  it('with data, the plan decides last', () => {
    const p = predictSubmission({
      iface: 'sg',
      header: v3({ dxferLength: 64 * MIB }),
      access: rw,
      limits,
      data: { iovecs: [{ address: 0x10000, length: 64 * MIB }] },
    });
    expect(p).toMatchObject({ outcome: 'refused', errno: 'EINVAL', stage: 'data', rule: 'bio-max-segments' });
    const ok = predictSubmission({
      iface: 'sg',
      header: v3(),
      access: rw,
      limits,
      data: { iovecs: [{ address: 0x10000, length: 36 }] },
    });
    expect(ok.plan?.buffer).toBe('sg-reserve');
  });
});

describe('block SG_IO (sg_io, scsi_fill_sghdr_rq)', () => {
  it("interface_id is EINVAL here; dxfer_len's EIO comes before EPERM", () => {
    expect(predict('block', v3({ interfaceId: 0 }))).toMatchObject({
      errno: 'EINVAL',
      rule: 'block-interface-id',
    });
    expect(predict('block', v3({ cdb: VENDOR, dxferLength: 0xffff_ffff }))).toMatchObject({
      errno: 'EIO',
      rule: 'block-max-hw-sectors',
    });
    expect(predict('block', v3({ cdb: VENDOR })).errno).toBe('EPERM');
  });
  it('direction, > 32, < 6 (EMSGSIZE before EPERM), NULL cmdp', () => {
    expect(predict('block', v3({ dxferDirection: 'unknown' })).rule).toBe('block-direction');
    expect(predict('block', v3({ cmdLength: 33, cdb: new Uint8Array(33) })).rule).toBe('block-cdb-too-long');
    expect(predict('block', v3({ cmdLength: 5, cdb: VENDOR }))).toMatchObject({
      errno: 'EMSGSIZE',
      rule: 'block-cdb-too-short',
    });
    expect(predict('block', v3({ cdb: null })).errno).toBe('EFAULT');
  });
  it('a partition without CAP_SYS_RAWIO is refused before the header', () => {
    const p = predictSubmission({
      iface: 'block',
      header: v3({ interfaceId: 0 }),
      access: { ...ro, partition: true },
      limits,
    });
    expect(p).toMatchObject({ errno: 'ENOTTY', stage: 'gate' });
  });
});

describe('bsg (bsg_sg_io, scsi_bsg_sg_io_fn)', () => {
  it('guard, protocol, BIDI, request_len, EPERM in that order', () => {
    expect(predict('bsg', v4({ guard: 0x53, protocol: 1 })).rule).toBe('bsg-guard');
    expect(predict('bsg', v4({ protocol: 1, doutXferLength: 8 })).rule).toBe('bsg-protocol');
    expect(predict('bsg', v4({ doutXferLength: 8, requestLength: 40 }))).toMatchObject({
      errno: 'EOPNOTSUPP',
      rule: 'bsg-bidi',
    });
    expect(predict('bsg', v4({ requestLength: 40, request: VENDOR }))).toMatchObject({
      errno: 'EINVAL',
      rule: 'bsg-request-len',
    });
    expect(predict('bsg', v4({ request: VENDOR })).errno).toBe('EPERM');
  });
  it('no minimum request_len, and request_len keeps only its low 16 bits', () => {
    const empty = predict('bsg', v4({ requestLength: 0, request: null }));
    expect(empty).toMatchObject({ outcome: 'submitted', cdbLength: 0, rule: 'read-safe' });
    const wrapped = predict('bsg', v4({ requestLength: 0x1_0006 }));
    expect(wrapped).toMatchObject({ outcome: 'submitted', cdbLength: 6 });
    expect(predict('bsg', v4({ requestLength: 0x1_0021 })).explanation).toMatch(/kept as 16 bits/);
    expect(predict('bsg', v4({ request: null })).errno).toBe('EFAULT');
  });
  it('an iovec count reaches the data plan as the hazard', () => {
    const p = predictSubmission({
      iface: 'bsg',
      header: v4({ doutXferLength: 512, dinXferLength: 0, doutIovecCount: 2, request: INQUIRY }),
      access: rw,
      limits,
      data: {
        iovecs: [
          { address: 0x20000, length: 256 },
          { address: 0x30000, length: 256 },
        ],
        iovecArrayAddress: 0x10000,
      },
    });
    expect(p.plan?.hazard?.arrayLength).toBe(32);
  });
});

describe('SCSI_IOCTL_SEND_COMMAND and CDROM_SEND_PACKET', () => {
  const send = (
    data: Uint8Array,
    access: SubmissionAccess,
    iface: 'sg' | 'bsg' | 'block' = 'sg',
    inLength = 0,
  ) =>
    predictSubmission({
      iface,
      call: 'send-command',
      header: { kind: 'scsi_ioctl_command', inLength, outLength: 0, data },
      access,
      limits,
    });
  it('send-command: PAGE_SIZE lengths, COMMAND_SIZE CDB, filtered on sg even O_RDWR, EINVAL on bsg', () => {
    expect(send(INQUIRY, ro, 'sg', 4097).rule).toBe('send-command-length');
    expect(send(new Uint8Array(10).fill(0xc0, 0, 1), rw)).toMatchObject({
      errno: 'EPERM',
      rule: 'privileged',
      cdbLength: 10,
    });
    expect(send(Uint8Array.of(0x1d, 0, 0, 0, 0, 0), rw).rule).toBe('privileged');
    expect(send(Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0), ro).cdbLength).toBe(10);
    expect(send(INQUIRY, ro, 'bsg', 4097)).toMatchObject({
      errno: 'EINVAL',
      rule: 'bsg-send-command-unsupported',
    });
    // Group 3 (0x60..0x7f) is 12 in scsi_command_size_tbl: a variable-length CDB gets 12 bytes.
    expect(commandSize(0x7f)).toBe(12);
    expect(ioctlCompletionResult('send-command', 2)).toBe(2);
  });
  it('cdrom-packet: sg gate first, then data_direction, then the block SG_IO checks', () => {
    const packet = (
      iface: 'sg' | 'block',
      access: SubmissionAccess,
      dataDirection: number,
      bufferLength = 0,
    ) =>
      predictSubmission({
        iface,
        call: 'cdrom-packet',
        header: { kind: 'cdrom_generic_command', cmd: new Uint8Array(12), dataDirection, bufferLength },
        access,
        limits,
      });
    expect(packet('sg', ro, 9)).toMatchObject({ errno: 'EPERM', rule: 'sg-ioctl-needs-read-write' });
    expect(packet('sg', rw, 9).rule).toBe('cdrom-packet-direction');
    expect(packet('sg', rw, CGC_DATA.unknown, 512)).toMatchObject({
      errno: 'EINVAL',
      rule: 'block-direction',
    });
    expect(packet('sg', rw, CGC_DATA.none, 0)).toMatchObject({ outcome: 'submitted', cdbLength: 12 });
    expect(packet('block', ro, CGC_DATA.read, 0xffff_ffff).errno).toBe('EIO');
    expect(ioctlCompletionResult('cdrom-packet', 2)).toBe('EIO');
    expect(ioctlCompletionResult('cdrom-packet', 0)).toBe(0);
  });
  it('a header that does not fit the call is a typed error', () => {
    expect(() => predict('bsg', v3())).toThrow(InvalidFieldError);
    expect(() => predict('sg', v3({ cmdLength: 10, cdb: INQUIRY }))).toThrow(/header.cdb/);
    for (const rule of Object.values(SUBMISSION_RULES)) expect(rule.errno).toMatch(/^E[A-Z]+$/);
  });
});

describe('sense reply (sg_new_read)', () => {
  const fixed = Uint8Array.of(0x70, 0, 3, 0, 0, 0x12, 0x34, 10, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0);
  it('CHECK CONDITION copies min(8 + sense[7], 96, mx_sb_len) and sets DRIVER_SENSE', () => {
    expect(sgSenseReply({ status: 2, sense: fixed, maxSenseLength: 32 })).toEqual({
      senseBytesWritten: 18,
      maskedStatus: 1,
      driverStatus: 8,
      infoCheck: true,
    });
    expect(sgSenseReply({ status: 2, sense: fixed, maxSenseLength: 8 }).senseBytesWritten).toBe(8);
    const long = new Uint8Array(252);
    long[0] = 0x72;
    long[7] = 244;
    expect(sgSenseReply({ status: 2, sense: long, maxSenseLength: 255 }).senseBytesWritten).toBe(96);
  });
  it('GOOD without sense copies nothing; no sense buffer or mx_sb_len 0 copies nothing', () => {
    expect(sgSenseReply({ status: 0, sense: new Uint8Array(0), maxSenseLength: 32 })).toEqual({
      senseBytesWritten: 0,
      maskedStatus: 0,
      driverStatus: 0,
      infoCheck: false,
    });
    expect(sgSenseReply({ status: 2, sense: fixed, maxSenseLength: 0 }).senseBytesWritten).toBe(0);
    expect(
      sgSenseReply({ status: 2, sense: fixed, maxSenseLength: 32, senseBufferGiven: false }).infoCheck,
    ).toBe(true);
    expect(() => sgSenseReply({ status: 300, sense: fixed, maxSenseLength: 8 })).toThrow(InvalidFieldError);
  });
});
