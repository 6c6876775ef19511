/**
 * Page rounding for sg reserved-buffer sizes.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { X86_64_PAGE_SIZE } from '../limits/constants.js';

/**
 * Rounds `size` up to a whole number of pages, adding no page when it is
 * already aligned (`PAGE_ALIGN`): `sg_mmap()` measures the mapping in whole
 * pages (`vm_end - vm_start`) and refuses one longer than the reserve, so an
 * mmap-ed reserve should be set to a page multiple (as sg_read's mmap=1 does).
 * Throws {@link InvalidFieldError} for a negative or non-integer size.
 */
export function roundUpToPage(size: number, pageSize = X86_64_PAGE_SIZE): number {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new InvalidFieldError('size', 'must be a non-negative safe integer', size);
  }
  const rest = size % pageSize;
  return rest === 0 ? size : size + (pageSize - rest);
}
