/**
 * Knowing whether code runs inside the lab guest.
 * @module
 */

/** True inside a lab guest (the lab sets `SGV4_LAB=1` for every command it runs). */
export function isInLab(): boolean {
  return process.env.SGV4_LAB === '1';
}
