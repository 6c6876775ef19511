/**
 * Taking a SCSI device away in the guest while commands are at it, for lab tests of failure
 * paths: writing `1` to `/sys/class/scsi_device/<H:C:T:L>/device/delete` (sdev_store_delete ->
 * scsi_remove_device, drivers/scsi/scsi_sysfs.c) makes sg mark the device detaching
 * (sg_remove_device, drivers/scsi/sg.c: sg_poll reports EPOLLHUP, read()/write() ENODEV) while
 * the commands already sent are still at the device; the write returns once the midlayer drained
 * them (blk_mq_destroy_queue).
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { LabConfigError } from '../errors.js';

/** How {@link settleDevice} polls. */
export interface SettleOptions {
  /** Milliseconds between two looks at the counters (default 20). */
  readonly intervalMs?: number;
  /** Looks at most (default 500); the device is used as it is after that. */
  readonly maxPolls?: number;
}

/** The device's sysfs directory; `hctl` is checked first (it also goes into a shell command). */
function deviceDir(hctl: string): string {
  if (typeof hctl !== 'string' || !/^\d+:\d+:\d+:\d+$/.test(hctl)) {
    throw new LabConfigError('hctl', 'a SCSI address H:C:T:L of decimal numbers', hctl);
  }
  return `/sys/class/scsi_device/${hctl}/device`;
}

function counting(field: string, value: number | undefined, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LabConfigError(field, `an integer >= ${min}`, value);
  }
  return value;
}

/**
 * Waits until the probing of a new device is over, so that from then on its `device_busy`
 * counts only the caller's commands: sd sends READ CAPACITY, reads the partition table and more
 * after the nodes appear. Over once `iorequest_cnt` and `device_busy` (scsi_sysfs.c) stayed the
 * same, with none busy, for 10 looks in a row. Then the disk's cache is set to `temporary write
 * through`, so deleting it sends no SYNCHRONIZE CACHE (sd_shutdown sends one only with a
 * write-back cache, drivers/scsi/sd.c) that would wait out a latency the test sets; "temporary"
 * changes only the kernel's view of the cache (cache_type_store), not the device's.
 * LabConfigError for an `hctl` that is not H:C:T:L or a count or interval below 1.
 */
export async function settleDevice(hctl: string, options: SettleOptions = {}): Promise<void> {
  const dir = deviceDir(hctl);
  const intervalMs = counting('intervalMs', options.intervalMs, 1, 20);
  const maxPolls = counting('maxPolls', options.maxPolls, 1, 500);
  const counters = () =>
    `${readFileSync(`${dir}/iorequest_cnt`, 'utf8')}/${readFileSync(`${dir}/device_busy`, 'utf8')}`;
  let last = counters();
  for (let quiet = 0, i = 0; quiet < 10 && i < maxPolls; i++) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const now = counters();
    quiet = now === last && now.endsWith('/0\n') ? quiet + 1 : 0;
    last = now;
  }
  writeFileSync(`/sys/class/scsi_disk/${hctl}/cache_type`, 'temporary write through');
}

/** A shell waiting to delete a device (see {@link deleteDeviceWhenBusy}). */
export interface DeviceDeleter {
  /** The shell (kill it when the test ends before the delete). */
  readonly child: ChildProcess;
  /** Its exit status: 0 once the delete returned. */
  readonly exited: Promise<number | null>;
  /** `Date.now()` when it exited. */
  readonly exitedAt: Promise<number>;
}

/**
 * Starts a shell that deletes device `hctl` as soon as `busy` (>= 1) commands are at it
 * (`device_busy`), and resolves once the shell is ready: the delete then follows the commands at
 * once whatever the calling process does meanwhile (a synchronous call blocks its thread).
 * LabConfigError for an `hctl` that is not H:C:T:L or a `busy` that is not an integer >= 1.
 */
export async function deleteDeviceWhenBusy(hctl: string, busy: number): Promise<DeviceDeleter> {
  const dir = deviceDir(hctl);
  const count = counting('busy', busy, 1, 1);
  const child = spawn(
    'sh',
    [
      '-c',
      `echo ready; while read n < ${dir}/device_busy && [ "$n" -lt ${count} ]; do :; done; echo 1 > ${dir}/delete`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let exitedAt!: (at: number) => void;
  const at = new Promise<number>((resolve) => (exitedAt = resolve));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitedAt(Date.now());
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('error', reject);
  });
  return { child, exited, exitedAt: at };
}
