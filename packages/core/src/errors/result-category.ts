/**
 * The outcome category of a pass-through request, ordered by severity.
 * @module
 */

/**
 * Result categories, as sg3_utils' `get_scsi_pt_result_category()` (include/sg_pt.h,
 * `SCSI_PT_RESULT_*`) defines them. When several apply, the highest one wins:
 * an OS error beats a transport error, which beats sense data, which beats a
 * non-GOOD status without sense.
 */
export const ResultCategory = {
  /** Status GOOD, no transport or OS error (`SCSI_PT_RESULT_GOOD`). */
  GOOD: 0,
  /** A status other than GOOD and CHECK CONDITION, e.g. BUSY (`SCSI_PT_RESULT_STATUS`). */
  STATUS: 1,
  /** CHECK CONDITION (or any status) with sense data (`SCSI_PT_RESULT_SENSE`). */
  SENSE: 2,
  /** The host (transport) or driver byte reports an error (`SCSI_PT_RESULT_TRANSPORT_ERR`). */
  TRANSPORT_ERR: 3,
  /** The system call failed with an errno (`SCSI_PT_RESULT_OS_ERR`). */
  OS_ERR: 4,
} as const;

/** One of the {@link ResultCategory} values. */
export type ResultCategory = (typeof ResultCategory)[keyof typeof ResultCategory];

const CATEGORY_NAMES = ['GOOD', 'STATUS', 'SENSE', 'TRANSPORT_ERR', 'OS_ERR'] as const;

/** The name of a category, e.g. `TRANSPORT_ERR`. */
export function resultCategoryName(category: ResultCategory): (typeof CATEGORY_NAMES)[number] {
  return CATEGORY_NAMES[category];
}
