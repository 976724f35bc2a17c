/** The bench's sealer (plain JavaScript in fast-seal.mjs, so seal workers need no loader). */
export { checkFastSeal, createFastSealer } from './fast-seal.mjs';
