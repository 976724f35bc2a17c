const ALMATY_OFFSET_MS = 6 * 60 * 60 * 1000;

/**
 * Formats an instant the way ktpay does on the wire: ISO-8601 with the Almaty offset.
 *
 * @example
 * toAlmatyIso(Date.UTC(2019, 1, 5, 8, 22, 53)); // '2019-02-05T14:22:53+06:00'
 */
export function toAlmatyIso(ms: number): string {
  return new Date(ms + ALMATY_OFFSET_MS).toISOString().slice(0, 19) + '+06:00';
}

/** `YYYYMMDDHHmmss` in Almaty time, as used in receipt file names. */
export function toAlmatyCompact(ms: number): string {
  return toAlmatyIso(ms).slice(0, 19).replace(/[-T:]/g, '');
}
