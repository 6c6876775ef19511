/**
 * An iSCSI target portal (RFC 7143) in front of the embedded target: a TCP listener whose
 * connections log in (security and operational negotiation, CHAP), become sessions (one
 * connection each, ErrorRecoveryLevel 0), and turn their SCSI commands and task management
 * functions into the target's tasks and TMFs, each session being one I_T nexus.
 * @module
 */
import { EventEmitter } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { InvalidFieldError, optionalInteger } from '@sgv4/core';
import type { ITNexus, ScsiTarget } from '@sgv4/target';
import { type ChapAlgorithm, ChapAuthenticator, type ChapCredentials } from '../auth/chap.js';
import { IscsiProtocolError } from '../errors.js';
import {
  type AnyOutgoingPdu,
  type AnyPdu,
  type DigestSettings,
  encodePdu,
  NO_DIGESTS,
  PduReader,
} from '../pdu/pdu-codec.js';
import { formatPortal } from '../url/iscsi-url.js';
import { LoginRefusal, TargetLogin, type TargetLoginContext } from './target-login.js';
import {
  type PortalTmfEvent,
  type SessionLink,
  TargetSession,
  type TargetSessionContext,
} from './target-session.js';

/** CHAP settings of a portal. */
export interface PortalChapOptions {
  /** Initiator accounts: CHAP name -> secret. */
  readonly accounts: Readonly<Record<string, string>>;
  /** The target's own CHAP name and secret, for mutual CHAP. */
  readonly targetCredentials?: ChapCredentials;
  /** Refuse logins without CHAP (default true when accounts are given). */
  readonly required?: boolean;
  /** Ask for CHAP in discovery sessions too (default false). */
  readonly discovery?: boolean;
  /** CHAP_A values accepted, in preference order (default [5] = MD5). */
  readonly algorithms?: readonly ChapAlgorithm[];
}

/** Options of {@link IscsiPortal.listen}. */
export interface IscsiPortalOptions {
  /** The embedded target the portal serves. */
  readonly target: ScsiTarget;
  /** The target's iSCSI name (e.g. `iqn.2026-11.dev.sgv4:disk0`). */
  readonly targetName: string;
  /** Listening address (default 127.0.0.1). */
  readonly host?: string;
  /** Listening port (default 3260; 0 picks a free one). */
  readonly port?: number;
  /** TargetAlias to declare. */
  readonly targetAlias?: string;
  /** Target portal group tag (default 1). */
  readonly portalGroupTag?: number;
  /** Which of the target's ports sessions come in through (default its first). */
  readonly targetPort?: string;
  /** CHAP accounts; without them no authentication is asked. */
  readonly chap?: PortalChapOptions;
  /** Digests the portal accepts, in its preference (default both: the initiator's first choice wins). */
  readonly digests?: readonly ('None' | 'CRC32C')[];
  /** Our MaxRecvDataSegmentLength (default 262144). */
  readonly maxRecvDataSegmentLength?: number;
  /** MaxBurstLength the portal accepts at most (default 262144). */
  readonly maxBurstLength?: number;
  /** FirstBurstLength the portal accepts at most (default 65536). */
  readonly firstBurstLength?: number;
  /** MaxOutstandingR2T the portal allows at most (default 16). */
  readonly maxOutstandingR2T?: number;
  /** Commands per session the CmdSN window admits beyond those in progress (default 128). */
  readonly commandWindow?: number;
  /** Largest Expected Data Transfer Length of one command (default 64 MiB). */
  readonly maxCommandBytes?: number;
  /**
   * Write data one session may hold in buffers at once (default 256 MiB); a write beyond it
   * is answered TASK SET FULL and the initiator retries it later.
   */
  readonly maxSessionBufferBytes?: number;
}

/** A session as the portal lists it. */
export interface PortalSessionInfo {
  /** The I_T nexus. */
  readonly nexus: Required<ITNexus>;
  /** `Normal` or `Discovery`. */
  readonly sessionType: 'Normal' | 'Discovery';
  /** The TSIH given. */
  readonly tsih: number;
  /** The peer's address. */
  readonly peer: string;
}

/** Events of a portal. */
export interface IscsiPortalEvents {
  /** A login reached the full feature phase. */
  login: [PortalSessionInfo];
  /** A login was refused (status class and detail, reason). */
  loginRefused: [
    {
      readonly peer: string;
      readonly statusClass: number;
      readonly statusDetail: number;
      readonly reason: string;
    },
  ];
  /** A session ended (logout, connection loss, protocol error, portal close). */
  sessionEnded: [PortalSessionInfo & { readonly reason: string }];
  /** A task management function was answered. */
  taskManagement: [PortalTmfEvent];
}

interface Connection {
  readonly socket: Socket;
  readonly reader: PduReader;
  readonly peer: string;
  digests: DigestSettings;
  login: TargetLogin;
  session: TargetSession | undefined;
  info: PortalSessionInfo | undefined;
  ended: boolean;
}

/** See the module note. Create with {@link IscsiPortal.listen}. */
export class IscsiPortal extends EventEmitter<IscsiPortalEvents> {
  /** The target's iSCSI name. */
  readonly targetName: string;
  /** The embedded target. */
  readonly target: ScsiTarget;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #loginContext: Omit<TargetLoginContext, 'allocateTsih'>;
  readonly #sessionContext: TargetSessionContext;
  #nextTsih = 1;
  #address: AddressInfo;

  private constructor(options: IscsiPortalOptions, server: Server, address: AddressInfo) {
    super();
    this.#server = server;
    this.#address = address;
    this.target = options.target;
    this.targetName = options.targetName;
    const portalGroupTag = optionalInteger('portalGroupTag', options.portalGroupTag, 1, 0, 65535);
    const mrdsl = optionalInteger(
      'maxRecvDataSegmentLength',
      options.maxRecvDataSegmentLength,
      262144,
      512,
      2 ** 24 - 1,
    );
    const digests = (options.digests ?? ['None', 'CRC32C']).join(',');
    const local: Record<string, string> = {
      HeaderDigest: digests,
      DataDigest: digests,
      MaxBurstLength: String(
        optionalInteger('maxBurstLength', options.maxBurstLength, 262144, 512, 2 ** 24 - 1),
      ),
      FirstBurstLength: String(
        optionalInteger('firstBurstLength', options.firstBurstLength, 65536, 512, 2 ** 24 - 1),
      ),
      // OR and AND keys: our No/Yes lets the initiator decide (RFC 7143 §13.10-13.11).
      InitialR2T: 'No',
      ImmediateData: 'Yes',
      MaxOutstandingR2T: String(
        optionalInteger('maxOutstandingR2T', options.maxOutstandingR2T, 16, 1, 65535),
      ),
      DataPDUInOrder: 'Yes',
      DataSequenceInOrder: 'Yes',
      ErrorRecoveryLevel: '0',
      MaxConnections: '1',
      DefaultTime2Wait: '0',
      DefaultTime2Retain: '0',
    };
    const window = optionalInteger('commandWindow', options.commandWindow, 128, 1, 65535);
    const chap = options.chap;
    this.#loginContext = {
      targetName: options.targetName,
      ...(options.targetAlias ? { targetAlias: options.targetAlias } : {}),
      portalGroupTag,
      local,
      maxRecvDataSegmentLength: mrdsl,
      ...(chap
        ? {
            chap: () =>
              new ChapAuthenticator({
                secretOf: (name) => chap.accounts[name],
                ...(chap.targetCredentials ? { targetCredentials: chap.targetCredentials } : {}),
                ...(chap.algorithms ? { algorithms: chap.algorithms } : {}),
              }),
          }
        : {}),
      chapRequired: chap !== undefined && (chap.required ?? true),
      chapForDiscovery: chap?.discovery ?? false,
      commandWindow: window,
    };
    const targetPort = options.targetPort ?? options.target.ports[0]!;
    if (!options.target.ports.includes(targetPort)) {
      throw new InvalidFieldError(
        'targetPort',
        `must be one of the target's ports (${options.target.ports.join(', ')})`,
        targetPort,
      );
    }
    this.#sessionContext = {
      target: options.target,
      targetPort,
      targetName: options.targetName,
      targetAddresses: [`${formatPortal(address.address, address.port)},${portalGroupTag}`],
      maxCommandBytes: optionalInteger(
        'maxCommandBytes',
        options.maxCommandBytes,
        64 << 20,
        512,
        2 ** 32 - 1,
      ),
      maxSessionBufferBytes: optionalInteger(
        'maxSessionBufferBytes',
        options.maxSessionBufferBytes,
        256 << 20,
        512,
        Number.MAX_SAFE_INTEGER,
      ),
      commandWindow: window,
      local,
      dropAllConnections: () => {
        for (const c of [...this.#connections]) this.#end(c, 'TARGET COLD RESET');
      },
      onTaskManagement: (event) => this.emit('taskManagement', event),
    };
    server.on('connection', (socket) => this.#accept(socket));
  }

  /**
   * Starts listening. Rejects with InvalidFieldError for bad options and OsError-like Node
   * errors when the address is taken.
   */
  static async listen(options: IscsiPortalOptions): Promise<IscsiPortal> {
    if (options === null || typeof options !== 'object')
      throw new InvalidFieldError('options', 'must be an object', options);
    if (typeof options.targetName !== 'string' || !/^(iqn\.|eui\.|naa\.)\S+$/.test(options.targetName)) {
      throw new InvalidFieldError(
        'targetName',
        'must be an iSCSI name (iqn., eui. or naa., RFC 7143 §4.2.7)',
        options.targetName,
      );
    }
    const host = options.host ?? '127.0.0.1';
    const port = optionalInteger('port', options.port, 3260, 0, 65535);
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    try {
      return new IscsiPortal(options, server, server.address() as AddressInfo);
    } catch (error) {
      server.close();
      throw error;
    }
  }

  /** The address the portal listens on. */
  get address(): { readonly host: string; readonly port: number } {
    return { host: this.#address.address, port: this.#address.port };
  }

  /** The sessions in the full feature phase. */
  get sessions(): readonly PortalSessionInfo[] {
    return [...this.#connections].flatMap((c) => (c.info ? [c.info] : []));
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    const peer = formatPortal(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    const conn: Connection = {
      socket,
      reader: new PduReader({
        from: 'initiator',
        maxDataSegmentLength: 8192,
        placeData: (kind, header) => (kind === 'DATA_OUT' ? conn.session?.placeData(header) : undefined),
      }),
      peer,
      digests: NO_DIGESTS,
      login: this.#newLogin(),
      session: undefined,
      info: undefined,
      ended: false,
    };
    this.#connections.add(conn);
    socket.on('data', (chunk: Buffer) => {
      if (conn.ended) return;
      try {
        conn.reader.push(chunk, (pdu) => this.#onPdu(conn, pdu));
      } catch (error) {
        this.#end(conn, (error as Error).message);
      }
    });
    socket.on('error', (error) => this.#end(conn, error.message));
    socket.on('close', () => this.#end(conn, 'closed by the initiator'));
  }

  #newLogin(): TargetLogin {
    return new TargetLogin({
      ...this.#loginContext,
      allocateTsih: (request) => this.#allocateTsih(request),
    });
  }

  /**
   * A new session's TSIH. Session reinstatement (RFC 7143 §6.3.5): a login with the ISID and
   * InitiatorName of a session that exists ends that session first. A non-zero TSIH would add
   * a connection to a session, which MaxConnections=1 does not allow (status 2/08, or 2/0a when
   * no such session exists).
   */
  #allocateTsih(request: { initiatorName: string; isid: Uint8Array; tsih: number }): number {
    const isid = Buffer.from(request.isid).toString('hex');
    const initiator = `${request.initiatorName},i,0x${isid}`;
    if (request.tsih !== 0) {
      const exists = [...this.#connections].some((c) => c.info?.tsih === request.tsih);
      throw new LoginRefusal(
        2,
        exists ? 0x08 : 0x0a,
        exists ? 'a session takes one connection' : `no session with TSIH ${request.tsih}`,
      );
    }
    for (const c of [...this.#connections]) {
      if (c.info?.nexus.initiator === initiator)
        this.#end(c, 'session reinstatement (a new login with the same ISID)');
    }
    let tsih = this.#nextTsih;
    while (tsih === 0 || [...this.#connections].some((c) => c.info?.tsih === tsih))
      tsih = (tsih + 1) & 0xffff;
    this.#nextTsih = (tsih + 1) & 0xffff;
    return tsih;
  }

  #send(conn: Connection, ...pdus: AnyOutgoingPdu[]): void {
    if (conn.ended) return;
    const s = conn.socket;
    s.cork();
    for (const pdu of pdus) for (const chunk of encodePdu(pdu, conn.digests)) s.write(chunk);
    process.nextTick(() => s.uncork());
  }

  #onPdu(conn: Connection, pdu: AnyPdu): void {
    if (conn.session !== undefined) {
      conn.session.onPdu(pdu);
      return;
    }
    if (pdu.kind !== 'LOGIN_REQUEST') {
      this.#end(conn, `${pdu.kind} before login completed (RFC 7143 §6.1)`);
      return;
    }
    let step: ReturnType<TargetLogin['step']>;
    try {
      step = conn.login.step(pdu);
    } catch (error) {
      if (error instanceof LoginRefusal || error instanceof IscsiProtocolError) {
        const refusal = error instanceof LoginRefusal ? error : new LoginRefusal(2, 0x00, error.message);
        const answer = conn.login.refusal(pdu, refusal);
        this.#send(conn, {
          kind: 'LOGIN_RESPONSE',
          header: answer.response.header,
          data: answer.response.data,
        });
        this.emit('loginRefused', {
          peer: conn.peer,
          statusClass: refusal.statusClass,
          statusDetail: refusal.statusDetail,
          reason: refusal.message,
        });
        setImmediate(() => this.#end(conn, `login refused: ${refusal.message}`));
        return;
      }
      throw error;
    }
    this.#send(conn, { kind: 'LOGIN_RESPONSE', header: step.response.header, data: step.response.data });
    const done = step.completed;
    if (done === undefined) return;
    // Digests and the larger segment limit apply from the next PDU on (RFC 7143 §13.1, §13.12).
    conn.digests = { header: done.parameters.headerDigest, data: done.parameters.dataDigest };
    conn.reader.digests = conn.digests;
    conn.reader.maxDataSegmentLength = done.parameters.maxRecvDataSegmentLength;
    const link: SessionLink = {
      send: (...pdus) => this.#send(conn, ...pdus),
      close: (reason) => this.#end(conn, reason),
    };
    conn.session = new TargetSession(this.#sessionContext, link, done);
    conn.info = {
      nexus: conn.session.nexus,
      sessionType: done.sessionType,
      tsih: done.tsih,
      peer: conn.peer,
    };
    this.emit('login', conn.info);
  }

  #end(conn: Connection, reason: string): void {
    if (conn.ended) return;
    conn.ended = true;
    this.#connections.delete(conn);
    // Let what was queued leave first (a Logout Response, a refusal), then close.
    conn.socket.end();
    setTimeout(() => conn.socket.destroy(), 1000).unref();
    const info = conn.info;
    void conn.session?.end().finally(() => {
      if (info) this.emit('sessionEnded', { ...info, reason });
    });
  }

  /** Ends every session (an I_T nexus loss for each) and stops listening. The target stays open. */
  async close(): Promise<void> {
    for (const c of [...this.#connections]) this.#end(c, 'portal closed');
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
