/**
 * Tour step: the device API. Opens the embedded target (`emu:`, no guest, no root) and shows
 * what a Node program gets: identity and capacity, a tagged queue of writes read back and
 * verified, an ORDERED task that waits for everything before it, an abort of a task in flight
 * and of one still queued, and the permission model refusing a write on a read-only open. With
 * `--lab`, the same device commands run against the real sg and bsg drivers in a guest.
 */
import { fileURLToPath } from 'node:url';
import { type Device, open } from '@sgv4/bsg';
import { AbortedError, TaskAttribute } from '@sgv4/core';
import { printLine } from '../../framework/output.js';
import { runTourScriptInLab } from '../lab-script.js';
import type { TourStep } from '../tour-step.js';

/** The emulated disk of the tour: 64 MiB, 512-byte blocks, 200 µs per command (so tasks overlap). */
const EMU = 'emu:demo?size=64M&lbs=512&latency=200us';
const BLOCK = 512;

const write10 = (lba: number): Uint8Array =>
  Uint8Array.of(0x2a, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, 0, 1, 0);
const read10 = (lba: number): Uint8Array =>
  Uint8Array.of(0x28, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, 0, 1, 0);

async function taggedQueue(io: Parameters<TourStep['run']>[0], device: Device): Promise<void> {
  const n = 16;
  const blocks = Array.from({ length: n }, (_, i) => new Uint8Array(BLOCK).fill(0x41 + i));
  const writes = blocks.map((data, i) => device.submit({ cdb: write10(4096 + i), dataOut: data }));
  const peak = device.outstanding;
  const wrote = await Promise.all(writes);
  printLine(
    io,
    `Queued ${n} WRITE(10)s at once (${peak} outstanding, queue depth ${device.queueDepth}); tags ${wrote.map((r) => r.tag).join(',')} on the wire: ${wrote[0]?.tagOnWire}`,
  );
  const reads = blocks.map((_, i) => {
    const dataIn = new Uint8Array(BLOCK);
    return device.submit({ cdb: read10(4096 + i), dataIn }).then((r) => ({ r, dataIn }));
  });
  const back = await Promise.all(reads);
  const same = back.every(
    ({ dataIn }, i) => Buffer.compare(Buffer.from(dataIn), Buffer.from(blocks[i] as Uint8Array)) === 0,
  );
  printLine(
    io,
    `Read the ${n} blocks back concurrently: ${same ? 'every block matches what was written' : 'MISMATCH'}`,
  );
}

async function orderedTask(io: Parameters<TourStep['run']>[0], device: Device): Promise<void> {
  const order: string[] = [];
  const task = (name: string, lba: number, attribute?: TaskAttribute) =>
    device
      .submit({ cdb: write10(lba), dataOut: new Uint8Array(BLOCK), ...(attribute ? { attribute } : {}) })
      .then(() => order.push(name));
  await Promise.all([
    task('simple-1', 5000),
    task('simple-2', 5001),
    task('ORDERED', 5002, TaskAttribute.ORDERED),
    task('simple-3', 5003),
    task('simple-4', 5004),
  ]);
  printLine(io, `An ORDERED task among SIMPLE ones completed in this order: ${order.join(' -> ')}`);
  printLine(io, '  (SAM-6: it waits for every older task, and every newer task waits for it)');
}

async function abortTasks(io: Parameters<TourStep['run']>[0]): Promise<void> {
  const device = await open(`${EMU.replace('latency=200us', 'latency=50ms')}`, {
    queueDepth: 1,
    identify: false,
  });
  try {
    const inFlight = device.submit({ cdb: read10(0), dataIn: new Uint8Array(BLOCK) });
    const queued = device.submit({ cdb: read10(1), dataIn: new Uint8Array(BLOCK) });
    await new Promise((r) => setTimeout(r, 5));
    const q = await device.abort(queued.tag as bigint);
    const f = await device.abort(inFlight.tag as bigint);
    const [a, b] = await Promise.all([inFlight.catch((e: unknown) => e), queued.catch((e: unknown) => e)]);
    printLine(
      io,
      `abort(tag ${queued.tag}) of a task still in the Device's queue -> ${q}: ${(b as Error).message}`,
    );
    printLine(
      io,
      `abort(tag ${inFlight.tag}) of a task in flight (ABORT TASK to the target) -> ${f}: ${a instanceof AbortedError ? a.message : 'completed'}`,
    );
  } finally {
    await device.close();
  }
}

async function permission(io: Parameters<TourStep['run']>[0]): Promise<void> {
  // As an unprivileged program would open a bsg node: read-only, no CAP_SYS_RAWIO.
  const ro = await open(EMU, { readOnly: true, identify: false, capSysRawio: false });
  try {
    const cdb = write10(0);
    const decision = ro.checkPermission(cdb);
    printLine(
      io,
      `Read-only open, no CAP_SYS_RAWIO, WRITE(10): ${decision?.allowed ? 'allowed' : `denied (${decision?.errno})`}`,
    );
    await ro.submit({ cdb, dataOut: new Uint8Array(BLOCK) }).catch((e: unknown) => {
      printLine(io, `  ${(e as Error).name}: ${(e as Error).message}`);
    });
  } finally {
    await ro.close();
  }
}

export const deviceStep: TourStep = {
  id: 'device',
  title: 'The device API: a disk from Node with tags, ORDERED, abort and permissions (emu:)',
  async run(io, context) {
    const device = await open(EMU);
    try {
      const id = device.identity;
      const cap = await device.readCapacity();
      printLine(io, `open('${EMU}') -> ${device.kind}, ${device.capabilities.name}`);
      printLine(
        io,
        `  ${id.vendor} ${id.product} ${id.revision}, serial ${id.serial ?? '-'}, ${id.identifiers.length} identifiers (first: ${id.identifiers[0]?.typeName} ${id.identifiers[0]?.value})`,
      );
      printLine(
        io,
        `  ${cap.blocks} blocks of ${cap.blockSize} bytes = ${Number(cap.bytes) / 1048576} MiB; splits requests above ${device.limits.maxRequestBytes} bytes`,
      );
      await taggedQueue(io, device);
      await orderedTask(io, device);
    } finally {
      await device.close();
    }
    await abortTasks(io);
    await permission(io);

    const cli = fileURLToPath(new URL('../../main.js', import.meta.url));
    const script = [
      `echo "$ sgv4 list"; node ${cli} list`,
      `echo "$ sgv4 readcap /dev/bsg/0:0:0:0"; node ${cli} readcap /dev/bsg/0:0:0:0`,
      `echo "$ sgv4 dd if=/dev/sg0 of=/dev/null bs=512 bpt=128 count=65536 --qd 4"; node ${cli} dd if=/dev/sg0 of=/dev/null bs=512 bpt=128 count=65536 --qd 4 2>&1`,
    ].join('; ');
    const result = await runTourScriptInLab(io, script, 'The same on the real sg and bsg drivers', context);
    if (!result) return;
    printLine(io, `In a lab guest (${result.accel.toUpperCase()}), the same API on Linux 6.1's drivers:`);
    for (const line of result.stdout.toString('utf8').trimEnd().split('\n')) printLine(io, `  ${line}`);
  },
};
