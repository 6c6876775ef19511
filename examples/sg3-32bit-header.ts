/**
 * A 32-bit program's sg_io_hdr, decoded and run. A process built with `gcc -m32` hands the kernel
 * a 64-byte `struct compat_sg_io_hdr` whose pointers are 32 bits wide and whose iovecs are 8-byte
 * `compat_iovec`s; the kernel reads them with the compat layout (drivers/scsi/sg.c
 * `get_sg_io_hdr()`, lib/iov_iter.c `compat_import_iovec()`). This example lays out such a
 * process's memory (an ILP32 address space below 4 GiB): an INQUIRY CDB, a sense buffer and the
 * 96-byte answer split over two iovecs, builds the 64 header bytes, prints and decodes them,
 * then runs them on the device through the SgV3 facade opened for the ILP32 ABI.
 *
 *     node examples/dist/sg3-32bit-header.js emu:
 *     node examples/dist/sg3-32bit-header.js /dev/sg0
 */
// doctest: host emu: => /^INQUIRY through 2 iovecs: SGV4 /m
// doctest: lab /dev/sg0 => /^INQUIRY through 2 iovecs: Linux +scsi_debug/m
import { open } from '@sgv4/bsg';
import { parseStandardInquiry, Sgv4Error } from '@sgv4/core';
import {
  AddressSpace,
  COMPAT_SG_IO_HDR_SIZE,
  createSgIoHdr,
  decodeSgIoHdr,
  encodeSgIoHdr,
  encodeSgIovecs,
  SG_DXFER_FROM_DEV,
  SG_IO,
  SgV3File,
} from '@sgv4/sg3-compat';

function hexLines(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = [...bytes.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`  ${at.toString(16).padStart(2, '0')}: ${row}`);
  }
  return lines;
}

async function main(location: string): Promise<void> {
  // The 32-bit process's memory: every address below 4 GiB.
  const memory = new AddressSpace({ abi: 'ilp32' });
  const cdb = Uint8Array.of(0x12, 0, 0, 0, 96, 0);
  const head = new Uint8Array(36); // the standard INQUIRY fields
  const tail = new Uint8Array(60);
  const sense = new Uint8Array(32);
  const iovecs = encodeSgIovecs(
    [
      { base: memory.map(head), length: BigInt(head.length) },
      { base: memory.map(tail), length: BigInt(tail.length) },
    ],
    'ilp32',
  );
  const header = encodeSgIoHdr(
    createSgIoHdr({
      dxferDirection: SG_DXFER_FROM_DEV,
      cmdLen: cdb.length,
      cmdp: memory.map(cdb),
      mxSbLen: sense.length,
      sbp: memory.map(sense),
      iovecCount: 2,
      dxferLen: head.length + tail.length,
      dxferp: memory.map(iovecs),
      timeout: 20_000,
      packId: 32,
    }),
    'ilp32',
  );
  console.log(`struct compat_sg_io_hdr (${header.length} bytes, ${COMPAT_SG_IO_HDR_SIZE} on ILP32):`);
  for (const line of hexLines(header)) console.log(line);
  const decoded = decodeSgIoHdr(header, 'ilp32');
  console.log(
    `decoded: cmdp 0x${decoded.cmdp.toString(16)}, dxferp 0x${decoded.dxferp.toString(16)} -> ${decoded.iovecCount} iovecs of 8 bytes, sbp 0x${decoded.sbp.toString(16)}, dxfer_len ${decoded.dxferLen}`,
  );

  const device = await open(location);
  const sg = new SgV3File(device, { env: { limits: device.limits.queueLimits }, abi: 'ilp32', memory });
  try {
    await sg.ioctl(SG_IO, header); // the 64 bytes, as ioctl(fd, SG_IO, &hdr) in a -m32 build
    const reply = decodeSgIoHdr(header, 'ilp32');
    console.log(
      `reply: status ${reply.status}, resid ${reply.resid}, pack_id ${reply.packId}, info 0x${reply.info.toString(16)}`,
    );
    const answer = new Uint8Array(96);
    answer.set(head);
    answer.set(tail, head.length);
    const fields = parseStandardInquiry(answer.subarray(0, answer.length - reply.resid));
    console.log(`INQUIRY through 2 iovecs: ${fields.vendor} ${fields.product} ${fields.revision}`);
  } finally {
    sg.close();
    await device.close();
  }
}

try {
  await main(process.argv[2] ?? 'emu:');
} catch (error) {
  console.error(`sg3-32bit-header: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof Sgv4Error ? error.exitStatus : 1;
}
