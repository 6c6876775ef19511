/**
 * The copy loop of `sgv4 dd`: `qd` slots, each with its own buffer of `bpt` blocks, take the
 * next transfer, read it from the input and write it to the output, so up to `qd` transfers
 * are in flight at once (the Device's queue bounds what reaches the kernel). Outputs that must
 * be written in order (pipes, stdout) get their writes in transfer order.
 */
import type { DdEndpoint } from './endpoint.js';
import type { ProgressSource } from './progress.js';

/** What to copy. */
export interface CopyPlan {
  /** Block size. */
  readonly bs: number;
  /** Blocks per transfer. */
  readonly bpt: number;
  /** Blocks to copy. */
  readonly blocks: number;
  /** First input block. */
  readonly skip: number;
  /** First output block. */
  readonly seek: number;
  /** Commands in flight at once (what the ends' queues let reach the device). */
  readonly qd: number;
  /**
   * Transfers the loop keeps going (default `qd`): more than `qd` when an end queues the extra
   * ones itself, so the next command is ready the moment the device finishes one.
   */
  readonly slots?: number;
  /** Take slot buffers from this end's mmap-ed reserve (mmap mode). */
  readonly mappedFrom?: DdEndpoint;
  /** Otherwise from this end's own memory (a device end: zero-copy where the transport has it). */
  readonly bufferFrom?: DdEndpoint;
}

/** How far a copy got. */
export interface CopyProgress extends ProgressSource {
  /** Full blocks read. */
  recordsIn: number;
  /** Partial blocks read (a file ending inside a block). */
  partialIn: number;
  /** Full blocks written. */
  recordsOut: number;
  /** Bytes written. */
  bytes: number;
  /** Bytes to copy. */
  readonly total: number;
  /** Transfers written. */
  transfers: number;
  /** The input ended before `blocks` (a file shorter than count). */
  shortInput: boolean;
}

/** Runs the copy; resolves with the progress (also on failure, through `onError`'s rethrow after all slots stopped). */
export async function runCopy(
  input: DdEndpoint,
  output: DdEndpoint,
  plan: CopyPlan,
  progress: CopyProgress,
): Promise<void> {
  const transfers = Math.ceil(plan.blocks / plan.bpt);
  let next = 0;
  let failure: unknown;
  let written = 0;
  const turns: (() => void)[] = [];
  const waitTurn = (i: number): Promise<void> =>
    i === written
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          turns[i] = resolve;
        });
  const slot = async (buffer: Uint8Array): Promise<void> => {
    while (failure === undefined && !progress.shortInput) {
      const i = next++;
      if (i >= transfers) return;
      const count = Math.min(plan.bpt, plan.blocks - i * plan.bpt);
      const bytes = count * plan.bs;
      // The slot's own buffer whenever the transfer fills it: the device path keeps a command
      // prepared per buffer, and a new view every time would defeat it.
      const chunk = bytes === buffer.length ? buffer : buffer.subarray(0, bytes);
      try {
        const got = await input.read(plan.skip + i * plan.bpt, count, plan.bs, chunk);
        const full = Math.floor(got / plan.bs);
        progress.recordsIn += full;
        if (got < bytes) progress.shortInput = true;
        if (got % plan.bs !== 0) progress.partialIn++;
        if (output.sequential) await waitTurn(i);
        if (full > 0 && output.discards !== true)
          await output.write(
            plan.seek + i * plan.bpt,
            full,
            plan.bs,
            full * plan.bs === chunk.length ? chunk : chunk.subarray(0, full * plan.bs),
          );
        progress.recordsOut += full;
        progress.bytes += full * plan.bs;
        progress.transfers++;
      } catch (error) {
        failure ??= error;
      } finally {
        if (output.sequential) {
          written = i + 1;
          turns[written]?.();
        }
      }
    }
  };
  const size = plan.bpt * plan.bs;
  const buffers = Array.from({ length: Math.max(1, Math.min(plan.slots ?? plan.qd, transfers)) }, () =>
    plan.mappedFrom?.mapReservedBuffer
      ? plan.mappedFrom.mapReservedBuffer(size)
      : (plan.bufferFrom?.allocateBuffer?.(size) ?? new Uint8Array(size)),
  );
  await Promise.all(buffers.map((b) => slot(b)));
  if (failure !== undefined) throw failure;
}
