/** Postgres BIGINT's largest value (2^63 - 1): a key or cursor above it cannot be compared with a BIGINT column. */
export const INT8_MAX = 9_223_372_036_854_775_807n;

/** A key of 1-19 decimal digits that fits a BIGINT (0 to INT8_MAX), or undefined when it is not one. */
export function parseInt8Key(s: string): bigint | undefined {
  if (!/^\d{1,19}$/.test(s)) return undefined;
  const n = BigInt(s);
  return n <= INT8_MAX ? n : undefined;
}

/** A `<tx_id>.<id>` cursor (the venue feed's, a counter event's id), both BIGINTs; undefined when it is not one. */
export function parseTxIdCursor(s: string): { tx: bigint; id: bigint } | undefined {
  const dot = s.indexOf('.');
  if (dot < 0) return undefined;
  const tx = parseInt8Key(s.slice(0, dot));
  const id = parseInt8Key(s.slice(dot + 1));
  return tx === undefined || id === undefined ? undefined : { tx, id };
}
