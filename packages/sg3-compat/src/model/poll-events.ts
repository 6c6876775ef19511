/**
 * poll(2) event bits sg reports (include/uapi/asm-generic/poll.h, x86).
 * @module
 */

/** POLLIN: a reply can be read. */
export const POLLIN = 0x001;
/** POLLOUT: a request can be written. */
export const POLLOUT = 0x004;
/** POLLERR. */
export const POLLERR = 0x008;
/** POLLHUP: the device is going away. */
export const POLLHUP = 0x010;
/** POLLRDNORM: reported with POLLIN. */
export const POLLRDNORM = 0x040;
/** POLLWRNORM: reported with POLLOUT. */
export const POLLWRNORM = 0x100;

/** `POLLIN|POLLOUT` style names of a mask, for messages and test output. */
export function pollEventNames(mask: number): string {
  const names: string[] = [];
  for (const [bit, name] of [
    [POLLIN, 'POLLIN'],
    [POLLOUT, 'POLLOUT'],
    [POLLERR, 'POLLERR'],
    [POLLHUP, 'POLLHUP'],
    [POLLRDNORM, 'POLLRDNORM'],
    [POLLWRNORM, 'POLLWRNORM'],
  ] as const) {
    if ((mask & bit) !== 0) names.push(name);
  }
  return names.length === 0 ? '0' : names.join('|');
}
