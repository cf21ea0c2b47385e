import { EposError } from '@app/contracts';
import { parseInt8Key } from '../shared/int8';

/**
 * Opaque pagination cursors for the Search* methods: base64url of
 * "<kind>.<key>", where key is the row's stable sort key (seq for orders,
 * parties and reservations; the id for tables). A cursor from another kind of
 * search, or one that does not decode, is InvalidRequest.
 */
export type CursorKind = 'o' | 'p' | 'r' | 't';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;

export function encodeCursor(kind: CursorKind, key: string | bigint): string {
  return Buffer.from(`${kind}.${String(key)}`, 'utf8').toString('base64url');
}

export function decodeCursor(kind: CursorKind, cursor: string, field: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor(field);
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(`${kind}.`)) throw badCursor(field);
  const key = text.slice(2);
  if (key.length === 0) throw badCursor(field);
  return key;
}

export function decodeSeqCursor(kind: CursorKind, cursor: string, field: string): bigint {
  const key = decodeCursor(kind, cursor, field);
  const seq = parseInt8Key(key);
  if (seq === undefined) throw badCursor(field);
  return seq;
}

function badCursor(field: string): EposError {
  return EposError.invalid(`${field} is not a cursor this EPOS issued; use the before/after value from a previous page of the same search`);
}

export interface PageRequest<K> {
  limit: number;
  /** Items with a key greater than this (ascending). */
  after?: K;
  /** Items with a key smaller than this (the last `limit` of them, returned ascending). */
  before?: K;
}

/** Validates the contract's Cursor object and decodes it. */
export function pageRequest<K>(
  cursor: { limit?: number; before?: string; after?: string } | undefined,
  decode: (c: string, field: string) => K,
): PageRequest<K> {
  const c = cursor ?? {};
  if (c.before !== undefined && c.after !== undefined) {
    throw EposError.invalid('cursor.before and cursor.after are mutually exclusive; send only one');
  }
  const limit = c.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw EposError.invalid(`cursor.limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${String(c.limit)}`);
  }
  return {
    limit,
    after: c.after !== undefined ? decode(c.after, 'cursor.after') : undefined,
    before: c.before !== undefined ? decode(c.before, 'cursor.before') : undefined,
  };
}

export interface Page<T> {
  data: T[];
  before?: string;
  after?: string;
}

/** A keyset page as the core returns it: the rows, and whether more lie before the first / after the last. */
export interface KeysetPage<R> {
  rows: R[];
  hasBefore: boolean;
  hasAfter: boolean;
}

/**
 * Runs a keyset-paginated query. `fetch(direction, bound, take)` returns rows
 * ordered by key (ascending for 'asc' from `bound` exclusive, descending for
 * 'desc'); `exists(direction, bound)` says whether any row lies beyond `bound`.
 * hasAfter says more follow the last row, hasBefore that some precede the first.
 */
export async function keysetPage<R, K>(
  req: { limit: number; after?: K; before?: K },
  keyOf: (row: R) => K,
  fetch: (direction: 'asc' | 'desc', bound: K | undefined, take: number) => Promise<R[]>,
  exists: (direction: 'asc' | 'desc', bound: K) => Promise<boolean>,
): Promise<KeysetPage<R>> {
  let rows: R[];
  let hasBefore: boolean;
  let hasAfter: boolean;
  if (req.before !== undefined) {
    const desc = await fetch('desc', req.before, req.limit + 1);
    hasBefore = desc.length > req.limit;
    rows = desc.slice(0, req.limit).reverse();
    hasAfter = rows.length > 0 ? await exists('asc', keyOf(rows[rows.length - 1]!)) : false;
  } else {
    const asc = await fetch('asc', req.after, req.limit + 1);
    hasAfter = asc.length > req.limit;
    rows = asc.slice(0, req.limit);
    hasBefore = rows.length > 0 ? await exists('desc', keyOf(rows[0]!)) : false;
  }
  return { rows, hasBefore, hasAfter };
}

/** A keyset page as a wire page: `before` points at the first row when some precede, `after` at the last when more follow. */
export function toWirePage<R, T>(page: KeysetPage<R>, map: (row: R) => T, cursorOf: (row: R) => string): Page<T> {
  const { rows } = page;
  const out: Page<T> = { data: rows.map(map) };
  if (rows.length > 0 && page.hasBefore) out.before = cursorOf(rows[0]!);
  if (rows.length > 0 && page.hasAfter) out.after = cursorOf(rows[rows.length - 1]!);
  return out;
}

/** keysetPage, then toWirePage with the row's key as cursor. */
export async function paginate<R, K>(
  req: PageRequest<K>,
  keyOf: (row: R) => K,
  toCursor: (key: K) => string,
  fetch: (direction: 'asc' | 'desc', bound: K | undefined, take: number) => Promise<R[]>,
  exists: (direction: 'asc' | 'desc', bound: K) => Promise<boolean>,
): Promise<Page<R>> {
  return toWirePage(await keysetPage(req, keyOf, fetch, exists), (r) => r, (r) => toCursor(keyOf(r)));
}
