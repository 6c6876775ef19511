/**
 * The CmdSN window as queue-depth back-pressure (RFC 7143 §4.2.2.1).
 *
 * The target accepts non-immediate commands only with ExpCmdSN <= CmdSN <= MaxCmdSN (serial
 * arithmetic) and silently drops the others, so the initiator must never send past MaxCmdSN.
 * Every target PDU that carries the pair may move the window; updates that would move
 * MaxCmdSN backwards, or with MaxCmdSN < ExpCmdSN - 1, are ignored (§4.2.2.1: "the initiator
 * MUST ignore" them). A window of zero (MaxCmdSN = ExpCmdSN - 1) is legal: the target reopens
 * it later (a NOP-In may carry the update). The session keeps commands that find no room in a
 * FIFO and sends them, in order, when an update opens the window.
 * @module
 */
import { serialAdd, serialLessOrEqual, serialLessThan } from './serial-number.js';

/** See the module note. */
export class CommandWindow {
  #cmdSN: number;
  #expCmdSN: number;
  #maxCmdSN: number;

  /** The window after login: the next CmdSN to use, and the target's ExpCmdSN/MaxCmdSN. */
  constructor(cmdSN: number, expCmdSN: number, maxCmdSN: number) {
    this.#cmdSN = cmdSN >>> 0;
    this.#expCmdSN = expCmdSN >>> 0;
    this.#maxCmdSN = maxCmdSN >>> 0;
  }

  /** The CmdSN the next non-immediate command gets (immediate PDUs carry it too, without consuming it). */
  get cmdSN(): number {
    return this.#cmdSN;
  }

  /** The target's last ExpCmdSN. */
  get expCmdSN(): number {
    return this.#expCmdSN;
  }

  /** The target's last MaxCmdSN. */
  get maxCmdSN(): number {
    return this.#maxCmdSN;
  }

  /** Commands the target will still accept: MaxCmdSN - CmdSN + 1, or 0. */
  get room(): number {
    return serialLessOrEqual(this.#cmdSN, this.#maxCmdSN) ? serialAdd(this.#maxCmdSN, 1 - this.#cmdSN) : 0;
  }

  /** Applies a target's ExpCmdSN/MaxCmdSN (see the module note). Returns whether it was taken. */
  update(expCmdSN: number, maxCmdSN: number): boolean {
    const exp = expCmdSN >>> 0;
    const max = maxCmdSN >>> 0;
    // MaxCmdSN < ExpCmdSN - 1: invalid, ignore (RFC 7143 §4.2.2.1).
    if (serialLessThan(max, serialAdd(exp, -1))) return false;
    if (serialLessThan(max, this.#maxCmdSN)) return false;
    if (serialLessThan(this.#expCmdSN, exp)) this.#expCmdSN = exp;
    this.#maxCmdSN = max;
    return true;
  }

  /** Takes the next CmdSN when the window has room, else undefined. */
  take(): number | undefined {
    if (this.room === 0) return undefined;
    const sn = this.#cmdSN;
    this.#cmdSN = serialAdd(sn, 1);
    return sn;
  }
}
