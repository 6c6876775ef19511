/**
 * Queue depth on bsg through the ring (src/linux/bsg-ring-queue.ts), against scsi_debug in the
 * lab: data written at queue depth 16 (sizes on both sides of the ring's buffer size, so both
 * paths carry commands) reads back intact through the Device and through sg_dd on the sg node
 * of the same logical unit; CHECK CONDITION, close with commands in flight.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { labDeviceNodes } from '@sgv4/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device } from '../../src/device/device.js';
import { readWriteCdb } from '../../src/index.js';
import { RING_BUFFER_BYTES } from '../../src/linux/bsg-ring-queue.js';
import { KernelTransport } from '../../src/linux/kernel-transport.js';

const nodes = labDeviceNodes();
const bsgPath = nodes.bsg[0] as string;
const sgPath = nodes.sg[0] as string;
const BS = 512;
/** Where this file writes (blocks), clear of what other lab files use at the start of the disk. */
const BASE = 60_000;

async function openBsg(): Promise<{ device: Device; transport: KernelTransport }> {
  const transport = KernelTransport.open(bsgPath, { readOnly: false, exclusive: false });
  const device = await Device.attach(transport, { identify: false, queueDepth: 16 });
  return { device, transport };
}

describe(`bsg queue depth through the ring (${bsgPath})`, () => {
  let device: Device;
  let transport: KernelTransport;
  beforeAll(async () => {
    ({ device, transport } = await openBsg());
  });
  afterAll(async () => {
    await device?.close();
  });

  it('64 writes and reads at queue depth 16 come back intact, through the ring and the one-shot path', async () => {
    // Block counts per request: most fit a registered buffer, every eighth is larger (one-shot path).
    const blocks = Array.from({ length: 64 }, (_, i) =>
      i % 8 === 7 ? RING_BUFFER_BYTES / BS + 8 : 1 + ((i * 7) % 64),
    );
    const starts: number[] = [];
    let at = BASE;
    for (const n of blocks) {
      starts.push(at);
      at += n;
    }
    const data = blocks.map((n) => new Uint8Array(randomBytes(n * BS)));
    const before = transport.ringCommands;
    const writes = await Promise.all(
      blocks.map((n, i) =>
        device.submit({
          cdb: readWriteCdb(true, BigInt(starts[i] as number), n),
          dataOut: data[i] as Uint8Array,
        }),
      ),
    );
    for (const w of writes) expect(w.status).toBe(0);
    const back = blocks.map((n) => new Uint8Array(n * BS));
    const reads = await Promise.all(
      blocks.map((n, i) =>
        device.submit({
          cdb: readWriteCdb(false, BigInt(starts[i] as number), n),
          dataIn: back[i] as Uint8Array,
        }),
      ),
    );
    for (const [i, r] of reads.entries()) {
      expect(r.status).toBe(0);
      expect(r.transferred).toBe((blocks[i] as number) * BS);
      expect(Buffer.from(back[i] as Uint8Array).equals(Buffer.from(data[i] as Uint8Array))).toBe(true);
    }
    const carried = transport.ringCommands - before;
    // All but the lone first command of each burst and the 16 large ones may take the ring.
    expect(carried).toBeGreaterThan(64);
    expect(carried).toBeLessThanOrEqual(128 - 16);
    // The same blocks through sg_dd on the sg node: what the ring wrote is on the medium.
    const whole = Buffer.concat(data.map((d) => Buffer.from(d)));
    const viaSgDd = execFileSync(
      'sg_dd',
      [`if=${sgPath}`, 'of=-', `bs=${BS}`, `skip=${BASE}`, `count=${at - BASE}`],
      {
        maxBuffer: 64 << 20,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    expect(viaSgDd.equals(whole)).toBe(true);
  });

  it('a CHECK CONDITION among commands in the ring resolves with its sense; the others complete', async () => {
    const capacity = await device.readCapacity();
    const past = capacity.blocks + 10n;
    const buffers = Array.from({ length: 16 }, () => new Uint8Array(4096));
    const before = transport.ringCommands;
    const results = await Promise.all(
      buffers.map((b, i) =>
        device.submit({ cdb: readWriteCdb(false, i === 9 ? past : BigInt(BASE + i * 8), 8), dataIn: b }),
      ),
    );
    expect(transport.ringCommands - before).toBeGreaterThan(0);
    for (const [i, r] of results.entries()) {
      if (i === 9) {
        expect(r.status).toBe(2);
        expect(r.decodedSense?.senseKey).toBe(5); // ILLEGAL REQUEST
        expect(r.decodedSense?.asc).toBe(0x21); // LOGICAL BLOCK ADDRESS OUT OF RANGE
      } else {
        expect(r.status).toBe(0);
        expect(r.transferred).toBe(4096);
      }
    }
  });

  it('close() with 32 commands in flight settles every one of them, then frees the ring', async () => {
    const { device: d, transport: t } = await openBsg();
    const pending = Array.from({ length: 32 }, (_, i) =>
      d.submit({ cdb: readWriteCdb(false, BigInt(BASE + i * 8), 8), dataIn: new Uint8Array(4096) }).then(
        (r) => `status ${r.status}`,
        (e: Error) => e.name,
      ),
    );
    await d.close();
    const outcomes = await Promise.all(pending);
    // Commands in the kernel complete; the ones still queued in the Device are aborted.
    for (const o of outcomes) expect(['status 0', 'AbortedError']).toContain(o);
    expect(outcomes.filter((o) => o === 'status 0').length).toBeGreaterThan(0);
    expect(t.ringCommands).toBeGreaterThan(0);
  });
});
