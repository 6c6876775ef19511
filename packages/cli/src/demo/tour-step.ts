/** One stop of `sgv4 demo`: a titled piece of real work whose output is printed. */
import type { CommandIO } from '../framework/command.js';

/** How the tour was asked to run. */
export interface TourContext {
  /** `--lab`: steps may boot a lab guest (QEMU). Without it they run what they can on the host. */
  readonly lab: boolean;
}

/** A step of the tour. Steps run real code only; a step that cannot run here says why and is skipped. */
export interface TourStep {
  /** Short identifier, used by `sgv4 demo --only`. */
  readonly id: string;
  /** Heading printed before the step's output. */
  readonly title: string;
  /** Does the work and prints what it found; resolves when done. */
  readonly run: (io: CommandIO, context: TourContext) => Promise<void> | void;
}
