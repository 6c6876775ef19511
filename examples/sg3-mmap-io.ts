/**
 * mmap-ed IO the sg HOWTO way, ported line for line from C to sgv4's SgV3 facade: the reserve
 * asked for in whole pages with SG_SET_RESERVED_SIZE, mapped with mmap(), filled, then one
 * command with SG_DXFER_TO_FROM_DEV and SG_FLAG_MMAP_IO whose data lives in the mapping. Each
 * statement carries the C it stands for. The device is any location the device API opens
 * (`emu:`, `/dev/sg0`, `/dev/bsg/0:0:0:0`); the CDB is a vendor-specific one unless given as hex.
 *
 *     node examples/dist/sg3-mmap-io.js emu:
 *     node examples/dist/sg3-mmap-io.js /dev/sg0 12 00 00 00 60 00
 *     node examples/dist/sg3-mmap-io.js /dev/sg0 --kernel-exact
 *
 * On Linux 6.1.80 and later the sg driver fails this very program with ENOMEM (the TO_FROM_DEV
 * copy-in never advances its iterator, block/blk-map.c `bio_copy_user_iov()`); `--kernel-exact`
 * makes the facade do the same. Without it the facade runs the command as sg documents it.
 */
// doctest: host emu: => /^CHECK CONDITION: Illegal Request: Invalid command operation code/m
// doctest: host emu: 12 00 00 00 60 00 => /^the device wrote \d+ of 4096 bytes; the other \d+ still hold 0xa5$/m
// doctest: host emu: --kernel-exact => /^SG_IO failed: ENOMEM: .*bio_copy_user_iov/m
// doctest: lab /dev/sg0 => /^CHECK CONDITION: Illegal Request: Invalid command operation code/m
// doctest: lab /dev/sg0 12 00 00 00 60 00 => /^the device wrote \d+ of 4096 bytes/m
// doctest: lab /dev/sg0 --kernel-exact => /^SG_IO failed: ENOMEM: /m
import { open } from '@sgv4/bsg';
import { decodeSense, formatSenseLine, OsError, Sgv4Error } from '@sgv4/core';
import {
  AddressSpace,
  createSgIoHdr,
  decodeSgIoHdr,
  encodeSgIoHdr,
  SG_DXFER_TO_FROM_DEV,
  SG_FLAG_MMAP_IO,
  SG_GET_RESERVED_SIZE,
  SG_INFO_OK,
  SG_INFO_OK_MASK,
  SG_IO,
  SG_SET_RESERVED_SIZE,
  SgV3File,
} from '@sgv4/sg3-compat';

const PAGE_SIZE = 4096; // sysconf(_SC_PAGESIZE)
const WANTED = 10_000; // #define WANTED 10000
const DXFER_LEN = 4096; // #define DXFER_LEN 4096
const VENDOR_CDB = 'c1 00 00 00 00 00'; // a vendor-specific opcode (group 6)

async function main(argv: readonly string[]): Promise<void> {
  const kernelExact = argv.includes('--kernel-exact');
  const [location = 'emu:', ...cdbWords] = argv.filter((a) => a !== '--kernel-exact');
  const device = await open(location); // int sg_fd = open(argv[1], O_RDWR);
  const memory = new AddressSpace(); // (the process's memory: what the header's pointers point into)
  const sg = new SgV3File(device, { env: { limits: device.limits.queueLimits }, memory, kernelExact });
  try {
    let reserveSize = WANTED; // int reserve_size = WANTED;
    reserveSize = Math.ceil(reserveSize / PAGE_SIZE) * PAGE_SIZE; // reserve_size = (reserve_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    sg.ioctl(SG_SET_RESERVED_SIZE, reserveSize); // ioctl(sg_fd, SG_SET_RESERVED_SIZE, &reserve_size);
    const got = sg.ioctl(SG_GET_RESERVED_SIZE); // ioctl(sg_fd, SG_GET_RESERVED_SIZE, &got);
    console.log(`reserve: asked ${WANTED}, rounded to ${reserveSize}, driver reports ${got}`);
    if (got < DXFER_LEN) throw new Error(`reserve of ${got} bytes is too small`); // if (got < DXFER_LEN) ...
    const mapped = new Uint8Array(sg.mmap(reserveSize)); // unsigned char *mp = mmap(NULL, reserve_size, PROT_READ | PROT_WRITE, MAP_SHARED, sg_fd, 0);
    const mp = memory.map(mapped); // (mp as an address)
    mapped.fill(0xa5, 0, DXFER_LEN); // memset(mp, 0xa5, DXFER_LEN);
    const cmd = Uint8Array.from(Buffer.from((cdbWords.join('') || VENDOR_CDB).replace(/\s+/g, ''), 'hex')); // unsigned char cmd[] = { 0xc1, 0, 0, 0, 0, 0 };
    const sense = new Uint8Array(32); // unsigned char sense_b[32];
    const io = createSgIoHdr(); // sg_io_hdr_t io_hdr; memset(&io_hdr, 0, sizeof(sg_io_hdr_t));
    io.interfaceId = 'S'.charCodeAt(0); // io_hdr.interface_id = 'S';
    io.cmdLen = cmd.length; // io_hdr.cmd_len = sizeof(cmd);
    io.cmdp = memory.map(cmd); // io_hdr.cmdp = cmd;
    io.mxSbLen = sense.length; // io_hdr.mx_sb_len = sizeof(sense_b);
    io.sbp = memory.map(sense); // io_hdr.sbp = sense_b;
    io.dxferDirection = SG_DXFER_TO_FROM_DEV; // io_hdr.dxfer_direction = SG_DXFER_TO_FROM_DEV;
    io.dxferLen = DXFER_LEN; // io_hdr.dxfer_len = DXFER_LEN;
    io.dxferp = mp; // io_hdr.dxferp = mp;
    io.flags = SG_FLAG_MMAP_IO; // io_hdr.flags = SG_FLAG_MMAP_IO;
    io.timeout = 20_000; // io_hdr.timeout = 20000;
    const hdr = encodeSgIoHdr(io, 'lp64'); // (the 88 bytes ioctl() reads and writes back)
    try {
      await sg.ioctl(SG_IO, hdr); // if (ioctl(sg_fd, SG_IO, &io_hdr) < 0) {
    } catch (error) {
      if (!(error instanceof OsError)) throw error;
      console.log(`SG_IO failed: ${error.code}: ${error.message}`); //   perror("SG_IO"); ...
      return;
    }
    const out = decodeSgIoHdr(hdr, 'lp64');
    console.log(
      `status 0x${out.status.toString(16).padStart(2, '0')}, host 0x${out.hostStatus.toString(16)}, driver 0x${out.driverStatus.toString(16)}, resid ${out.resid}, duration ${out.duration} ms`,
    );
    if ((out.info & SG_INFO_OK_MASK) !== SG_INFO_OK) {
      // if ((io_hdr.info & SG_INFO_OK_MASK) != SG_INFO_OK) {
      if (out.sbLenWr > 0)
        console.log(`CHECK CONDITION: ${formatSenseLine(decodeSense(sense.subarray(0, out.sbLenWr)))}`);
      return;
    }
    const moved = DXFER_LEN - out.resid;
    const untouched = mapped.subarray(moved, DXFER_LEN).filter((b) => b === 0xa5).length;
    console.log(`the device wrote ${moved} of ${DXFER_LEN} bytes; the other ${untouched} still hold 0xa5`);
  } finally {
    sg.close(); // munmap(mp, reserve_size); close(sg_fd);
    await device.close();
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(`sg3-mmap-io: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof Sgv4Error ? error.exitStatus : 1;
}
