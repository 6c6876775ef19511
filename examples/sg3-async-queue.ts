/**
 * The sg driver's asynchronous interface on the SgV3 facade: a queue of READ(10)s submitted with
 * write(), each tagged with a pack_id, collected with poll() and read() on a non-blocking fd the
 * way sg3_utils' sgp_dd and sg_queue_tst do: write() until the queue holds QUEUE_DEPTH requests,
 * poll() for POLLIN, read() until EAGAIN, refill. Then SG_SET_FORCE_PACK_ID picks one reply by
 * its pack_id, and SG_GET_REQUEST_TABLE shows the queue as the driver keeps it.
 *
 *     node examples/dist/sg3-async-queue.js emu:
 *     node examples/dist/sg3-async-queue.js /dev/sg0 64
 */
// doctest: host emu: => /^read 32 blocks in 32 commands, at most 8 outstanding; every pack_id read once$/m
// doctest: host emu: 8 => /^pack_id 103 read by SG_SET_FORCE_PACK_ID while 3 others wait$/m
// doctest: lab /dev/sg0 => /^read 32 blocks in 32 commands, at most 8 outstanding; every pack_id read once$/m
import { open } from '@sgv4/bsg';
import { OsError, Sgv4Error } from '@sgv4/core';
import {
  POLLIN,
  SG_DXFER_FROM_DEV,
  SG_GET_NUM_WAITING,
  SG_GET_REQUEST_TABLE,
  SG_SET_FORCE_PACK_ID,
  SgV3File,
} from '@sgv4/sg3-compat';

const QUEUE_DEPTH = 8; // sg allows 16 requests per fd (SG_MAX_QUEUE)
const BLOCK = 512;

function read10(lba: number): Uint8Array {
  const cdb = new Uint8Array(10);
  cdb[0] = 0x28;
  new DataView(cdb.buffer).setUint32(2, lba);
  cdb[8] = 1; // one block
  return cdb;
}

async function main(argv: readonly string[]): Promise<void> {
  const [location = 'emu:', countText = '32'] = argv;
  const total = Number.parseInt(countText, 10);
  const device = await open(location);
  const sg = new SgV3File(device, { env: { limits: device.limits.queueLimits }, nonBlocking: true });
  try {
    const buffers = new Map<number, Uint8Array>();
    const seen = new Set<number>();
    let next = 0;
    let maxOutstanding = 0;
    while (seen.size < total) {
      while (next < total && sg.outstanding < QUEUE_DEPTH) {
        const data = new Uint8Array(BLOCK);
        buffers.set(next, data);
        sg.write({
          dxferDirection: SG_DXFER_FROM_DEV,
          cmd: read10(next),
          data,
          packId: next,
          timeout: 20_000,
        });
        next++;
      }
      maxOutstanding = Math.max(maxOutstanding, sg.outstanding);
      await sg.pollWait(POLLIN); // poll(&pfd, 1, -1)
      for (;;) {
        let reply: Awaited<ReturnType<typeof sg.read>>;
        try {
          reply = await sg.read(); // read(sg_fd, &io_hdr, sizeof(io_hdr))
        } catch (error) {
          if (error instanceof OsError && error.code === 'EAGAIN') break; // drained
          throw error;
        }
        if (reply.status !== 0 || reply.hostStatus !== 0)
          throw new Error(`pack_id ${reply.packId}: status ${reply.status}`);
        if (seen.has(reply.packId)) throw new Error(`pack_id ${reply.packId} read twice`);
        seen.add(reply.packId);
      }
    }
    console.log(
      `read ${total} blocks in ${total} commands, at most ${maxOutstanding} outstanding; every pack_id read once`,
    );

    // Four more, then ask for one of them by pack_id.
    for (let i = 0; i < 4; i++) {
      sg.write({
        dxferDirection: SG_DXFER_FROM_DEV,
        cmd: read10(i),
        data: new Uint8Array(BLOCK),
        packId: 100 + i,
      });
    }
    while (sg.ioctl(SG_GET_NUM_WAITING) < 4) await sg.pollWait(POLLIN);
    const table = sg.ioctl(SG_GET_REQUEST_TABLE).filter((e) => e.reqState !== 0);
    console.log(`request table: ${table.map((e) => `pack_id ${e.packId} state ${e.reqState}`).join(', ')}`);
    sg.ioctl(SG_SET_FORCE_PACK_ID, 1);
    const picked = await sg.read({ packId: 103 });
    console.log(
      `pack_id ${picked.packId} read by SG_SET_FORCE_PACK_ID while ${sg.ioctl(SG_GET_NUM_WAITING)} others wait`,
    );
  } finally {
    sg.close();
    await device.close();
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(`sg3-async-queue: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof Sgv4Error ? error.exitStatus : 1;
}
