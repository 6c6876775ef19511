/**
 * The login and text keys of RFC 7143 §12-13, as one table: each
 * key's kind, default, range and result function. Both sides of a negotiation use it: the
 * originator to check an answer, the responder to compute one (§6.2: "the result is a
 * function of the offered value and the responder's own").
 * @module
 */

/** How a key's result is found (RFC 7143 §6.2.2, §13). */
export type KeyKind =
  /** A list of values in preference order; the responder answers the first it supports. */
  | 'list'
  /** A number; the result is the minimum or maximum of both sides' values. */
  | 'numerical'
  /** Yes/No; the result is the AND or OR of both sides' values. */
  | 'boolean'
  /** Each side declares its own value; there is no answer (e.g. MaxRecvDataSegmentLength). */
  | 'declarative';

/** Where a key may appear (RFC 7143 §13 "Use"). */
export type KeyUse = 'initialize-only' | 'leading-only' | 'all' | 'full-feature-only' | 'security';

/** One key. */
export interface KeyDefinition {
  /** The key name, case-sensitive. */
  readonly name: string;
  /** How its result is found. */
  readonly kind: KeyKind;
  /** For numerical keys: minimum or maximum; for booleans: AND or OR. */
  readonly result?: 'min' | 'max' | 'and' | 'or';
  /** The value in force when the key is not negotiated. */
  readonly default?: string;
  /** For numerical keys: the allowed range. */
  readonly range?: readonly [number, number];
  /** For list keys: the values the RFC defines. */
  readonly values?: readonly string[];
  /** Session- or connection-wide. */
  readonly scope: 'session' | 'connection';
  /** When it may be negotiated. */
  readonly use: KeyUse;
  /** Where it is defined, e.g. `RFC 7143 §13.13`. */
  readonly reference: string;
  /** Not negotiated in a Discovery session (RFC 7143 §13: "Irrelevant when SessionType=Discovery"). */
  readonly irrelevantForDiscovery?: boolean;
}

const MAX_24 = 2 ** 24 - 1;

function def(d: KeyDefinition): KeyDefinition {
  return Object.freeze(d);
}

/** The key table, by name. */
export const KEY_DEFINITIONS: Readonly<Record<string, KeyDefinition>> = Object.freeze(
  Object.fromEntries(
    [
      def({
        name: 'AuthMethod',
        kind: 'list',
        default: 'None',
        values: ['None', 'CHAP', 'KRB5', 'SRP', 'SPKM1', 'SPKM2'],
        scope: 'connection',
        use: 'security',
        reference: 'RFC 7143 §12.1',
      }),
      def({
        name: 'HeaderDigest',
        kind: 'list',
        default: 'None',
        values: ['None', 'CRC32C'],
        scope: 'connection',
        use: 'initialize-only',
        reference: 'RFC 7143 §13.1',
      }),
      def({
        name: 'DataDigest',
        kind: 'list',
        default: 'None',
        values: ['None', 'CRC32C'],
        scope: 'connection',
        use: 'initialize-only',
        reference: 'RFC 7143 §13.1',
      }),
      def({
        name: 'MaxConnections',
        kind: 'numerical',
        result: 'min',
        default: '1',
        range: [1, 65535],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.2',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'SendTargets',
        kind: 'declarative',
        scope: 'session',
        use: 'full-feature-only',
        reference: 'RFC 7143 §13.3',
      }),
      def({
        name: 'TargetName',
        kind: 'declarative',
        scope: 'session',
        use: 'initialize-only',
        reference: 'RFC 7143 §13.4',
      }),
      def({
        name: 'InitiatorName',
        kind: 'declarative',
        scope: 'session',
        use: 'initialize-only',
        reference: 'RFC 7143 §13.5',
      }),
      def({
        name: 'TargetAlias',
        kind: 'declarative',
        scope: 'session',
        use: 'all',
        reference: 'RFC 7143 §13.6',
      }),
      def({
        name: 'InitiatorAlias',
        kind: 'declarative',
        scope: 'session',
        use: 'all',
        reference: 'RFC 7143 §13.7',
      }),
      def({
        name: 'TargetAddress',
        kind: 'declarative',
        scope: 'session',
        use: 'all',
        reference: 'RFC 7143 §13.8',
      }),
      def({
        name: 'TargetPortalGroupTag',
        kind: 'declarative',
        range: [0, 65535],
        scope: 'session',
        use: 'initialize-only',
        reference: 'RFC 7143 §13.9',
      }),
      def({
        name: 'InitialR2T',
        kind: 'boolean',
        result: 'or',
        default: 'Yes',
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.10',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'ImmediateData',
        kind: 'boolean',
        result: 'and',
        default: 'Yes',
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.11',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'MaxRecvDataSegmentLength',
        kind: 'declarative',
        default: '8192',
        range: [512, MAX_24],
        scope: 'connection',
        use: 'all',
        reference: 'RFC 7143 §13.12',
      }),
      def({
        name: 'MaxBurstLength',
        kind: 'numerical',
        result: 'min',
        default: '262144',
        range: [512, MAX_24],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.13',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'FirstBurstLength',
        kind: 'numerical',
        result: 'min',
        default: '65536',
        range: [512, MAX_24],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.14',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'DefaultTime2Wait',
        kind: 'numerical',
        result: 'max',
        default: '2',
        range: [0, 3600],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.15',
      }),
      def({
        name: 'DefaultTime2Retain',
        kind: 'numerical',
        result: 'min',
        default: '20',
        range: [0, 3600],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.16',
      }),
      def({
        name: 'MaxOutstandingR2T',
        kind: 'numerical',
        result: 'min',
        default: '1',
        range: [1, 65535],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.17',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'DataPDUInOrder',
        kind: 'boolean',
        result: 'or',
        default: 'Yes',
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.18',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'DataSequenceInOrder',
        kind: 'boolean',
        result: 'or',
        default: 'Yes',
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.19',
        irrelevantForDiscovery: true,
      }),
      def({
        name: 'ErrorRecoveryLevel',
        kind: 'numerical',
        result: 'min',
        default: '0',
        range: [0, 2],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.20',
      }),
      def({
        name: 'SessionType',
        kind: 'declarative',
        default: 'Normal',
        values: ['Normal', 'Discovery'],
        scope: 'session',
        use: 'leading-only',
        reference: 'RFC 7143 §13.21',
      }),
      // Markers (RFC 3720 Appendix A) are obsolete in RFC 7143; the keys stay so that an old
      // peer offering them gets an answer: both results are AND, and this side answers No.
      def({
        name: 'IFMarker',
        kind: 'boolean',
        result: 'and',
        default: 'No',
        scope: 'connection',
        use: 'initialize-only',
        reference: 'RFC 3720 Appendix A.3 (markers, obsolete in RFC 7143)',
      }),
      def({
        name: 'OFMarker',
        kind: 'boolean',
        result: 'and',
        default: 'No',
        scope: 'connection',
        use: 'initialize-only',
        reference: 'RFC 3720 Appendix A.3 (markers, obsolete in RFC 7143)',
      }),
    ].map((d) => [d.name, d]),
  ),
);

/** Reserved answers (RFC 7143 §6.2). */
export const NegotiationAnswer = {
  REJECT: 'Reject',
  IRRELEVANT: 'Irrelevant',
  NOT_UNDERSTOOD: 'NotUnderstood',
} as const;

/**
 * Parses a numerical value: decimal, `0x` hex or `0b` base64 (RFC 7143 §6.1 numerical-value,
 * decimal-constant, hex-constant, base64-constant). Undefined when it is not one, or is above
 * 2^53 (no key's range comes close).
 */
export function parseNumericalValue(text: string): number | undefined {
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) n = Number.parseInt(text.slice(2), 16);
  else if (/^0[bB][A-Za-z0-9+/]+=*$/.test(text)) {
    const bytes = Buffer.from(text.slice(2), 'base64');
    if (bytes.length === 0 || bytes.length > 6) return undefined;
    n = bytes.reduce((acc, b) => acc * 256 + b, 0);
  } else if (/^(0|[1-9][0-9]*)$/.test(text)) n = Number(text);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Yes/No as a boolean, undefined for anything else. */
export function parseBooleanValue(text: string): boolean | undefined {
  return text === 'Yes' ? true : text === 'No' ? false : undefined;
}

/** True for the keys RFC 7143 §6.1 reserves for private extensions (`X-` or `X#` prefixed). */
export function isExtensionKey(key: string): boolean {
  return key.startsWith('X-') || key.startsWith('X#');
}

/**
 * The responder's answer to an offer (RFC 7143 §6.2): the first offered list value it
 * supports (else `Reject`), the minimum or maximum of the two numbers (an offer outside the
 * key's range gets `Reject`), the AND or OR of the two booleans, and `NotUnderstood` for an
 * unknown key. `local` is the responder's own value: for list keys, the values it supports,
 * comma-separated. Declarative keys have no answer (undefined).
 */
export function answerOffer(key: string, offered: string, local: string | undefined): string | undefined {
  const d = KEY_DEFINITIONS[key];
  if (d === undefined) return NegotiationAnswer.NOT_UNDERSTOOD;
  const mine = local ?? d.default;
  switch (d.kind) {
    case 'declarative':
      return undefined;
    case 'list': {
      const supported = new Set((mine ?? '').split(','));
      const pick = offered.split(',').find((v) => supported.has(v));
      return pick ?? NegotiationAnswer.REJECT;
    }
    case 'numerical': {
      const theirs = parseNumericalValue(offered);
      const ours = parseNumericalValue(mine ?? '');
      const [lo, hi] = d.range ?? [0, Number.MAX_SAFE_INTEGER];
      if (theirs === undefined || theirs < lo || theirs > hi || ours === undefined)
        return NegotiationAnswer.REJECT;
      return String(d.result === 'max' ? Math.max(theirs, ours) : Math.min(theirs, ours));
    }
    case 'boolean': {
      const theirs = parseBooleanValue(offered);
      const ours = parseBooleanValue(mine ?? '');
      if (theirs === undefined || ours === undefined) return NegotiationAnswer.REJECT;
      const v = d.result === 'or' ? theirs || ours : theirs && ours;
      return v ? 'Yes' : 'No';
    }
  }
}

/** The outcome of checking an answer against an offer. */
export type AnswerCheck =
  | { readonly ok: true; readonly value: string; readonly negotiated: boolean }
  | { readonly ok: false; readonly rule: string };

/**
 * The originator's check of an answer (RFC 7143 §6.2: a value the result function does not
 * allow is a protocol error): a list answer must be one of the offered values; a numerical
 * answer must lie between the range bound and the offer (at most the offer for a minimum, at
 * least for a maximum); a boolean answer must be the one the function allows (an offer of No
 * to an AND key, or Yes to an OR key, decides the result by itself). `Reject`, `Irrelevant`
 * and `NotUnderstood` leave the key at its default (`negotiated: false`).
 */
export function checkAnswer(key: string, offered: string, answer: string): AnswerCheck {
  const d = KEY_DEFINITIONS[key];
  if (
    answer === NegotiationAnswer.REJECT ||
    answer === NegotiationAnswer.IRRELEVANT ||
    answer === NegotiationAnswer.NOT_UNDERSTOOD
  ) {
    return { ok: true, value: d?.default ?? offered, negotiated: false };
  }
  if (d === undefined || d.kind === 'declarative') return { ok: true, value: answer, negotiated: true };
  const where = `${key}=${answer} answering ${key}=${offered}`;
  switch (d.kind) {
    case 'list':
      return offered.split(',').includes(answer)
        ? { ok: true, value: answer, negotiated: true }
        : {
            ok: false,
            rule: `${where}: the answer must be one of the offered values (${d.reference}, RFC 7143 §6.2.1)`,
          };
    case 'numerical': {
      const mine = parseNumericalValue(offered);
      const theirs = parseNumericalValue(answer);
      const [lo, hi] = d.range ?? [0, Number.MAX_SAFE_INTEGER];
      const admissible =
        mine !== undefined &&
        theirs !== undefined &&
        theirs >= lo &&
        theirs <= hi &&
        (d.result === 'max' ? theirs >= mine : theirs <= mine);
      return admissible
        ? { ok: true, value: String(theirs), negotiated: true }
        : {
            ok: false,
            rule: `${where}: the result of ${d.result === 'max' ? 'a maximum' : 'a minimum'} function must lie in ${lo}..${hi} and ${d.result === 'max' ? 'not below' : 'not above'} the offer (${d.reference})`,
          };
    }
    case 'boolean': {
      const mine = parseBooleanValue(offered);
      const theirs = parseBooleanValue(answer);
      if (mine === undefined || theirs === undefined)
        return { ok: false, rule: `${where}: must be Yes or No (${d.reference})` };
      const decided = d.result === 'and' ? mine === false : mine === true;
      if (decided && theirs !== mine) {
        return {
          ok: false,
          rule: `${where}: ${d.result === 'and' ? 'AND with No' : 'OR with Yes'} cannot give ${answer} (${d.reference})`,
        };
      }
      return { ok: true, value: answer, negotiated: true };
    }
  }
}
