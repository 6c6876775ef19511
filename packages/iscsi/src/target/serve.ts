/**
 * Serving the embedded target over iSCSI in one call (what `sgv4 target serve --iscsi` runs):
 * logical units from short specs (`mem:64M`, `file:/path/disk.img,size=1G,bs=4096`), a target
 * named after the IQN with an iSCSI target port, and a portal in front of it.
 * @module
 */
import { statSync } from 'node:fs';
import { InvalidFieldError } from '@sgv4/core';
import { createTarget, type LogicalUnitOptions, type ScsiTarget } from '@sgv4/target';
import { IscsiPortal, type IscsiPortalOptions } from './portal.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses a size: a number of bytes with an optional binary suffix K, M, G or T (`64M` = 64 MiB). */
export function parseSize(field: string, text: string): bigint {
  const m = /^([0-9]+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (m === null) throw new InvalidFieldError(field, 'must be a size such as 65536, 64M or 1G', text);
  const bytes = BigInt(m[1]!) * BigInt(UNITS[m[2]!.toUpperCase()]!);
  if (bytes === 0n) throw new InvalidFieldError(field, 'must be more than 0 bytes', text);
  return bytes;
}

/**
 * A logical unit from a spec: `mem:SIZE` (sparse memory) or `file:PATH` (a raw image; its size
 * when it exists, else 64 MiB), each optionally followed by `,size=SIZE` and `,bs=512|4096`.
 */
export function parseLunSpec(spec: string, lun: number): LogicalUnitOptions {
  const field = `lun[${lun}]`;
  const [head = '', ...options] = spec.split(',');
  const colon = head.indexOf(':');
  const kind = colon < 0 ? head : head.slice(0, colon);
  const arg = colon < 0 ? '' : head.slice(colon + 1);
  let size: bigint | undefined;
  let blockSize: 512 | 4096 | undefined;
  for (const option of options) {
    const [k, v = ''] = option.split('=');
    if (k === 'size') size = parseSize(`${field}.size`, v);
    else if (k === 'bs' && (v === '512' || v === '4096')) blockSize = Number(v) as 512 | 4096;
    else throw new InvalidFieldError(`${field}`, 'options are size=SIZE and bs=512|4096', option);
  }
  if (kind === 'mem') {
    const bytes = size ?? (arg === '' ? 64n << 20n : parseSize(field, arg));
    return { lun, backing: { kind: 'memory' }, sizeBytes: bytes, ...(blockSize ? { blockSize } : {}) };
  }
  if (kind === 'file') {
    if (arg === '') throw new InvalidFieldError(field, 'file: needs a path (file:/path/disk.img)', spec);
    let existing: bigint | undefined;
    try {
      const st = statSync(arg);
      if (st.isFile() && st.size > 0) existing = BigInt(st.size);
    } catch {
      existing = undefined;
    }
    const bytes = size ?? existing ?? 64n << 20n;
    return {
      lun,
      backing: { kind: 'file', path: arg },
      sizeBytes: bytes,
      ...(blockSize ? { blockSize } : {}),
    };
  }
  throw new InvalidFieldError(
    field,
    'must be mem:SIZE or file:PATH (with optional ,size=SIZE,bs=512|4096)',
    spec,
  );
}

/** Parses `host:port` (IPv6 in brackets; port 3260 when absent). */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::([0-9]{1,5}))?$/.exec(text);
  const port = m?.[3] === undefined ? 3260 : Number(m[3]);
  if (m === null || port > 65535)
    throw new InvalidFieldError('address', 'must be HOST[:PORT], IPv6 in brackets', text);
  return { host: (m[1] ?? m[2])!, port };
}

/** What {@link serveIscsiTarget} needs. */
export interface ServeIscsiTargetOptions
  extends Omit<IscsiPortalOptions, 'target' | 'targetName' | 'host' | 'port'> {
  /** `host:port` to listen on (e.g. `127.0.0.1:3260`). */
  readonly address: string;
  /** The target's iSCSI name. */
  readonly iqn: string;
  /** Logical unit specs, LUN 0 first (see {@link parseLunSpec}). */
  readonly luns: readonly string[];
}

/** A served target: the portal, the embedded target, and one close for both. */
export interface ServedIscsiTarget {
  /** The portal. */
  readonly portal: IscsiPortal;
  /** The embedded target behind it. */
  readonly target: ScsiTarget;
  /** Ends the sessions, stops listening, flushes and closes the target. */
  close(): Promise<void>;
}

/**
 * Creates the embedded target (name = the IQN, one iSCSI target port `<iqn>,t,0x0001`,
 * PERSISTENT RESERVE TransportIDs in iSCSI format) with the given LUs and serves it.
 */
export async function serveIscsiTarget(options: ServeIscsiTargetOptions): Promise<ServedIscsiTarget> {
  const { host, port } = parseListenAddress(options.address);
  if (!Array.isArray(options.luns) || options.luns.length === 0) {
    throw new InvalidFieldError('luns', 'must name at least one logical unit (LUN 0)', options.luns);
  }
  const logicalUnits = options.luns.map((spec, i) => parseLunSpec(spec, i));
  const tpgt = options.portalGroupTag ?? 1;
  const targetPort = `${options.iqn},t,0x${tpgt.toString(16).padStart(4, '0')}`;
  const target = await createTarget({
    name: options.iqn,
    ports: [targetPort],
    protocol: 'iscsi',
    logicalUnits,
  });
  try {
    const { address: _a, iqn: _i, luns: _l, ...portalOptions } = options;
    const portal = await IscsiPortal.listen({
      ...portalOptions,
      target,
      targetName: options.iqn,
      host,
      port,
      targetPort,
    });
    return {
      portal,
      target,
      async close() {
        await portal.close();
        await target.close();
      },
    };
  } catch (error) {
    await target.close();
    throw error;
  }
}
