/**
 * The progress display: every step that takes longer than two seconds shows what it is
 * doing and for how long. On a terminal a spinner line is redrawn in place and erased when
 * the step ends (leaving one summary line); elsewhere a step that is allowed to print says
 * once that it started and once that it finished, so logs stay readable.
 * @module
 */

/** A stream the display writes to (normally `process.stderr`). */
export interface ProgressStream {
  /** Writes text. */
  write(text: string): unknown;
  /** True for a terminal: enables the in-place spinner. */
  readonly isTTY?: boolean;
}

/** Settings of a {@link LabProgress}. */
export interface LabProgressOptions {
  /** Show nothing at all (default false). */
  readonly quiet?: boolean;
  /** A step is shown once it has run this long (default 2000 ms). */
  readonly thresholdMs?: number;
}

/** Options of one step. */
export interface StepOptions {
  /**
   * On a non-terminal stream, print nothing for this step: used for the guest boot and the
   * command of `lab run`, whose stderr must carry the command's bytes and nothing else.
   */
  readonly terminalOnly?: boolean;
}

/** The handle a running step gets, to coordinate with output written meanwhile. */
export interface ProgressStep {
  /** Output is about to be written: erase the spinner line; it comes back after a quiet second. */
  interrupt(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 200;
const QUIET_BEFORE_REDRAW_MS = 1000;

/** Runs labelled steps and shows the slow ones. */
export class LabProgress {
  readonly #stream: ProgressStream;
  readonly #quiet: boolean;
  readonly #thresholdMs: number;

  /** `stream` receives the display; see {@link LabProgressOptions}. */
  constructor(stream: ProgressStream, options: LabProgressOptions = {}) {
    this.#stream = stream;
    this.#quiet = options.quiet ?? false;
    this.#thresholdMs = options.thresholdMs ?? 2000;
  }

  /** Prints one line (unless quiet): a decision the user should know about. */
  note(text: string): void {
    if (!this.#quiet) this.#stream.write(`${text}\n`);
  }

  /** Runs `work` as the step `label`, showing it if it takes longer than the threshold. */
  async step<T>(
    label: string,
    work: (step: ProgressStep) => Promise<T>,
    options: StepOptions = {},
  ): Promise<T> {
    const tty = this.#stream.isTTY === true;
    const visible = !this.#quiet && (tty || options.terminalOnly !== true);
    const started = Date.now();
    let shown = false;
    let lineDrawn = false;
    let lastInterrupt = 0;
    let frame = 0;
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const erase = () => {
      if (lineDrawn) this.#stream.write('\r\x1b[2K');
      lineDrawn = false;
    };
    const draw = () => {
      if (Date.now() - started < this.#thresholdMs) return;
      if (!shown && !tty) this.#stream.write(`lab: ${label} ...\n`);
      shown = true;
      if (!tty || Date.now() - lastInterrupt < QUIET_BEFORE_REDRAW_MS) return;
      this.#stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label} (${elapsed()})`);
      lineDrawn = true;
    };
    const timer = visible ? setInterval(draw, tty ? REDRAW_MS : this.#thresholdMs) : undefined;
    const handle: ProgressStep = {
      interrupt: () => {
        lastInterrupt = Date.now();
        erase();
      },
    };
    try {
      const result = await work(handle);
      if (shown) {
        erase();
        this.#stream.write(tty ? `✓ ${label} (${elapsed()})\n` : `lab: ${label}: done in ${elapsed()}\n`);
      }
      return result;
    } catch (error) {
      if (shown) {
        erase();
        this.#stream.write(
          tty ? `✗ ${label} failed after ${elapsed()}\n` : `lab: ${label}: failed after ${elapsed()}\n`,
        );
      }
      throw error;
    } finally {
      if (timer) clearInterval(timer);
    }
  }
}

/** A display that shows nothing (API use without a terminal). */
export const SILENT_PROGRESS = new LabProgress({ write: () => true }, { quiet: true });
