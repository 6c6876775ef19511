/**
 * Timing helpers of the lab benchmarks: a measured case, a loop that runs a step back to
 * back for a window, and {@link duel}, which alternates a path with its peer in short
 * rounds so that both see the same (shared, noisy) machine.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** Window of one round, milliseconds (SGV4_BENCH_WINDOW_MS). */
export const WINDOW_MS = Number(process.env.SGV4_BENCH_WINDOW_MS ?? 250);
/** Rounds per duel (SGV4_BENCH_ROUNDS): path and peer alternate, ABBA. */
export const ROUNDS = Number(process.env.SGV4_BENCH_ROUNDS ?? 8);

/** What the addon counted for a path, per command (from ScsiHandle.stats()). */
export interface PerCommand {
  /** System calls per command (write, writev, read/readv, poll, SG_IO). */
  syscalls: number;
  /** Event-loop wake-ups (uv_poll/uv_async callbacks) per command. */
  loopWakeups: number;
  /** Share of commands completed by the drain right after their submission. */
  immediateHitRate: number;
  /** Bytes copied through bounce buffers per command. */
  bouncedBytes: number;
}

/** One measured case (several rounds add up). */
export interface Measurement {
  name: string;
  commands: number;
  seconds: number;
  iops: number;
  mbPerSec: number;
  perCommand?: PerCommand;
}

/** A measurement from a command count, a duration and the bytes each command moves. */
export function measurement(name: string, commands: number, seconds: number, bytes: number): Measurement {
  return { name, commands, seconds, iops: commands / seconds, mbPerSec: (commands * bytes) / seconds / 1e6 };
}

/** Something measured for a window: a peer program or an addon path. */
export interface Contender {
  readonly name: string;
  readonly bytes: number;
  /** Commands done and seconds taken in about `windowMs`. */
  run(windowMs: number): Promise<{ commands: number; seconds: number }>;
  /** The addon's counters per command over every run so far (addon paths only). */
  perCommand?(): PerCommand;
}

/** Runs `step` back to back for about `windowMs` (after a short warm-up). */
export async function timeLoop(
  windowMs: number,
  step: () => void | Promise<void>,
): Promise<{ commands: number; seconds: number }> {
  // A synchronous step is not awaited: `await undefined` would add a microtask per command.
  const once = async () => {
    const pending = step();
    if (pending !== undefined) await pending;
  };
  const warmUntil = performance.now() + 50;
  while (performance.now() < warmUntil) await once();
  let commands = 0;
  const start = performance.now();
  const end = start + windowMs;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 16; i++) {
      const pending = step();
      if (pending !== undefined) await pending;
    }
    commands += 16;
    now = performance.now();
  }
  return { commands, seconds: (now - start) / 1000 };
}

/**
 * `depth` lanes running `step(lane)` concurrently for about `windowMs`: queue depth `depth`.
 * Each lane reads the clock once per 16 commands, as {@link timeLoop} does: in the TCG guest
 * `performance.now()` is a system call that reads the emulated HPET (the guest has no usable
 * TSC, so no vDSO clock), tens of microseconds that a read per command would charge to the
 * path measured and not to the C peers.
 */
export async function timeDepth(
  windowMs: number,
  depth: number,
  step: (lane: number) => Promise<unknown>,
): Promise<{ commands: number; seconds: number }> {
  const run = async (until: number): Promise<number> => {
    const counts = await Promise.all(
      Array.from({ length: depth }, async (_, lane) => {
        let n = 0;
        while (performance.now() < until) {
          for (let i = 0; i < 16; i++) await step(lane);
          n += 16;
        }
        return n;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  };
  await run(performance.now() + 50);
  const start = performance.now();
  const commands = await run(start + windowMs);
  return { commands, seconds: (performance.now() - start) / 1000 };
}

/** The result of a duel: both totals, and the path/peer ratio of each round. */
export interface Duel {
  path: Measurement;
  peer: Measurement;
  by: 'iops' | 'mbPerSec';
  /** The median of the per-round ratios: the figure reported (robust to a round hit by other work). */
  ratio: number;
  /** Ratio of the totals. */
  totalRatio: number;
  /** Per-round ratios (path / the peer's adjacent round), in order. */
  roundRatios: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Alternates `path` and `peer` for ROUNDS rounds of WINDOW_MS each (ABBA order), so a
 * machine whose speed drifts (other work, emulation) affects both alike; the reported
 * ratio is the median of the rounds' ratios.
 */
export async function duel(path: Contender, peer: Contender, by: 'iops' | 'mbPerSec'): Promise<Duel> {
  const totals = { path: { commands: 0, seconds: 0 }, peer: { commands: 0, seconds: 0 } };
  const roundRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['peer', 'path'] as const) : (['path', 'peer'] as const);
    const rate: Record<'path' | 'peer', number> = { path: 0, peer: 0 };
    for (const who of order) {
      const r = await (who === 'path' ? path : peer).run(WINDOW_MS);
      totals[who].commands += r.commands;
      totals[who].seconds += r.seconds;
      rate[who] = r.commands / r.seconds;
    }
    roundRatios.push(Number((rate.path / rate.peer).toFixed(3)));
  }
  const p = measurement(path.name, totals.path.commands, totals.path.seconds, path.bytes);
  if (path.perCommand !== undefined) p.perCommand = path.perCommand();
  const q = measurement(peer.name, totals.peer.commands, totals.peer.seconds, peer.bytes);
  return {
    path: p,
    peer: q,
    by,
    ratio: Number(median(roundRatios).toFixed(3)),
    totalRatio: Number((p[by] / q[by]).toFixed(3)),
    roundRatios,
  };
}

/**
 * The fields every lab suite's results file starts with: what was measured, when, on which
 * guest kernel and how many CPUs, the guest's load at the start, and how the duels ran.
 */
export function labResultHeader(suite: string, description: string, guestLoadAverageAtStart: number[]) {
  return {
    suite,
    description,
    date: new Date().toISOString(),
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    cpus: cpus().length,
    guestLoadAverageAtStart,
    note:
      'lab guest under TCG emulation on a shared 2-core host; each path alternates with its peer in ' +
      `${ROUNDS} rounds of ${WINDOW_MS} ms (ABBA); ratio = median of the round ratios; only ratios mean anything`,
    windowMs: WINDOW_MS,
    rounds: ROUNDS,
  };
}

/** A goal of a lab suite: `d`'s ratio (path over peer) against the minimum `min`. */
export function duelGoal(text: string, min: number, d: Duel) {
  return {
    goal: text,
    min,
    path: d.path.name,
    peer: d.peer.name,
    ratio: d.ratio,
    totalRatio: d.totalRatio,
    roundRatios: d.roundRatios,
    met: d.ratio >= min,
  };
}
