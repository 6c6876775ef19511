/** Counting this process's open file descriptors, for fd-leak checks. */
import { readdirSync } from 'node:fs';

/** Number of entries in /proc/self/fd (the readdir's own fd included, so compare counts only). */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
