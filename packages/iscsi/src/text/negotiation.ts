/**
 * One side of a text negotiation (RFC 7143 §6.2): the keys this side offered and the answers
 * they got, the peer's offers and the answers this side owes, and the peer's declarations.
 * The login code of the initiator drives it; so can a target.
 * @module
 */
import { IscsiProtocolError } from '../errors.js';
import {
  answerOffer,
  checkAnswer,
  KEY_DEFINITIONS,
  NegotiationAnswer,
  parseBooleanValue,
  parseNumericalValue,
} from './keys.js';
import type { TextPair } from './text-codec.js';

/** Options of a {@link TextNegotiation}. */
export interface TextNegotiationOptions {
  /** This side's values for answering the peer's offers (list keys: supported values, comma-separated). Keys absent here answer with the RFC default. */
  readonly local?: Readonly<Record<string, string>>;
  /** What the text belongs to, for messages (e.g. `login to iqn...`). */
  readonly what: string;
}

/** See the module note. */
export class TextNegotiation {
  readonly #what: string;
  readonly #local: Readonly<Record<string, string>>;
  readonly #awaiting = new Map<string, string>();
  readonly #results = new Map<string, string>();
  readonly #declaredByPeer = new Map<string, string>();
  readonly #seenFromPeer = new Set<string>();
  #answersOwed: TextPair[] = [];

  /** See {@link TextNegotiationOptions}. */
  constructor(options: TextNegotiationOptions) {
    this.#what = options.what;
    this.#local = options.local ?? {};
  }

  /**
   * Records this side's offers and returns them to send. Declarative keys (names, aliases,
   * MaxRecvDataSegmentLength) expect no answer; all others wait for one.
   */
  offer(pairs: readonly TextPair[]): TextPair[] {
    for (const [key, value] of pairs) {
      const d = KEY_DEFINITIONS[key];
      if (d?.kind === 'declarative') this.#results.set(key, value);
      else this.#awaiting.set(key, value);
    }
    return [...pairs];
  }

  /**
   * Takes the peer's pairs: answers to this side's offers are checked against the result
   * functions (IscsiProtocolError when inadmissible); the peer's own offers get answers queued
   * for {@link takeAnswers}; declarations are recorded. A key may not be sent twice by the
   * peer in one negotiation (RFC 7143 §6.2: "a key MUST NOT be offered more than once").
   */
  receive(pairs: readonly TextPair[]): void {
    for (const [key, value] of pairs) {
      if (this.#seenFromPeer.has(key)) {
        throw new IscsiProtocolError(
          `${this.#what}: ${key}=${value}`,
          'the key was already sent once in this negotiation (RFC 7143 §6.2)',
        );
      }
      this.#seenFromPeer.add(key);
      const offered = this.#awaiting.get(key);
      if (offered !== undefined) {
        this.#awaiting.delete(key);
        const check = checkAnswer(key, offered, value);
        if (!check.ok) throw new IscsiProtocolError(this.#what, check.rule);
        this.#results.set(key, check.value);
        continue;
      }
      const d = KEY_DEFINITIONS[key];
      if (d === undefined) {
        // Unknown keys, extension keys included, are answered NotUnderstood (RFC 7143 §6.2).
        if (value !== NegotiationAnswer.NOT_UNDERSTOOD)
          this.#answersOwed.push([key, NegotiationAnswer.NOT_UNDERSTOOD]);
        continue;
      }
      if (d.kind === 'declarative') {
        this.#declaredByPeer.set(key, value);
        continue;
      }
      const answer = answerOffer(key, value, this.#local[key]);
      if (answer !== undefined) {
        this.#answersOwed.push([key, answer]);
        if (answer !== NegotiationAnswer.REJECT) this.#results.set(key, answer);
      }
    }
  }

  /** The answers owed to the peer's offers so far (and clears them). */
  takeAnswers(): TextPair[] {
    const out = this.#answersOwed;
    this.#answersOwed = [];
    return out;
  }

  /** Keys offered and not answered yet. */
  get unanswered(): string[] {
    return [...this.#awaiting.keys()];
  }

  /**
   * Ends the negotiation: an unanswered boolean offer whose value decides the result by
   * itself (No for AND, Yes for OR) takes that value, as RFC 7143 §6.2.2 lets the responder
   * omit such answers; any other unanswered key keeps its default.
   */
  finish(): void {
    for (const [key, offered] of this.#awaiting) {
      const d = KEY_DEFINITIONS[key];
      const mine = parseBooleanValue(offered);
      if (d?.kind === 'boolean' && mine !== undefined && (d.result === 'and' ? !mine : mine))
        this.#results.set(key, offered);
    }
    this.#awaiting.clear();
  }

  /** The negotiated (or this side's declared) value of a key, undefined when it was not negotiated. */
  result(key: string): string | undefined {
    return this.#results.get(key);
  }

  /** A value the peer declared (TargetAlias, TargetPortalGroupTag, the peer's MaxRecvDataSegmentLength...). */
  declaredByPeer(key: string): string | undefined {
    return this.#declaredByPeer.get(key);
  }
}

/** The operational parameters of a session and connection once login is complete. */
export interface OperationalParameters {
  /** HeaderDigest=CRC32C. */
  readonly headerDigest: boolean;
  /** DataDigest=CRC32C. */
  readonly dataDigest: boolean;
  /** This side's MaxRecvDataSegmentLength: bounds what the peer sends. */
  readonly maxRecvDataSegmentLength: number;
  /** The peer's MaxRecvDataSegmentLength: bounds every data segment this side sends (8192 when the peer declared none). */
  readonly peerMaxRecvDataSegmentLength: number;
  /** MaxBurstLength: bounds one solicited Data-Out or Data-In sequence. */
  readonly maxBurstLength: number;
  /** FirstBurstLength: bounds unsolicited data (immediate plus unsolicited Data-Out), at most MaxBurstLength. */
  readonly firstBurstLength: number;
  /** InitialR2T: Yes means no unsolicited Data-Out. */
  readonly initialR2T: boolean;
  /** ImmediateData: data may ride in the SCSI Command PDU. */
  readonly immediateData: boolean;
  /** MaxOutstandingR2T: R2Ts a task may have in progress. */
  readonly maxOutstandingR2T: number;
  /** DataPDUInOrder. */
  readonly dataPDUInOrder: boolean;
  /** DataSequenceInOrder. */
  readonly dataSequenceInOrder: boolean;
  /** ErrorRecoveryLevel. */
  readonly errorRecoveryLevel: number;
  /** DefaultTime2Wait, seconds. */
  readonly defaultTime2Wait: number;
  /** DefaultTime2Retain, seconds. */
  readonly defaultTime2Retain: number;
  /** MaxConnections. */
  readonly maxConnections: number;
}

function numberOf(n: TextNegotiation, key: string): number {
  const v = n.result(key) ?? KEY_DEFINITIONS[key]?.default ?? '0';
  return parseNumericalValue(v) ?? 0;
}

function boolOf(n: TextNegotiation, key: string): boolean {
  return parseBooleanValue(n.result(key) ?? KEY_DEFINITIONS[key]?.default ?? 'No') ?? false;
}

/**
 * The parameters a finished negotiation leaves in force: results where keys were negotiated,
 * RFC defaults elsewhere. FirstBurstLength is clamped to MaxBurstLength (RFC 7143 §13.14:
 * it "MUST NOT exceed" it; independent minimum functions can leave it above when the peer
 * lowered only MaxBurstLength). The peer's MaxRecvDataSegmentLength outside 512..2^24-1 is a
 * protocol error.
 */
export function operationalParameters(n: TextNegotiation, what: string): OperationalParameters {
  const peerMrdsl = n.declaredByPeer('MaxRecvDataSegmentLength');
  const peerMax = peerMrdsl === undefined ? 8192 : parseNumericalValue(peerMrdsl);
  if (peerMax === undefined || peerMax < 512 || peerMax > 2 ** 24 - 1) {
    throw new IscsiProtocolError(
      `${what}: MaxRecvDataSegmentLength=${peerMrdsl}`,
      'must be a number in 512..16777215 (RFC 7143 §13.12)',
    );
  }
  const maxBurstLength = numberOf(n, 'MaxBurstLength');
  return {
    headerDigest: n.result('HeaderDigest') === 'CRC32C',
    dataDigest: n.result('DataDigest') === 'CRC32C',
    maxRecvDataSegmentLength: numberOf(n, 'MaxRecvDataSegmentLength'),
    peerMaxRecvDataSegmentLength: peerMax,
    maxBurstLength,
    firstBurstLength: Math.min(numberOf(n, 'FirstBurstLength'), maxBurstLength),
    initialR2T: boolOf(n, 'InitialR2T'),
    immediateData: boolOf(n, 'ImmediateData'),
    maxOutstandingR2T: numberOf(n, 'MaxOutstandingR2T'),
    dataPDUInOrder: boolOf(n, 'DataPDUInOrder'),
    dataSequenceInOrder: boolOf(n, 'DataSequenceInOrder'),
    errorRecoveryLevel: numberOf(n, 'ErrorRecoveryLevel'),
    defaultTime2Wait: numberOf(n, 'DefaultTime2Wait'),
    defaultTime2Retain: numberOf(n, 'DefaultTime2Retain'),
    maxConnections: numberOf(n, 'MaxConnections'),
  };
}
