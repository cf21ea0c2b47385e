import { z } from 'zod';

/**
 * Dojo's legacy Tables API (pay at table over a WebSocket; Dojo sends JSON-RPC
 * 2.0 requests, the EPOS only replies). Every wire name and shape of the
 * dialect is here, from ../shared/notes/protocols.md Part 1 (Dojo.Net.EPOS
 * Schema/*.cs and docs.dojo.tech pay-at-table legacy pages). Errors never use
 * the JSON-RPC `error` member: they are `result: {errorCode, errorReason}`.
 */

/** The 11 methods: whether each changes state, and the time the EPOS gives itself to answer. */
export const TABLES_METHOD_INFO = {
  ListSessions: { mutates: false },
  GetSession: { mutates: false },
  LockSession: { mutates: true },
  UnlockSession: { mutates: true },
  GetBillItems: { mutates: false },
  GetFullBill: { mutates: false },
  ListBillItems: { mutates: false },
  GetTable: { mutates: false },
  ListTables: { mutates: false },
  RecordPayment: { mutates: true },
  /** Dojo → EPOS: Dojo could not read one of our messages. Logged, never answered. */
  ErrorNotification: { mutates: false },
} as const;
export type TablesMethod = keyof typeof TABLES_METHOD_INFO;
/** Methods the EPOS answers (all but ErrorNotification). */
export type TablesAnsweredMethod = Exclude<TablesMethod, 'ErrorNotification'>;

export const TABLES_READ_DEADLINE_MS = 8_000;
export const TABLES_WRITE_DEADLINE_MS = 10_000;

export function isTablesMethod(m: unknown): m is TablesMethod {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(TABLES_METHOD_INFO, m);
}

/** The error codes an EPOS may answer (Exceptions/TablesException.cs; docs "PUB /Error"). */
export const TABLES_ERROR_CODES = [
  'SESSION_NO_SUCH_SESSION',
  'SESSION_ALREADY_LOCKED',
  'SESSION_NOT_LOCKED',
  'SESSION_UNABLE_TO_UNLOCK',
  'BILL_NO_SUCH_BILL',
  'TABLE_NO_SUCH_TABLE',
  'PAYMENT_ALREADY_RECORDED',
  'PAYMENT_NOT_RECORDED',
  'ERROR_PARSE_ERROR',
  'ERROR_INTERNAL_POS_ERROR',
  'WAITER_INCORRECT_WAITER_ID',
] as const;
export type TablesErrorCode = (typeof TABLES_ERROR_CODES)[number];

/** What an error answer's `result` holds. */
export interface TablesErrorResult {
  errorCode: TablesErrorCode;
  errorReason: string;
}

export function isTablesError(result: unknown): result is TablesErrorResult {
  return typeof result === 'object' && result !== null && typeof (result as { errorCode?: unknown }).errorCode === 'string';
}

export const TABLE_STATUSES = ['TABLE_STATUS_NOT_IN_USE', 'TABLE_STATUS_PENDING_AVAILABLE', 'TABLE_STATUS_AVAILABLE', 'TABLE_STATUS_OCCUPIED'] as const;
export type TableStatus = (typeof TABLE_STATUSES)[number];

// ---- wire shapes sent by the EPOS ------------------------------------------

export interface TablesWaiter {
  id: number;
  name?: string;
}

export interface TableSession {
  id: string;
  name: string;
  tableName?: string;
  waiter?: TablesWaiter;
  numberOfCovers?: number;
  createdAt: string;
  /** Only for finished sessions. */
  finishedAt?: string;
  isPayable: boolean;
}

export interface TablesTable {
  name: string;
  maxCovers: number;
  status: TableStatus;
}

export interface TablesModifier {
  id: string;
  name: string;
  amountPerModifier: number;
  quantity: number;
}

export interface TablesBillItem {
  id: string;
  name: string;
  category: string[];
  quantity: number;
  amountPerItem: number;
  lastOrderedAt: string;
  modifiers?: TablesModifier[];
}

/** A Bill (wire key `billItems`). Amounts in minor units. */
export interface TablesBill {
  totalAmount: number;
  serviceCharge: number;
  taxAmount: number;
  paidAmount: number;
  currency: string;
  items: TablesBillItem[];
  note?: string;
  sessionId: string;
}

export type ReceiptLineType =
  | 'RECEIPT_LINE_TYPE_LOGO'
  | 'RECEIPT_LINE_TYPE_TEXT'
  | 'RECEIPT_LINE_TYPE_MERCHANT_NAME'
  | 'RECEIPT_LINE_TYPE_MERCHANT_PHONE_NUMBER'
  | 'RECEIPT_LINE_TYPE_MERCHANT_EMAIL_ADDRESS'
  | 'RECEIPT_LINE_TYPE_MERCHANT_ADDRESS'
  | 'RECEIPT_LINE_TYPE_HORIZONTAL_LINE'
  | 'RECEIPT_LINE_TYPE_VAT_NUMBER';

/** One receipt line: its type plus exactly one payload object. */
export interface TablesReceiptLine {
  receiptLineType: ReceiptLineType;
  receiptText?: { value: string; size: 'SIZE_HEADER_1' | 'SIZE_HEADER_2' | 'SIZE_BODY'; align?: 'ALIGN_LEFT' | 'ALIGN_CENTER' | 'ALIGN_RIGHT'; emphasisBold?: boolean };
  receiptLogo?: { svgImage: string };
  receiptMerchantName?: { merchantName: string };
  receiptMerchantAddress?: { addressLines: string[]; postcode: string };
  receiptMerchantPhoneNumber?: { phoneNumber: string };
  receiptMerchantEmailAddress?: { emailAddress: string };
  receiptVATNumber?: { vatNumber: string };
  receiptHorizontalLine?: { type: 'HORIZONTAL_LINE_SINGLE' | 'HORIZONTAL_LINE_DOUBLE' };
}

export interface TablesFullBill {
  header?: { receiptLines: TablesReceiptLine[] };
  billItems: TablesBill;
  footer?: { receiptLines: TablesReceiptLine[] };
}

// ---- params sent by Dojo (parsed leniently: examples disagree on types) ----

/** waiterId: `1` in most examples, `"001"` in one; read as an integer. */
const waiterId = z.union([z.number().int(), z.string().regex(/^\s*-?\d{1,9}\s*$/).transform((s) => Number(s.trim()))]);

const requestorInfo = z
  .looseObject({
    requestorType: z.string().optional(),
    cardMachineRequestorInfo: z
      .looseObject({
        // `terminalId: []` appears in the ListSessions example; any value is accepted and only strings are used.
        terminalId: z.unknown().optional(),
        waiterId: waiterId.optional().nullable(),
      })
      .optional()
      .nullable(),
    consumerDeviceRequestorInfo: z.unknown().optional(),
  })
  .optional()
  .nullable();

const sessionId = z.string().trim().min(1).max(256);
const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const base = { requestorInfo };
const bySession = z.looseObject({ ...base, sessionId });

const payment = z.looseObject({
  id: z.string().max(256),
  sessionId,
  waiterId: waiterId.optional().nullable(),
  baseAmount: minor,
  /**
   * The docs' name for the tip; the SDK reads gratuityAmount. Both are accepted: one absent or 0 gives way to the
   * other, the same amount under both is one tip, two different amounts are added (domain paymentTip).
   */
  tipsAmount: minor.optional().nullable(),
  gratuityAmount: minor.optional().nullable(),
  cashbackAmount: minor.optional().nullable(),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  paymentSuccessful: z.boolean(),
  attemptedAt: z.string().max(64).optional().nullable(),
  methodDetails: z.unknown().optional(),
});

export const TABLES_PARAMS = {
  ListSessions: z.looseObject({
    ...base,
    isFinished: z.boolean().optional().nullable(),
    hasTable: z.boolean().optional().nullable(),
    isPayable: z.boolean().optional().nullable(),
    tableNames: z.array(z.string().max(256)).max(500).optional().nullable(),
  }),
  GetSession: bySession,
  LockSession: bySession,
  UnlockSession: bySession,
  GetBillItems: bySession,
  GetFullBill: bySession,
  ListBillItems: z.looseObject({ ...base, sessionIds: z.array(sessionId).max(500).optional().nullable() }),
  GetTable: z.looseObject({ ...base, name: z.string().min(1).max(256) }),
  ListTables: z.looseObject({ ...base, statuses: z.array(z.enum(TABLE_STATUSES)).max(10).optional().nullable() }),
  RecordPayment: z.looseObject({ ...base, payment }),
  ErrorNotification: z.looseObject({ errorCode: z.string().optional(), errorReason: z.string().optional(), id: z.unknown().optional() }),
} satisfies Record<TablesMethod, z.ZodType>;

export type TablesParams = { [M in TablesMethod]: z.output<(typeof TABLES_PARAMS)[M]> };

/** Validates a method's params; the offending field and why, or the parsed params. */
export function parseTablesParams<M extends TablesMethod>(
  method: M,
  params: unknown,
): { ok: true; params: TablesParams[M] } | { ok: false; field: string; reason: string } {
  const r = TABLES_PARAMS[method].safeParse(params ?? {});
  if (r.success) return { ok: true, params: r.data as TablesParams[M] };
  const issue = r.error.issues[0]!;
  return { ok: false, field: ['params', ...issue.path].join('.'), reason: issue.message };
}

/** The waiter id a request carries (requestorInfo.cardMachineRequestorInfo.waiterId), if any. */
export function requestWaiterId(params: { requestorInfo?: z.output<typeof requestorInfo> }): number | undefined {
  const w = params.requestorInfo?.cardMachineRequestorInfo?.waiterId;
  return typeof w === 'number' ? w : undefined;
}

/** The terminal id a request carries, if it is a string. */
export function requestTerminalId(params: { requestorInfo?: z.output<typeof requestorInfo> }): string | undefined {
  const t = params.requestorInfo?.cardMachineRequestorInfo?.terminalId;
  return typeof t === 'string' && t.length > 0 ? t.slice(0, 64) : undefined;
}

// ---- answers the EPOS sends (checked by the sandbox's flows and the tests) ----

const int = z.number().int();
const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO 8601 date-time');
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const sessionSchema = z.strictObject({
  id: uuid,
  name: z.string(),
  tableName: z.string().optional(),
  waiter: z.strictObject({ id: int, name: z.string().optional() }).optional(),
  numberOfCovers: int.optional(),
  createdAt: iso,
  finishedAt: iso.optional(),
  isPayable: z.boolean(),
});
const modifierSchema = z.strictObject({ id: z.string(), name: z.string(), amountPerModifier: int, quantity: int });
const billSchema = z.strictObject({
  totalAmount: int,
  serviceCharge: int,
  taxAmount: int,
  paidAmount: int,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  items: z.array(
    z.strictObject({
      id: z.string(),
      name: z.string(),
      category: z.array(z.string()),
      quantity: int,
      amountPerItem: int,
      lastOrderedAt: iso,
      modifiers: z.array(modifierSchema).optional(),
    }),
  ),
  note: z.string().optional(),
  sessionId: uuid,
});
const receiptLineSchema = z
  .looseObject({ receiptLineType: z.enum(['RECEIPT_LINE_TYPE_LOGO', 'RECEIPT_LINE_TYPE_TEXT', 'RECEIPT_LINE_TYPE_MERCHANT_NAME', 'RECEIPT_LINE_TYPE_MERCHANT_PHONE_NUMBER', 'RECEIPT_LINE_TYPE_MERCHANT_EMAIL_ADDRESS', 'RECEIPT_LINE_TYPE_MERCHANT_ADDRESS', 'RECEIPT_LINE_TYPE_HORIZONTAL_LINE', 'RECEIPT_LINE_TYPE_VAT_NUMBER']) })
  .refine((l) => Object.keys(l).filter((k) => k !== 'receiptLineType').length === 1, { message: 'must carry exactly one payload object' });
const tableSchema = z.strictObject({ name: z.string().refine((s) => !s.includes(' - '), { message: 'must not contain " - "' }), maxCovers: int, status: z.enum(TABLE_STATUSES) });
const empty = z.strictObject({});

const TABLES_RESULTS: Record<TablesAnsweredMethod, z.ZodType> = {
  ListSessions: z.strictObject({ sessions: z.array(sessionSchema) }),
  GetSession: z.strictObject({ session: sessionSchema }),
  LockSession: z.strictObject({ billItems: billSchema }),
  UnlockSession: empty,
  GetBillItems: z.strictObject({ billItems: billSchema }),
  GetFullBill: z.strictObject({
    fullBill: z.strictObject({
      header: z.strictObject({ receiptLines: z.array(receiptLineSchema) }).optional(),
      billItems: billSchema,
      footer: z.strictObject({ receiptLines: z.array(receiptLineSchema) }).optional(),
    }),
  }),
  ListBillItems: z.strictObject({ billItems: z.array(billSchema) }),
  GetTable: z.strictObject({ table: tableSchema }),
  ListTables: z.strictObject({ tables: z.array(tableSchema) }),
  RecordPayment: empty,
};
const errorResult = z.strictObject({ errorCode: z.enum(TABLES_ERROR_CODES), errorReason: z.string() });
const envelope = z.strictObject({ jsonrpc: z.literal('2.0'), id: z.union([z.string(), z.number(), z.null()]), result: z.unknown() });

/**
 * Checks an EPOS answer to a Tables API method: the JSON-RPC envelope (never an `error` member), then either an
 * error result `{errorCode, errorReason}` with a documented code or the method's result shape. Names the first
 * offending field (e.g. `result.billItems.items.0.amountPerItem`).
 */
export function validateTablesReply(method: TablesAnsweredMethod, reply: unknown): { ok: true; error?: TablesErrorResult } | { ok: false; field: string; reason: string } {
  const fail = (prefix: string[], e: z.ZodError) => {
    const issue = e.issues[0]!;
    return { ok: false as const, field: [...prefix, ...issue.path].join('.') || '(reply)', reason: issue.message };
  };
  const env = envelope.safeParse(reply);
  if (!env.success) return fail([], env.error);
  const result = env.data.result;
  if (isTablesError(result)) {
    const e = errorResult.safeParse(result);
    return e.success ? { ok: true, error: e.data } : fail(['result'], e.error);
  }
  const r = TABLES_RESULTS[method].safeParse(result);
  return r.success ? { ok: true } : fail(['result'], r.error);
}
