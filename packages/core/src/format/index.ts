/**
 * Formatting shared by every package (hex codes and byte dumps).
 * @module
 */
export { hexByte, hexBytes, hexDigits } from './hex.js';
