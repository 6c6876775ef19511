/**
 * libiscsi's URL syntax (lib/init.c `iscsi_parse_url`, README):
 * `iscsi://[<user>[%<password>]@]<host>[:<port>]/<target-iqn>/<lun>[?arg[&arg]*]`, and the
 * portal form `iscsi://[<user>[%<password>]@]<host>[:<port>]` used for discovery.
 *
 * Parsed as libiscsi does: the password follows the first `%` of the user part (or the first
 * `:` when there is no `%`), so neither the user nor the password may hold `%`, `@`, `/` or
 * `?`; the target name is percent-decoded; an IPv6 host is written in brackets. Arguments:
 * `header_digest=crc32c|none`, `data_digest=crc32c|none`, `auth=md5|sha1|sha-256|sha3-256`,
 * `target_user=`/`target_password=` (mutual CHAP, only together with user and password, as
 * in libiscsi). With an `env` (e.g. `process.env`), libiscsi's LIBISCSI_CHAP_USERNAME,
 * LIBISCSI_CHAP_PASSWORD, LIBISCSI_CHAP_TARGET_USERNAME and LIBISCSI_CHAP_TARGET_PASSWORD fill
 * in what the URL leaves out.
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';
import { CHAP_ALGORITHM_NAMES, type ChapAlgorithm, type ChapCredentials } from '../auth/chap.js';

/** The default iSCSI port (RFC 7143 §13.8: "the default port is 3260"). */
export const ISCSI_DEFAULT_PORT = 3260;

/** A parsed portal URL. */
export interface IscsiPortalUrl {
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** CHAP credentials (user and password), when given. */
  readonly credentials?: ChapCredentials;
  /** The target's credentials for mutual CHAP. */
  readonly targetCredentials?: ChapCredentials;
  /** `header_digest=` as a HeaderDigest value. */
  readonly headerDigest?: 'CRC32C' | 'None';
  /** `data_digest=` as a DataDigest value. */
  readonly dataDigest?: 'CRC32C' | 'None';
  /** `auth=`: the CHAP algorithm to offer. */
  readonly chapAlgorithm?: ChapAlgorithm;
}

/** A parsed LU URL. */
export interface IscsiUrl extends IscsiPortalUrl {
  /** The target's iSCSI name. */
  readonly targetName: string;
  /** The LUN (Linux's integer form, see `lunField`). */
  readonly lun: number;
}

/** Options of the parsers. */
export interface IscsiUrlOptions {
  /** Environment to take LIBISCSI_CHAP_* from (none by default: parsing is pure). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const SYNTAX = 'iscsi://[<user>[%<password>]@]<host>[:<port>]/<target-iqn>/<lun>[?arg[&arg]*]';
const PORTAL_SYNTAX = 'iscsi://[<user>[%<password>]@]<host>[:<port>]';

function bad(url: string, rule: string): InvalidFieldError {
  return new InvalidFieldError('url', rule, url.replace(/\/\/[^@/]*@/, '//<credentials>@'));
}

interface Split {
  readonly authority: string;
  readonly path: string;
  readonly args: Map<string, string>;
}

function split(url: string, syntax: string): Split {
  if (!url.startsWith('iscsi://')) {
    if (url.startsWith('iser://'))
      throw bad(url, 'iSER (iser://) needs RDMA, which this TCP initiator does not do');
    throw bad(url, `must be of the form ${syntax}`);
  }
  let rest = url.slice('iscsi://'.length);
  const args = new Map<string, string>();
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const item of rest.slice(q + 1).split('&')) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      args.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
    }
    rest = rest.slice(0, q);
  }
  // The authority ends at the first '/'; an '@' in it ends the credentials.
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  return { authority, path, args };
}

const KNOWN_ARGS = ['header_digest', 'data_digest', 'auth', 'target_user', 'target_password'];

function parsePortal(url: string, parts: Split, options: IscsiUrlOptions, syntax: string): IscsiPortalUrl {
  const env = options.env ?? {};
  let user = env.LIBISCSI_CHAP_USERNAME;
  let password = env.LIBISCSI_CHAP_PASSWORD;
  let targetUser = env.LIBISCSI_CHAP_TARGET_USERNAME;
  let targetPassword = env.LIBISCSI_CHAP_TARGET_PASSWORD;
  let hostPort = parts.authority;
  const at = hostPort.indexOf('@');
  if (at >= 0) {
    const userPart = hostPort.slice(0, at);
    hostPort = hostPort.slice(at + 1);
    const sep = userPart.includes('%') ? userPart.indexOf('%') : userPart.indexOf(':');
    user = sep < 0 ? userPart : userPart.slice(0, sep);
    password = sep < 0 ? password : userPart.slice(sep + 1);
  }
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw bad(url, 'an IPv6 host must be closed with ]');
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw bad(url, `must be of the form ${syntax}`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(':');
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    portText = colon < 0 ? undefined : hostPort.slice(colon + 1);
  }
  if (host === '') throw bad(url, `needs a host: ${syntax}`);
  let port = ISCSI_DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw bad(url, 'port must be an integer in 1..65535');
    }
    port = Number(portText);
  }
  let headerDigest: 'CRC32C' | 'None' | undefined;
  let dataDigest: 'CRC32C' | 'None' | undefined;
  let chapAlgorithm: ChapAlgorithm | undefined;
  for (const [key, value] of parts.args) {
    if (key === 'header_digest' || key === 'data_digest') {
      if (value !== 'crc32c' && value !== 'none') throw bad(url, `${key} must be crc32c or none`);
      if (key === 'header_digest') headerDigest = value === 'crc32c' ? 'CRC32C' : 'None';
      else dataDigest = value === 'crc32c' ? 'CRC32C' : 'None';
    } else if (key === 'auth') {
      chapAlgorithm = CHAP_ALGORITHM_NAMES[value];
      if (chapAlgorithm === undefined)
        throw bad(url, `auth must be one of ${Object.keys(CHAP_ALGORITHM_NAMES).join(', ')}`);
    } else if (key === 'target_user') targetUser = value;
    else if (key === 'target_password') targetPassword = value;
    else throw bad(url, `unknown argument ${JSON.stringify(key)} (known: ${KNOWN_ARGS.join(', ')})`);
  }
  // As libiscsi: CHAP only with both user and password; mutual only on top of one-way CHAP.
  const credentials = user && password ? { username: user, secret: password } : undefined;
  const targetCredentials =
    credentials && targetUser && targetPassword
      ? { username: targetUser, secret: targetPassword }
      : undefined;
  return {
    host,
    port,
    ...(credentials ? { credentials } : {}),
    ...(targetCredentials ? { targetCredentials } : {}),
    ...(headerDigest ? { headerDigest } : {}),
    ...(dataDigest ? { dataDigest } : {}),
    ...(chapAlgorithm ? { chapAlgorithm } : {}),
  };
}

/** Parses an LU URL; InvalidFieldError (field `url`, credentials masked) naming what is wrong. */
export function parseIscsiUrl(url: string, options: IscsiUrlOptions = {}): IscsiUrl {
  if (typeof url !== 'string')
    throw new InvalidFieldError('url', `must be a string of the form ${SYNTAX}`, url);
  const parts = split(url, SYNTAX);
  const portal = parsePortal(url, parts, options, SYNTAX);
  const slash = parts.path.lastIndexOf('/');
  if (parts.path === '' || slash <= 0) throw bad(url, `needs /<target-iqn>/<lun>: ${SYNTAX}`);
  let targetName: string;
  try {
    targetName = decodeURIComponent(parts.path.slice(0, slash));
  } catch {
    throw bad(url, 'the target name has an invalid %-escape');
  }
  const lunText = parts.path.slice(slash + 1);
  if (!/^[0-9]+$/.test(lunText) || !Number.isSafeInteger(Number(lunText))) {
    throw bad(url, `<lun> must be a non-negative decimal integer: ${SYNTAX}`);
  }
  return { ...portal, targetName, lun: Number(lunText) };
}

/** Parses a portal URL (a trailing `/` or path is ignored, as libiscsi's portal parser does). */
export function parseIscsiPortalUrl(url: string, options: IscsiUrlOptions = {}): IscsiPortalUrl {
  if (typeof url !== 'string')
    throw new InvalidFieldError('url', `must be a string of the form ${PORTAL_SYNTAX}`, url);
  return parsePortal(url, split(url, PORTAL_SYNTAX), options, PORTAL_SYNTAX);
}

/** `host:port`, IPv6 in brackets. */
export function formatPortal(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The URL without credentials (safe to log), e.g. `iscsi://127.0.0.1:3260/iqn.2026-11.test:disk1/1`. */
export function formatIscsiUrl(u: IscsiPortalUrl & { targetName?: string; lun?: number }): string {
  const base = `iscsi://${formatPortal(u.host, u.port)}`;
  return u.targetName === undefined
    ? base
    : `${base}/${encodeURIComponent(u.targetName).replace(/%3A/gi, ':')}/${u.lun ?? 0}`;
}
