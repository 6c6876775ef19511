/**
 * A scripted iSCSI peer for unit tests of what no real target can be made to do on demand
 * (asynchronous messages, rejects, sequence and digest errors, a zero command window, a text
 * answer split over PDUs). It speaks through this package's own PDU codec and answers login
 * keys with the RFC result functions; every test drives the rest of the exchange by hand.
 * The initiator's behaviour against real targets is covered by the host tests (tgt).
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  type AnyOutgoingPdu,
  type AnyPdu,
  answerOffer,
  type DigestSettings,
  decodeText,
  encodePdu,
  encodeText,
  NO_DIGESTS,
  type Pdu,
  PduReader,
  type TextPair,
} from '../../src/index.js';

/** One accepted connection, seen from the target. */
export class PeerConnection {
  readonly socket: Socket;
  readonly #reader = new PduReader({ from: 'initiator', maxDataSegmentLength: 1 << 24 });
  readonly #pdus: AnyPdu[] = [];
  #waiters: ((pdu: AnyPdu) => void)[] = [];
  #sendDigests: DigestSettings = NO_DIGESTS;
  statSN = 1000;
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      try {
        this.#reader.push(chunk, (pdu) => {
          const w = this.#waiters.shift();
          if (w) w(pdu);
          else this.#pdus.push(pdu);
        });
      } catch {
        socket.destroy();
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  /** The next PDU from the initiator. */
  next(): Promise<AnyPdu> {
    const pdu = this.#pdus.shift();
    if (pdu) return Promise.resolve(pdu);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The next PDU, which must be of `kind`. */
  async expect<K extends AnyPdu['kind']>(kind: K): Promise<Pdu<K>> {
    const pdu = await this.next();
    if (pdu.kind !== kind) throw new Error(`expected ${kind}, got ${pdu.kind}`);
    return pdu as Pdu<K>;
  }

  send(...pdus: AnyOutgoingPdu[]): void {
    for (const pdu of pdus) for (const chunk of encodePdu(pdu, this.#sendDigests)) this.socket.write(chunk);
  }

  /** Raw bytes (for broken PDUs). */
  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  setDigests(digests: DigestSettings): void {
    this.#sendDigests = digests;
    this.#reader.digests = digests;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** What {@link acceptLogin} grants. */
export interface LoginGrant {
  /** Our values for answering the initiator's offers. */
  readonly local?: Readonly<Record<string, string>>;
  /** Declarations added to the final response (e.g. MaxRecvDataSegmentLength). */
  readonly declare?: readonly TextPair[];
  /** CmdSN window after login: MaxCmdSN = CmdSN + window - 1 (default 32). */
  readonly window?: number;
  /** TSIH to give (default 7). */
  readonly tsih?: number;
}

/** The state a login left: what the initiator sent, and the window. */
export interface LoginState {
  readonly cmdSN: number;
  readonly isid: Uint8Array;
  readonly keys: Map<string, string>;
}

/** Plays a normal login: AuthMethod=None, then answers every operational key. */
export async function acceptLogin(conn: PeerConnection, grant: LoginGrant = {}): Promise<LoginState> {
  const keys = new Map<string, string>();
  for (;;) {
    const req = await conn.expect('LOGIN_REQUEST');
    const pairs = decodeText(req.data);
    const answers: TextPair[] = [];
    for (const [k, v] of pairs) {
      keys.set(k, v);
      if (k === 'InitiatorName' || k === 'TargetName' || k === 'SessionType' || k === 'InitiatorAlias')
        continue;
      if (k === 'AuthMethod') {
        answers.push([k, 'None']);
        continue;
      }
      const a = answerOffer(k, v, grant.local?.[k]);
      if (a !== undefined) answers.push([k, a]);
    }
    const h = req.header;
    const final = h.transit && h.nsg === 3;
    if (final) answers.push(...(grant.declare ?? [['MaxRecvDataSegmentLength', '8192']]));
    const window = grant.window ?? 32;
    conn.send({
      kind: 'LOGIN_RESPONSE',
      header: {
        transit: h.transit,
        csg: h.csg,
        nsg: h.transit ? h.nsg : 0,
        isid: h.isid,
        tsih: final ? (grant.tsih ?? 7) : 0,
        itt: h.itt,
        statSN: conn.statSN++,
        expCmdSN: h.cmdSN,
        maxCmdSN: (h.cmdSN + window - 1) >>> 0,
      },
      data: encodeText(answers),
    });
    if (final) return { cmdSN: h.cmdSN, isid: h.isid, keys };
  }
}

/** A listening scripted target; `onConnection` runs for every accepted connection. */
export class ScriptedTarget {
  readonly server: Server;
  readonly port: number;
  readonly connections: PeerConnection[] = [];

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static listen(
    port: number,
    onConnection: (conn: PeerConnection, index: number) => void,
  ): Promise<ScriptedTarget> {
    return new Promise((resolve, reject) => {
      let target: ScriptedTarget | undefined;
      const server = createServer((socket) => {
        const conn = new PeerConnection(socket);
        target!.connections.push(conn);
        onConnection(conn, target!.connections.length - 1);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        target = new ScriptedTarget(server, port);
        resolve(target);
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
