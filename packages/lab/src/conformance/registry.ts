/**
 * The conformance registry: every area, in report order. The lab tests and `sgv4 lab
 * conformance` both run these, so the test suite and the report cannot drift apart.
 * @module
 */
import { headersArea } from './areas/headers.js';
import { permissionsArea } from './areas/permissions.js';
import { reserveArea } from './areas/reserve.js';
import { senseArea } from './areas/sense.js';
import { transferArea } from './areas/transfer.js';
import type { ConformanceArea, ConformanceAreaName } from './conformance-case.js';

/** Every area, in report order. */
export const CONFORMANCE_AREAS: readonly ConformanceArea[] = [
  permissionsArea as ConformanceArea,
  headersArea as ConformanceArea,
  transferArea as ConformanceArea,
  reserveArea as ConformanceArea,
  senseArea as ConformanceArea,
];

/** The area called `name`. */
export function conformanceArea(name: ConformanceAreaName): ConformanceArea {
  const area = CONFORMANCE_AREAS.find((a) => a.name === name);
  if (area === undefined) throw new Error(`no conformance area '${name}'`);
  return area;
}
