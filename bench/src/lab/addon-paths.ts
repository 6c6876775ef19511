/**
 * The @sgv4/native paths the lab benchmark measures, each reading with READ(10): 4 KiB
 * synchronous and promise calls, one-off and prepared requests, plain Uint8Arrays
 * (bounced) and allocateBuffer() memory (in place), QD1 and QD16, on sg (write/read
 * queue) and bsg (SG_IO on the addon's threads); 512 KiB through the mmap-ed sg reserve.
 * Every path also reports what the addon counted per command: system calls, event-loop
 * wake-ups, the share completed by the drain right after submission, bounced bytes.
 * @module
 */
import { createSgIoV4Header, encodeSgIoV4, SG_FLAG_MMAP_IO } from '@sgv4/core';
import { allocateBuffer, openScsiHandle, type PreparedCommand, type ScsiHandle } from '@sgv4/native';
import { type Contender, type PerCommand, timeDepth, timeLoop } from './measure.js';

const BLOCK = 512;
/** LBAs read, as fio --size=32m: the first 32 MiB of the device. */
const SPAN_BLOCKS = (32 * 1024 * 1024) / BLOCK;

/** READ(10) of `blocks` at LBA 0; {@link setLba} moves it. */
function read10(blocks: number): Uint8Array {
  const cdb = new Uint8Array(10);
  cdb[0] = 0x28;
  new DataView(cdb.buffer).setUint16(7, blocks);
  return cdb;
}

function setLba(cdb: Uint8Array, lba: number): void {
  cdb[2] = lba >>> 24;
  cdb[3] = (lba >>> 16) & 0xff;
  cdb[4] = (lba >>> 8) & 0xff;
  cdb[5] = lba & 0xff;
}

/** Fixed pseudo-random LBAs (aligned to the transfer), so every run reads the same ones. */
function randomLbas(blocks: number, count: number): number[] {
  let state = 0x2545f491;
  const slots = SPAN_BLOCKS / blocks;
  return Array.from({ length: count }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) % slots) * blocks;
  });
}

function header(bytes: number, flags = 0): Uint8Array {
  return encodeSgIoV4(
    createSgIoV4Header({ requestLen: 10, dinXferLen: bytes, maxResponseLen: 32, timeout: 60_000, flags }),
  );
}

type Stats = ReturnType<ScsiHandle['stats']>;

/** A contender on `handle`, whose counters are summed over the windows it ran. */
function addonPath(
  name: string,
  bytes: number,
  handle: ScsiHandle,
  run: (windowMs: number) => Promise<{ commands: number; seconds: number }>,
): Contender {
  const sum: Record<keyof Stats, number> = {
    submitted: 0,
    completed: 0,
    writeCalls: 0,
    writevCalls: 0,
    readCalls: 0,
    pollCalls: 0,
    ioctlCalls: 0,
    loopWakeups: 0,
    immediateCompletions: 0,
    bouncedBytes: 0,
    libraryQueued: 0,
  };
  return {
    name,
    bytes,
    async run(windowMs) {
      // The warm-up inside the timing loops is counted too: it is the same work.
      const before = handle.stats();
      const r = await run(windowMs);
      const after = handle.stats();
      for (const key of Object.keys(sum) as (keyof Stats)[]) sum[key] += after[key] - before[key];
      return r;
    },
    perCommand(): PerCommand {
      const per = (v: number) => Number((v / Math.max(1, sum.completed)).toFixed(3));
      return {
        syscalls: per(sum.writeCalls + sum.writevCalls + sum.readCalls + sum.pollCalls + sum.ioctlCalls),
        loopWakeups: per(sum.loopWakeups),
        immediateHitRate: per(sum.immediateCompletions),
        bouncedBytes: per(sum.bouncedBytes),
      };
    },
  };
}

/** QD1 sequential reads through one prepared command (the LBA moves before each run). */
function preparedStep(command: PreparedCommand, cdb: Uint8Array, blocks: number, sync: boolean) {
  let lba = 0;
  return () => {
    setLba(cdb, lba);
    lba = (lba + blocks) % SPAN_BLOCKS;
    if (sync) {
      command.runSync();
      return undefined;
    }
    return command.run();
  };
}

/** The addon's handles and prepared commands for one profile. */
export class AddonPaths {
  readonly #sg: ScsiHandle;
  readonly #bsg: ScsiHandle;
  readonly #mmap: ScsiHandle;
  readonly #label: string;
  readonly #commands: PreparedCommand[] = [];

  /** Opens the sg and bsg nodes; `label` names the profile in every path name. */
  constructor(sgPath: string, bsgPath: string, label: string) {
    this.#sg = openScsiHandle(sgPath, { readWrite: true });
    this.#bsg = openScsiHandle(bsgPath, { readWrite: true });
    this.#mmap = openScsiHandle(sgPath, { readWrite: true });
    this.#label = label;
  }

  #prepared(handle: ScsiHandle, bytes: number, dataIn: Uint8Array | undefined, flags = 0) {
    // A CDB in native memory (and the header object, which prepare() encodes into native
    // memory) is read and written by the addon without a JS call at each run.
    const cdb = allocateBuffer(10);
    cdb.set(read10(bytes / BLOCK));
    const command = handle.prepare({
      header: createSgIoV4Header({
        requestLen: 10,
        dinXferLen: bytes,
        maxResponseLen: 32,
        timeout: 60_000,
        flags,
      }),
      cdb,
      sense: new Uint8Array(32),
      ...(dataIn ? { dataIn } : {}),
    });
    this.#commands.push(command);
    return { cdb, command };
  }

  /** 4 KiB QD1 one-off calls with a plain Uint8Array: `sgIoSyncEncoded` / `sgIoEncoded`. */
  oneOff(node: 'sg' | 'bsg', sync: boolean): Contender {
    const handle = node === 'sg' ? this.#sg : this.#bsg;
    const bytes = 8 * BLOCK;
    const h = header(bytes);
    const cdb = read10(8);
    const sense = new Uint8Array(32);
    const data = new Uint8Array(bytes);
    let lba = 0;
    const name = `${sync ? 'sync' : 'promise'} ${node} 4 KiB one-off plain ${this.#label}`;
    return addonPath(name, bytes, handle, (windowMs) =>
      timeLoop(windowMs, () => {
        setLba(cdb, lba);
        lba = (lba + 8) % SPAN_BLOCKS;
        if (sync) {
          handle.sgIoSyncEncoded(h, cdb, sense, null, data);
          return undefined;
        }
        return handle.sgIoEncoded(h, cdb, sense, null, data);
      }),
    );
  }

  /** 4 KiB QD1 through a prepared command, with allocateBuffer() or plain memory. */
  prepared(node: 'sg' | 'bsg', memory: 'allocateBuffer' | 'plain', sync: boolean): Contender {
    const handle = node === 'sg' ? this.#sg : this.#bsg;
    const bytes = 8 * BLOCK;
    const { cdb, command } = this.#prepared(
      handle,
      bytes,
      memory === 'plain' ? new Uint8Array(bytes) : allocateBuffer(bytes),
    );
    const name = `${sync ? 'sync' : 'promise'} ${node} 4 KiB prepared ${memory} ${this.#label}`;
    const step = preparedStep(command, cdb, 8, sync);
    return addonPath(name, bytes, handle, (windowMs) => timeLoop(windowMs, step));
  }

  /** 4 KiB random reads at QD16: 16 prepared commands, each a lane keeping one in flight. */
  queueDepth16(): Contender {
    const bytes = 8 * BLOCK;
    const lbas = randomLbas(8, 4096);
    const lanes = Array.from({ length: 16 }, () => this.#prepared(this.#sg, bytes, allocateBuffer(bytes)));
    let cursor = 0;
    const name = `promise sg 4 KiB randread QD16 prepared allocateBuffer ${this.#label}`;
    return addonPath(name, bytes, this.#sg, (windowMs) =>
      timeDepth(windowMs, 16, (lane) => {
        const l = lanes[lane] as (typeof lanes)[number];
        setLba(l.cdb, lbas[cursor] as number);
        cursor = (cursor + 1) & 4095;
        return l.command.run();
      }),
    );
  }

  /** 512 KiB reads through the mmap-ed sg reserve (SG_FLAG_MMAP_IO), as sg_read mmap=1. */
  mmap(sync: boolean): Contender {
    const bytes = 1024 * BLOCK;
    if (this.#mmap.getReservedSize() < bytes) {
      this.#mmap.setReservedSize(bytes);
      this.#mmap.mapReservedBuffer(bytes);
    }
    const { cdb, command } = this.#prepared(this.#mmap, bytes, undefined, SG_FLAG_MMAP_IO);
    const name = `${sync ? 'sync' : 'promise'} sg 512 KiB mmap prepared ${this.#label}`;
    const step = preparedStep(command, cdb, 1024, sync);
    return addonPath(name, bytes, this.#mmap, (windowMs) => timeLoop(windowMs, step));
  }

  /** Releases the commands and closes the handles. */
  async close(): Promise<void> {
    for (const command of this.#commands) command.release();
    await Promise.all([this.#sg.close(), this.#bsg.close(), this.#mmap.close()]);
  }
}
