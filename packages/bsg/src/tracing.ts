/**
 * Tracing without a dependency, the Node way: `node:diagnostics_channel` channels for every
 * request (published only while someone subscribes, so an untraced device pays one boolean
 * test per event) and `NODE_DEBUG=sgv4` lines through `util.debuglog`.
 * @module
 */

import { channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import type { ResultCategory, TaskAttribute } from '@sgv4/core';
import { hexDigits } from '@sgv4/core';

/** Channel names: `sgv4:submit`, `sgv4:complete`, `sgv4:error`. */
export const TRACE_CHANNELS = {
  /** A request left the Device's queue for the transport. */
  submit: 'sgv4:submit',
  /** A request completed with a response (any status; see `category`). */
  complete: 'sgv4:complete',
  /** A request ended without a response (rejected: OS error, timeout, abort, permission). */
  error: 'sgv4:error',
} as const;

/** The message published on the channels. */
export interface TraceEvent {
  /** The device's location (path or URL). */
  readonly device: string;
  /** Transport kind (`sg`, `bsg`, `block`, `emu`...). */
  readonly kind: string;
  /** Task tag. */
  readonly tag: bigint;
  /** The CDB (the caller's buffer: copy it to keep it). */
  readonly cdb: Uint8Array;
  /** Task attribute. */
  readonly attribute: TaskAttribute;
  /** SCSI status (complete). */
  readonly status?: number;
  /** Host byte (complete). */
  readonly hostStatus?: number;
  /** Driver byte (complete). */
  readonly driverStatus?: number;
  /** Result category (complete). */
  readonly category?: ResultCategory;
  /** Milliseconds since the request was submitted to the Device (complete, error). */
  readonly durationMs?: number;
  /** Why it failed (error). */
  readonly error?: unknown;
}

const submitChannel = channel(TRACE_CHANNELS.submit);
const completeChannel = channel(TRACE_CHANNELS.complete);
const errorChannel = channel(TRACE_CHANNELS.error);
const log = debuglog('sgv4');

/** True when an event would go anywhere (a subscriber, or NODE_DEBUG=sgv4). */
export function tracing(): boolean {
  return (
    submitChannel.hasSubscribers ||
    completeChannel.hasSubscribers ||
    errorChannel.hasSubscribers ||
    log.enabled
  );
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += hexDigits(b);
  return s;
}

/** Publishes a submit event. */
export function traceSubmit(event: TraceEvent): void {
  if (submitChannel.hasSubscribers) submitChannel.publish(event);
  if (log.enabled)
    log('submit %s tag %s cdb %s %s', event.device, event.tag, hex(event.cdb), event.attribute);
}

/** Publishes a complete event. */
export function traceComplete(event: TraceEvent): void {
  if (completeChannel.hasSubscribers) completeChannel.publish(event);
  if (log.enabled) {
    log(
      'complete %s tag %s status 0x%s host 0x%s driver 0x%s category %d %s ms',
      event.device,
      event.tag,
      (event.status ?? 0).toString(16),
      (event.hostStatus ?? 0).toString(16),
      (event.driverStatus ?? 0).toString(16),
      event.category,
      event.durationMs?.toFixed(3),
    );
  }
}

/** Publishes an error event. */
export function traceError(event: TraceEvent): void {
  if (errorChannel.hasSubscribers) errorChannel.publish(event);
  if (log.enabled) {
    const e = event.error;
    log(
      'error %s tag %s cdb %s: %s',
      event.device,
      event.tag,
      hex(event.cdb),
      e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    );
  }
}
