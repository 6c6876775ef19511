/**
 * What a device's queue accepts, as the Device uses it to split transfers.
 * @module
 */
import type { AssumedLimit, QueueLimits } from '@sgv4/core';

/** The limits of an open device. */
export interface DeviceLimits {
  /** The request-queue limits (Linux 6.1 `struct queue_limits`, the core's model). */
  readonly queueLimits: QueueLimits;
  /** Limits the source did not show, with the value assumed. */
  readonly assumed: readonly AssumedLimit[];
  /** Where they came from, e.g. `sysfs:/sys/block/sda/queue`. */
  readonly source: string;
  /** The device's own queue depth (sysfs queue_depth...), when known. */
  readonly deviceQueueDepth?: number;
  /** Largest single request the Device sends (the core's `maxSafeRequestBytes`, capped by the transport). */
  readonly maxRequestBytes: number;
}
