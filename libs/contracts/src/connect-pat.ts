/**
 * Paymentsense Connect pay at table (PAT) over WebSocket: every wire name and
 * shape of the dialect, in this one file. A correction from Connect's partner
 * documentation is a change here (and the tests that pin the wire).
 *
 * Sources, and how sure each part is (see ../shared/notes/protocols.md Part 2):
 * - [Connect docs, seed 004 "WebSockets - Getting Started"] the URI
 *   `wss://<host-address>.connect.paymentsense.cloud/pat?token=<api key>&api-version=v1
 *   &software-house-id=<id>&installer-id=<id>[&final-pos-receipt-request]`, the bare
 *   final-receipt flag (PAT and v1 only), JSON-RPC 2.0 messages, Connect's pings.
 * - [Connect docs, extra_info] only one PAT socket per site: the last to connect
 *   wins and older ones are cut off with a "Connection Discontinued" error.
 * - [third party: yetipay's PAT WebSocket API, a Connect-compatible provider] the
 *   message names tableListRequest, tableLockRequest (answered with `confirmed`,
 *   `amount`, `currency`), posReceiptRequest, transactionResponse,
 *   finalPOSReceiptRequest (only with the final-receipt flag), tableUnlock and
 *   errorMessage (`code`, `message`, optional `userMessage`). Their params are not
 *   public: the field names below come from Connect's REST pay-at-table `table`
 *   model (`tableId`, `amount`, `amountPaid`, `amountGratuity`, `amountCashback`,
 *   `payments[{paymentId, amountPaid, amountGratuity, amountCashback, currency,
 *   authCode, cardSchemeName, paymentMethod, time}]`) and Connect's PAC vocabulary
 *   (`tid`, `transactionResult`). [Our inference, to be checked against Connect's
 *   schemas.]
 * - [Connect REST PAT v1] receipt lines `{type, format?, value?}`: TEXT,
 *   LINE_SEPARATOR_SINGLE, LINE_SEPARATOR_DOUBLE, CARRIAGE_RETURN, TICKET_FEED,
 *   IMAGE_LOGO, BARCODE_CODE25, BARCODE_CODE39, BARCODE_CODE128; formats BOLD,
 *   DOUBLE_HEIGHT, DOUBLE_WIDTH.
 *
 * Our choices where no source says (each marked [choice] below): a request is a
 * JSON-RPC request whose `method` is the message name, answered by a JSON-RPC
 * response with the same id whose `result` is the named response; a refusal is
 * the response's `error` member shaped as errorMessage. transactionResponse and
 * tableUnlock may come with or without an id: with one they are answered, without
 * one they are notifications and only a refusal is sent (as an `errorMessage`
 * notification naming the refused message). Amounts are integer minor units.
 */
import { z } from 'zod';
import { badString, checkInputValues } from './input-guard';
import { peekJsonId } from './jsonrpc';

// ---- connection ----

/** The query of the `/pat` URI. */
export const CONNECT_PAT_QUERY = {
  token: 'token',
  apiVersion: 'api-version',
  softwareHouseId: 'software-house-id',
  installerId: 'installer-id',
  /** Bare flag (no `=`): Connect then always asks for the final POS receipt. */
  finalReceipt: 'final-pos-receipt-request',
} as const;

export const CONNECT_PAT_API_VERSION = 'v1';
export const CONNECT_PAT_PATH = '/pat';

export interface ConnectPatUrlParts {
  token: string;
  softwareHouseId: string;
  installerId: string;
  finalPosReceiptRequest: boolean;
}

/** The full dial URI: `<base>?token=…&api-version=v1&software-house-id=…&installer-id=…[&final-pos-receipt-request]`. */
export function connectPatUrl(base: string, p: ConnectPatUrlParts): string {
  const q = CONNECT_PAT_QUERY;
  const enc = encodeURIComponent;
  const query = [
    `${q.token}=${enc(p.token)}`,
    `${q.apiVersion}=${CONNECT_PAT_API_VERSION}`,
    `${q.softwareHouseId}=${enc(p.softwareHouseId)}`,
    `${q.installerId}=${enc(p.installerId)}`,
  ];
  if (p.finalPosReceiptRequest) query.push(q.finalReceipt);
  return `${base}?${query.join('&')}`;
}

// ---- message names ----

/** Terminal -> EPOS messages the EPOS serves (wire `method`). */
export const PAT_METHODS = {
  tableList: 'tableListRequest',
  tableLock: 'tableLockRequest',
  posReceipt: 'posReceiptRequest',
  transaction: 'transactionResponse',
  finalReceipt: 'finalPOSReceiptRequest',
  tableUnlock: 'tableUnlock',
} as const;
export type PatMethod = (typeof PAT_METHODS)[keyof typeof PAT_METHODS];
const PAT_METHOD_NAMES: readonly string[] = Object.values(PAT_METHODS);
export const isPatMethod = (m: unknown): m is PatMethod => typeof m === 'string' && PAT_METHOD_NAMES.includes(m);

/** The error message, in either direction (Connect's "Connection Discontinued" among them). */
export const PAT_ERROR_MESSAGE = 'errorMessage';

/** The messages that change state (answered once per id, run in one transaction). */
export const PAT_MUTATING: readonly PatMethod[] = [PAT_METHODS.tableLock, PAT_METHODS.transaction, PAT_METHODS.tableUnlock];

/** Messages that may arrive without an id (notifications) [choice]. */
const MAY_BE_NOTIFICATION: readonly string[] = [PAT_METHODS.transaction, PAT_METHODS.tableUnlock];

/** The named response of each request [yetipay], for logs and the sandbox's messages. */
export const PAT_RESPONSE_NAMES: Record<PatMethod, string> = {
  tableListRequest: 'tableListResponse',
  tableLockRequest: 'tableLockResponse',
  posReceiptRequest: 'posReceiptResponse',
  transactionResponse: 'transactionResponse (acknowledged)',
  finalPOSReceiptRequest: 'finalPOSReceiptResponse',
  tableUnlock: 'tableUnlock (acknowledged)',
};

// ---- errors [choice: JSON-RPC 2.0's codes, and ours for the venue's refusals] ----

export const PAT_ERROR_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  tableNotFound: -32004,
  conflict: -32009,
  timeout: -32008,
} as const;

const id = z.union([z.string().min(1).max(256), z.number().finite()]);
const text = (max: number) => z.string().min(1).max(max);
const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as GBP');

export const errorMessageSchema = z.looseObject({
  code: z.number().int(),
  message: z.string(),
  userMessage: z.string().optional(),
});
export type PatError = z.infer<typeof errorMessageSchema>;

// ---- params of each message (lenient: unknown fields are kept and ignored) ----

/** A table as the terminal names it: the venue's table id. */
const tableId = text(256);
/** The terminal's id (Connect's `tid`), when it sends one [inference from PAC]. */
const tid = text(64).optional();

export const tableListRequestSchema = z.looseObject({ tid, waiterId: z.union([z.string(), z.number()]).optional() });
export const tableRefSchema = z.looseObject({ tableId, tid });

export const TRANSACTION_RESULTS = ['SUCCESSFUL', 'DECLINED', 'VOID', 'UNSUCCESSFUL', 'CANCELLED', 'TIMED_OUT'] as const;

/**
 * A payment's field the EPOS never reads (it records the id, the amounts and the result): a value of another form
 * than expected is dropped, never a reason to refuse the message, since the card payment it describes was already
 * taken and refusing the message would leave it unrecorded. (Pay at counter reads its transactions the same way.)
 */
export const unread = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

export const patPaymentSchema = z.looseObject({
  /**
   * The payment's identity (recorded once per id, trimmed): one of only spaces would trim to "", and two different
   * payments with blank ids would be taken as one, so it is refused.
   */
  paymentId: text(200).refine((v) => v.trim().length > 0, { message: 'must not be blank' }),
  /** What the payment pays towards the bill (tips and cashback apart). */
  amountPaid: minor,
  amountGratuity: minor.optional(),
  amountCashback: minor.optional(),
  /** [REST PAT: per payment] the transaction's currency when it names none itself. */
  currency: currency.optional(),
  /**
   * Absent means SUCCESSFUL; any other result is not recorded. Read (it decides whether money was taken), so a value
   * outside Connect's published results [PAC vocabulary] is refused rather than guessed either way.
   */
  transactionResult: z.enum(TRANSACTION_RESULTS).optional(),
  authCode: unread(z.string().max(64)),
  cardSchemeName: unread(z.string().max(64)),
  paymentMethod: unread(z.string().max(64)),
  /**
   * [inference: no PAT time format is published] ISO 8601, with an offset or Z, or without one as Connect writes its
   * PAC transactionTime (`YYYY-MM-DDThh:mm:ss`, the terminal's UK wall clock; see connect-pac.ts connectTimeOf).
   */
  time: unread(z.iso.datetime({ offset: true, local: true })),
});
export type PatPayment = z.infer<typeof patPaymentSchema>;

/** The currencies the payments name, each once, in order. */
const paymentCurrencies = (payments: readonly PatPayment[]): string[] => [...new Set(payments.flatMap((p) => (p.currency === undefined ? [] : [p.currency])))];

export const transactionResponseSchema = z
  .looseObject({
    tableId,
    tid,
    /**
     * [REST PAT's table model carries the currency per payment; choice] optional: without it the transaction is in
     * the one currency its payments name (output: always set).
     */
    currency: currency.optional(),
    /** Totals over the successful payments; when present they must match them. */
    amountPaid: minor.optional(),
    amountGratuity: minor.optional(),
    amountCashback: minor.optional(),
    payments: z.array(patPaymentSchema).min(1).max(50),
  })
  .superRefine((t, ctx) => {
    const ok = t.payments.filter((p) => (p.transactionResult ?? 'SUCCESSFUL') === 'SUCCESSFUL');
    const sum = (f: (p: PatPayment) => number | undefined) => ok.reduce((s, p) => s + (f(p) ?? 0), 0);
    const totals = [
      ['amountPaid', t.amountPaid, sum((p) => p.amountPaid)],
      ['amountGratuity', t.amountGratuity, sum((p) => p.amountGratuity)],
      ['amountCashback', t.amountCashback, sum((p) => p.amountCashback)],
    ] as const;
    for (const [field, given, computed] of totals) {
      if (given !== undefined && given !== computed) {
        ctx.addIssue({ code: 'custom', path: [field], message: `is ${given} but the successful payments add up to ${computed}` });
      }
    }
    if (t.currency === undefined) {
      const named = paymentCurrencies(t.payments);
      if (named.length === 0) ctx.addIssue({ code: 'custom', path: ['currency'], message: 'is required, here or on the payments' });
      if (named.length > 1) ctx.addIssue({ code: 'custom', path: ['payments'], message: `are in more than one currency (${named.join(', ')}); one message pays in one currency` });
      return;
    }
    t.payments.forEach((p, i) => {
      if (p.currency !== undefined && p.currency !== t.currency) {
        ctx.addIssue({ code: 'custom', path: ['payments', i, 'currency'], message: `is ${p.currency} but the transaction is in ${t.currency}` });
      }
    });
  })
  .transform((t) => ({ ...t, currency: t.currency ?? paymentCurrencies(t.payments)[0]! }));

/** Params of each message served. */
export const PAT_PARAMS = {
  tableListRequest: tableListRequestSchema,
  tableLockRequest: tableRefSchema,
  posReceiptRequest: tableRefSchema,
  transactionResponse: transactionResponseSchema,
  finalPOSReceiptRequest: tableRefSchema,
  tableUnlock: tableRefSchema,
} satisfies Record<PatMethod, z.ZodType>;
export type PatParams = { [M in PatMethod]: z.infer<(typeof PAT_PARAMS)[M]> };

// ---- results (strict: the EPOS sends exactly these; the sandbox validates every reply against them) ----

export const RECEIPT_LINE_TYPES = [
  'TEXT',
  'LINE_SEPARATOR_SINGLE',
  'LINE_SEPARATOR_DOUBLE',
  'CARRIAGE_RETURN',
  'TICKET_FEED',
  'IMAGE_LOGO',
  'BARCODE_CODE25',
  'BARCODE_CODE39',
  'BARCODE_CODE128',
] as const;
export const RECEIPT_FORMATS = ['BOLD', 'DOUBLE_HEIGHT', 'DOUBLE_WIDTH'] as const;
export type ReceiptLineType = (typeof RECEIPT_LINE_TYPES)[number];
export type ReceiptFormat = (typeof RECEIPT_FORMATS)[number];

/** TEXT, IMAGE_LOGO and barcodes carry a value; separators and feeds carry none. */
const VALUED: readonly ReceiptLineType[] = ['TEXT', 'IMAGE_LOGO', 'BARCODE_CODE25', 'BARCODE_CODE39', 'BARCODE_CODE128'];

export const receiptLineSchema = z
  .strictObject({
    type: z.enum(RECEIPT_LINE_TYPES),
    format: z.array(z.enum(RECEIPT_FORMATS)).optional(),
    value: z.string().max(16_384).optional(),
  })
  .refine((l) => VALUED.includes(l.type) === (l.value !== undefined), { message: 'value is required for TEXT, IMAGE_LOGO and barcodes, and absent otherwise', path: ['value'] });
export type ReceiptLine = z.infer<typeof receiptLineSchema>;

const receiptResponse = z.strictObject({ tableId, receiptLines: z.array(receiptLineSchema).max(2_000) });

export const PAT_RESULTS = {
  /** The tables with something to pay (ids), with the currency when there are any. */
  tableListRequest: z.strictObject({ tables: z.array(tableId), currency: currency.optional() }).refine((r) => r.tables.length === 0 || r.currency !== undefined, {
    message: 'currency is required when tables are listed',
    path: ['currency'],
  }),
  /** confirmed: the table is locked; then amount (due across the table's open orders) and currency. */
  tableLockRequest: z
    .strictObject({ tableId, confirmed: z.boolean(), amount: minor.optional(), currency: currency.optional(), userMessage: z.string().optional() })
    .refine((r) => !r.confirmed || (r.amount !== undefined && r.currency !== undefined), { message: 'amount and currency are required when confirmed', path: ['amount'] }),
  posReceiptRequest: receiptResponse,
  /** [choice] The payments newly recorded and what is still due at the table afterwards. */
  transactionResponse: z.strictObject({ tableId, recorded: z.number().int().min(0), amountDue: minor, currency }),
  finalPOSReceiptRequest: receiptResponse,
  tableUnlock: z.strictObject({ tableId, unlocked: z.boolean() }),
} satisfies Record<PatMethod, z.ZodType>;
export type PatResults = { [M in PatMethod]: z.infer<(typeof PAT_RESULTS)[M]> };

// ---- decoding a frame (the gateway's edge) ----

export type PatId = z.infer<typeof id>;

export type PatDecoded =
  /** Served: a request (id) or a notification (id null). */
  | { kind: 'request'; id: PatId | null; method: PatMethod; params: unknown }
  /** Connect's errorMessage (e.g. "Connection Discontinued"): logged, never answered. */
  | { kind: 'notice'; id: PatId | null; error: PatError }
  /** Refused at the edge: answer with this error (id null: as an errorMessage notification). */
  | { kind: 'reject'; id: PatId | null; method?: string; error: PatError };

const refuse = (code: number, message: string, userMessage?: string): PatError => (userMessage ? { code, message, userMessage } : { code, message });

/** `path.to.field reason`, from the first issue zod found. */
export function describeIssue(err: z.ZodError, prefix: string): string {
  const issue = err.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter((s) => s.length > 0).join('.');
  return `${path} ${issue.message}`;
}

export interface PatDecodeOptions {
  /** Whether the connection asked for the final receipt (only then is finalPOSReceiptRequest served). */
  finalReceipt: boolean;
}

/**
 * Parses and validates one text frame from Connect. Never throws: whatever
 * cannot be served is a `reject` to answer with its error.
 */
export function decodePatFrame(text: string, opts: PatDecodeOptions): PatDecoded {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'reject', id: null, error: refuse(PAT_ERROR_CODES.parseError, 'the message is not valid JSON') };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { kind: 'reject', id: null, error: refuse(PAT_ERROR_CODES.invalidRequest, 'a message must be a JSON-RPC 2.0 object (batches are not served)') };
  }
  const m = msg as Record<string, unknown>;
  const parsedId = m.id === undefined || m.id === null ? { success: true as const, data: null } : id.safeParse(m.id);
  if (!parsedId.success) return { kind: 'reject', id: null, error: refuse(PAT_ERROR_CODES.invalidRequest, 'id must be a non-empty string or a number') };
  const rid = parsedId.data;
  // An id is stored with the answer: what Postgres cannot hold (NUL, lone surrogates) is refused here.
  const idProblem = typeof rid === 'string' ? badString(rid, 256) : rid !== null && !Number.isSafeInteger(rid) && Number.isInteger(rid) ? 'is out of range' : undefined;
  if (idProblem) return { kind: 'reject', id: null, error: refuse(PAT_ERROR_CODES.invalidRequest, `id ${idProblem}`) };
  const method = m.method;
  if (m.jsonrpc !== '2.0') return { kind: 'reject', id: rid, error: refuse(PAT_ERROR_CODES.invalidRequest, 'jsonrpc must be "2.0"') };
  if (method === PAT_ERROR_MESSAGE) {
    const e = errorMessageSchema.safeParse(m.params ?? m.error);
    return { kind: 'notice', id: rid, error: e.success ? e.data : { code: 0, message: 'errorMessage without code and message' } };
  }
  if (method === undefined && m.error !== undefined) {
    // A JSON-RPC error response from Connect (to something it could not read): an errorMessage too.
    const e = errorMessageSchema.safeParse(m.error);
    return { kind: 'notice', id: rid, error: e.success ? e.data : { code: 0, message: 'error without code and message' } };
  }
  if (typeof method !== 'string' || method.length === 0) {
    return { kind: 'reject', id: rid, error: refuse(PAT_ERROR_CODES.invalidRequest, 'method is required (a message name such as tableListRequest)') };
  }
  if (!isPatMethod(method)) {
    return { kind: 'reject', id: rid, method, error: refuse(PAT_ERROR_CODES.methodNotFound, `message ${JSON.stringify(method).slice(0, 100)} is not served by this EPOS`) };
  }
  if (method === PAT_METHODS.finalReceipt && !opts.finalReceipt) {
    return {
      kind: 'reject',
      id: rid,
      method,
      error: refuse(PAT_ERROR_CODES.methodNotFound, `${method} is served only on a connection with the ${CONNECT_PAT_QUERY.finalReceipt} flag; this location does not set it`),
    };
  }
  if (rid === null && !MAY_BE_NOTIFICATION.includes(method)) {
    return { kind: 'reject', id: null, method, error: refuse(PAT_ERROR_CODES.invalidRequest, `${method} needs an id: it is answered with ${PAT_RESPONSE_NAMES[method]}`) };
  }
  const params = m.params ?? {};
  const values = checkInputValues(params, 'params');
  if (!values.ok) return { kind: 'reject', id: rid, method, error: refuse(PAT_ERROR_CODES.invalidParams, `${values.field} ${values.reason}`) };
  const p = PAT_PARAMS[method].safeParse(params);
  if (!p.success) return { kind: 'reject', id: rid, method, error: refuse(PAT_ERROR_CODES.invalidParams, describeIssue(p.error, 'params')) };
  return { kind: 'request', id: rid, method, params: p.data };
}

// ---- encoding (the gateway's replies) ----

/** The answer to a request: `{jsonrpc, id, result}`. */
export function encodePatResult(rid: PatId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id: rid, result });
}

/**
 * A refusal: the `error` member of the answer to a request with an id; for a
 * message without a usable id, an `errorMessage` notification naming the
 * message it refuses (`params.method`) when known.
 */
export function encodePatError(rid: PatId | null, error: PatError, method?: string): string {
  if (rid !== null) return JSON.stringify({ jsonrpc: '2.0', id: rid, error });
  return JSON.stringify({ jsonrpc: '2.0', method: PAT_ERROR_MESSAGE, params: method ? { ...error, method } : error });
}

/** Best-effort id of a message too large to parse (the same `"id"` as the other dialects). */
export function peekPatId(head: string): PatId | null {
  return peekJsonId(head);
}

/**
 * Checks a result the EPOS is about to send (and the sandbox checks every reply
 * it gets) against this file's result schemas: undefined when it fits, else
 * `<message>.<field> <reason>`.
 */
export function patResultProblem(method: PatMethod, result: unknown): string | undefined {
  const r = PAT_RESULTS[method].safeParse(result);
  return r.success ? undefined : describeIssue(r.error, PAT_RESPONSE_NAMES[method].split(' ')[0]!);
}
