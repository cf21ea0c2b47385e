/**
 * Paymentsense Connect pay at counter (PAC) over WebSocket: every wire name and
 * shape of the dialect, in this one file. A correction from Connect's partner
 * documentation is a change here (and the tests that pin the wire).
 *
 * PAC is the one Connect flow where the EPOS sends the requests: it starts a
 * sale or refund on a terminal (`tid`) and Connect answers with the final
 * transaction, streaming `terminalNotification`s and asking
 * `signatureVerificationRequest`s on the same socket meanwhile.
 *
 * Sources, and how sure each part is (../shared/notes/protocols.md Part 2):
 * - [Connect docs, seed 004 "WebSockets - Getting Started"] the URI
 *   `wss://<host-address>.connect.paymentsense.cloud/pac?token=<api key>&api-version=v1
 *   &software-house-id=<id>&installer-id=<id>` (the same query as PAT, without the
 *   final-receipt flag), JSON-RPC 2.0 messages. [Connect docs, extra_info] several PAC
 *   sockets per site are allowed; requests and notifications interleave.
 * - [Connect docs, v1 changelog] `tid` (not `tpi`); `terminalDetails` takes one tid;
 *   `cancelTransaction` answers that it is cancelling while the outcome still comes as
 *   the reply to the transaction request; `amountCashback`, `cardholderNotPresent`.
 * - [Connect REST OpenAPI v2] the vocabulary: transaction types and results, amounts,
 *   card fields, notification values, terminal `{tid, status, currency, location}`,
 *   receipt lines, `{accepted}` for a signature; a stuck terminal ends `TIMED_OUT`
 *   after about 200 s.
 * - [third party: a public Dart Connect client, unverified] the method names
 *   `connectedTerminals`, `sale`, `refund`, `cancelTransaction`, `duplicate` (the last
 *   transaction of a terminal), Connect -> EPOS `terminalNotification`
 *   (`params.notificationValue`) and `signatureVerificationRequest` answered with the
 *   same id and `result: {accepted}`; replies come out of order (matched by id).
 *
 * Our choices where no source says are marked [choice].
 */
import { z } from 'zod';
import { badString, checkInputValues } from './input-guard';
import { peekJsonId } from './jsonrpc';
import { connectPatUrl, describeIssue, errorMessageSchema, RECEIPT_FORMATS, TRANSACTION_RESULTS, unread } from './connect-pat';
import type { PatError } from './connect-pat';

// ---- connection ----

export const CONNECT_PAC_PATH = '/pac';
export const CONNECT_PAC_API_VERSION = 'v1';

export interface ConnectPacUrlParts {
  token: string;
  softwareHouseId: string;
  installerId: string;
}

/** `wss://<host>.[test.]connect.paymentsense.cloud/pac`, without its query. */
export function connectPacBaseUrl(s: { hostAddress: string; environment: 'production' | 'test' }): string {
  return `wss://${s.hostAddress}.${s.environment === 'test' ? 'test.' : ''}connect.paymentsense.cloud${CONNECT_PAC_PATH}`;
}

/** The full dial URI: `<base>?token=…&api-version=v1&software-house-id=…&installer-id=…` (api-version always explicit). */
export function connectPacUrl(base: string, p: ConnectPacUrlParts): string {
  return connectPatUrl(base, { ...p, finalPosReceiptRequest: false });
}

// ---- EPOS -> Connect requests ----

export const PAC_REQUESTS = {
  connectedTerminals: 'connectedTerminals',
  terminalDetails: 'terminalDetails',
  sale: 'sale',
  refund: 'refund',
  cancelTransaction: 'cancelTransaction',
  duplicate: 'duplicate',
} as const;
export type PacRequestMethod = (typeof PAC_REQUESTS)[keyof typeof PAC_REQUESTS];

/** The transaction methods: their reply is the final transaction (after notifications). */
export const PAC_TRANSACTION_METHODS = [PAC_REQUESTS.sale, PAC_REQUESTS.refund, PAC_REQUESTS.duplicate] as const;
export type PacTransactionMethod = (typeof PAC_TRANSACTION_METHODS)[number];

const text = (max: number) => z.string().min(1).max(max);
const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as GBP');
const tid = text(64);

/** [REST v2, yetipay] amount 1–99,999,999 minor units; cashback 0–10,000. */
export const PAC_MAX_AMOUNT = 99_999_999;
export const PAC_MAX_CASHBACK = 10_000;

export const tidParamsSchema = z.strictObject({ tid });
export const transactionParamsSchema = z.strictObject({
  tid,
  currency,
  amount: z.number().int().min(1).max(PAC_MAX_AMOUNT),
  amountCashback: z.number().int().min(0).max(PAC_MAX_CASHBACK).optional(),
  cardholderNotPresent: z.boolean().optional(),
});

/** Params of each EPOS -> Connect request (strict: the EPOS sends exactly these; the sandbox checks them). */
export const PAC_REQUEST_PARAMS = {
  connectedTerminals: z.strictObject({}),
  terminalDetails: tidParamsSchema,
  sale: transactionParamsSchema,
  refund: transactionParamsSchema,
  cancelTransaction: tidParamsSchema,
  duplicate: tidParamsSchema,
} satisfies Record<PacRequestMethod, z.ZodType>;
export type PacRequestParams = { [M in PacRequestMethod]: z.infer<(typeof PAC_REQUEST_PARAMS)[M]> };

// ---- Connect's results (lenient: unknown fields are kept; what we rely on is checked) ----
//
// A transaction reply reports a card that may already be charged. Only what decides money is checked, and a reply
// that breaks it is unreadable (settled outcome_unknown: it holds its amount until the venue resolves it). A field
// that decides nothing (card and receipt details) is read with `unread`: a value of another form is dropped.

export const TERMINAL_STATUSES = ['AVAILABLE', 'BUSY'] as const;
export const terminalSchema = z.looseObject({
  tid,
  status: z.enum(TERMINAL_STATUSES),
  currency: currency.optional(),
  location: z.string().max(256).optional(),
});
export type PacTerminal = z.infer<typeof terminalSchema>;

export const PAC_TRANSACTION_TYPES = ['LOGON', 'REFUND', 'REFUND_REVERSAL', 'SALE', 'SALE_REVERSAL', 'PRE_AUTH', 'COMPLETION', 'ACCOUNT_VERIFICATION'] as const;
export const PAC_TRANSACTION_RESULTS = TRANSACTION_RESULTS;
export type PacTransactionResult = (typeof TRANSACTION_RESULTS)[number];
export const CARDHOLDER_VERIFICATION_METHODS = ['UNKNOWN', 'NONE', 'PIN', 'SIGNATURE', 'DEVICE'] as const;
export const PAYMENT_METHODS = ['UNKNOWN', 'KEYED', 'SWIPED', 'ICC_CHIP', 'CONTACTLESS'] as const;

/** Terminal receipt line types [REST v2]: no images or barcodes, BOX_ lines instead. */
export const TERMINAL_RECEIPT_LINE_TYPES = ['TEXT', 'BOX_DECLINE', 'BOX_VOID', 'CARRIAGE_RETURN', 'LINE_SEPARATOR_SINGLE', 'LINE_SEPARATOR_DOUBLE', 'TICKET_FEED'] as const;
export const terminalReceiptLineSchema = z.looseObject({
  /** [REST v2: only `value` is required] A type or format of another form (a new one) is dropped, the line kept. */
  type: unread(z.enum(TERMINAL_RECEIPT_LINE_TYPES)),
  format: unread(z.array(z.enum(RECEIPT_FORMATS))),
  value: unread(z.string().max(16_384)),
});
export type TerminalReceiptLine = z.infer<typeof terminalReceiptLineSchema>;
/** [REST v2: an object whose keys are not published; choice] one array of lines per copy: `MERCHANT`, `CUSTOMER`. */
export const receiptLinesSchema = z.record(z.string().max(32), z.array(terminalReceiptLineSchema).max(2_000));
export type TerminalReceipts = z.infer<typeof receiptLinesSchema>;

const ukWallClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/**
 * `at` as Connect writes a transactionTime [REST v2: `YYYY-MM-DDThh:mm:ss`, example `2019-03-04T16:12:00`]: the
 * terminal's wall-clock time, which for Paymentsense's UK and Irish terminals is UK time, with no offset.
 */
export function connectTimeOf(at: Date): string {
  const p = Object.fromEntries(ukWallClock.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

/** An ISO 8601 date-time; a space in place of the `T` (as RFC 3339 allows) is read as the `T`. */
const dateTime = z.preprocess(
  (v) => (typeof v === 'string' ? v.replace(/^(\d{4}-\d{2}-\d{2}) (?=\d{2}:)/, '$1T') : v),
  z.iso.datetime({ offset: true, local: true }),
);

/**
 * The final transaction: the reply to sale, refund and duplicate [REST v2 transaction fields]. Checked: its type,
 * result, amounts and currency (what is recorded), and the transactionId and transactionNumber that tell one terminal
 * transaction from another when recovering (CounterRepository.settledWith). Every other field is `unread`.
 */
export const pacTransactionSchema = z.looseObject({
  tid: unread(tid),
  transactionType: z.enum(PAC_TRANSACTION_TYPES),
  transactionResult: z.enum(TRANSACTION_RESULTS),
  currency: currency.optional(),
  amountBase: minor.optional(),
  amountCashback: minor.optional(),
  amountGratuity: minor.optional(),
  amountTotal: minor.optional(),
  authCode: unread(z.string().max(64)),
  cardSchemeName: unread(z.string().max(64)),
  applicationLabel: unread(z.string().max(64)),
  cardHolderVerificationMethod: unread(z.enum(CARDHOLDER_VERIFICATION_METHODS)),
  paymentMethod: unread(z.enum(PAYMENT_METHODS)),
  /** Masked by Connect (e.g. ************1234). */
  primaryAccountNumber: unread(z.string().max(32)),
  transactionId: z.string().max(128).optional(),
  transactionNumber: z.string().max(64).optional(),
  /**
   * When the terminal ran it: matching a `duplicate` to a transaction we sent relies on it. [REST v2: format
   * `YYYY-MM-DDThh:mm:ss`, no offset: the terminal's local time, read as UK time by core/rules terminalTimeMs]; a time
   * with an offset or Z is taken as it says. One of another form is dropped: a recovery then cannot tell the
   * transaction from an older one and settles outcome_unknown (core/rules recoveredMatch), and a reply needs no time.
   */
  transactionTime: unread(dateTime),
  receiptLines: unread(receiptLinesSchema),
  /** The notification values seen during the transaction. */
  notifications: unread(z.array(z.string().max(64)).max(200)),
  userMessage: unread(z.string().max(1_000)),
});
export type PacTransaction = z.infer<typeof pacTransactionSchema>;

export const PAC_RESULTS = {
  /** [REST v2 GET /pac/terminals] `{terminals: [...]}`. */
  connectedTerminals: z.looseObject({ terminals: z.array(terminalSchema).max(500) }),
  terminalDetails: terminalSchema,
  sale: pacTransactionSchema,
  refund: pacTransactionSchema,
  /** [changelog: "answers cancelling"; choice of shape] `{status: "CANCELLING"}`; the outcome comes as the transaction's reply. */
  cancelTransaction: z.looseObject({ status: z.string().max(64) }),
  duplicate: pacTransactionSchema,
} satisfies Record<PacRequestMethod, z.ZodType>;
export type PacResults = { [M in PacRequestMethod]: z.infer<(typeof PAC_RESULTS)[M]> };

// ---- Connect -> EPOS messages ----

export const PAC_INBOUND = {
  /** A notification (no id): the terminal's progress. */
  terminalNotification: 'terminalNotification',
  /** A request (id): answered `{accepted}`; Connect decides by itself when no answer comes in time [3P: 80 s]. */
  signatureVerificationRequest: 'signatureVerificationRequest',
} as const;
export type PacInboundMethod = (typeof PAC_INBOUND)[keyof typeof PAC_INBOUND];

/** [REST v2] notificationValue's known values; an unknown value is still passed on (new values appear over time). */
export const NOTIFICATION_VALUES = [
  'APPROVED',
  'ATTEMPTING_CANCEL',
  'BAD_SWIPE',
  'CANCELLING',
  'CARD_ERROR',
  'CARD_EXPIRED',
  'CARD_NOT_SUPPORTED',
  'CONNECTING',
  'CONNECTION_MADE',
  'DECLINED',
  'DECLINED_BY_CARD',
  'ENTER_CASHBACK',
  'INSERT_CARD',
  'PIN_ENTRY',
  'PLEASE_WAIT',
  'PRESENT_CARD',
  'PRESENT_ONLY_ONE_CARD',
  'PROCESSING_ERROR',
  'REMOVE_CARD',
  'REPLACE_PAPER',
  'REQUEST_SENT',
  'RE_PRESENT_CARD',
  'RETRYING',
  'SIGNATURE_VERIFICATION',
  'SIGNATURE_VERIFICATION_IN_PROGRESS',
  'SIGNATURE_VERIFICATION_PROCESS_COMPLETED',
  'SIGNATURE_VERIFICATION_PROCESS_COULD_NOT_BE_COMPLETED',
  'SIGNATURE_VERIFICATION_TIMEOUT',
  'TRANSACTION_FINISHED',
  'TRANSACTION_STARTED',
  'UNABLE_TO_CANCEL',
] as const;

export const terminalNotificationSchema = z.looseObject({
  /** [choice] the terminal the notification is about (one transaction at a time per terminal). */
  tid,
  notificationValue: z.string().min(1).max(64),
});
export type TerminalNotification = z.infer<typeof terminalNotificationSchema>;

export const signatureVerificationRequestSchema = z.looseObject({
  tid,
  /** [3P] the receipt lines to check the signature against (of another form: dropped, the request still asked). */
  receiptLines: unread(receiptLinesSchema),
});
export type SignatureVerificationRequest = z.infer<typeof signatureVerificationRequestSchema>;

export const signatureVerificationResultSchema = z.strictObject({ accepted: z.boolean() });

export const PAC_INBOUND_PARAMS = {
  terminalNotification: terminalNotificationSchema,
  signatureVerificationRequest: signatureVerificationRequestSchema,
} satisfies Record<PacInboundMethod, z.ZodType>;

// ---- errors [choice: JSON-RPC 2.0's codes, and these for Connect's refusals] ----

export const PAC_ERROR_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** No connected terminal has the tid. */
  terminalNotFound: -32004,
  /** The terminal is in another transaction. */
  terminalBusy: -32009,
  /** Nothing to cancel or duplicate on the terminal. */
  noTransaction: -32010,
} as const;

export type PacError = PatError;
export const PAC_ERROR_MESSAGE = 'errorMessage';

// ---- decoding a frame from Connect (the gateway's edge) ----

export type PacId = string | number;

export type PacDecoded =
  /** The reply to one of our requests (matched by id; out of order). `result` is not yet checked: see pacResultProblem. */
  | { kind: 'reply'; id: PacId; result: unknown }
  | { kind: 'reply-error'; id: PacId; error: PacError }
  /** A notification (no id). */
  | { kind: 'notification'; method: 'terminalNotification'; params: TerminalNotification }
  /** A request from Connect (id): answer with encodePacResult / encodePacError. */
  | { kind: 'request'; id: PacId; method: 'signatureVerificationRequest'; params: SignatureVerificationRequest }
  /** Connect's errorMessage, or an error without a usable id: logged, never answered. */
  | { kind: 'notice'; id: PacId | null; error: PacError }
  /** A request or notification from Connect refused at the edge: answer with this error when it has an id, else log it. */
  | { kind: 'reject'; id: PacId | null; method?: string; error: PacError };

const refuse = (code: number, message: string): PacError => ({ code, message });
const idSchema = z.union([z.string().min(1).max(256), z.number().finite()]);

/** Parses and validates one text frame from Connect. Never throws. */
export function decodePacFrame(frame: string): PacDecoded {
  let msg: unknown;
  try {
    msg = JSON.parse(frame);
  } catch {
    return { kind: 'reject', id: null, error: refuse(PAC_ERROR_CODES.parseError, 'the message is not valid JSON') };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { kind: 'reject', id: null, error: refuse(PAC_ERROR_CODES.invalidRequest, 'a message must be a JSON-RPC 2.0 object (batches are not served)') };
  }
  const m = msg as Record<string, unknown>;
  const parsedId = m.id === undefined || m.id === null ? { success: true as const, data: null } : idSchema.safeParse(m.id);
  if (!parsedId.success) return { kind: 'reject', id: null, error: refuse(PAC_ERROR_CODES.invalidRequest, 'id must be a non-empty string or a number') };
  const rid = parsedId.data;
  const idProblem = typeof rid === 'string' ? badString(rid, 256) : rid !== null && Number.isInteger(rid) && !Number.isSafeInteger(rid) ? 'is out of range' : undefined;
  if (idProblem) return { kind: 'reject', id: null, error: refuse(PAC_ERROR_CODES.invalidRequest, `id ${idProblem}`) };
  if (m.jsonrpc !== '2.0') return { kind: 'reject', id: rid, error: refuse(PAC_ERROR_CODES.invalidRequest, 'jsonrpc must be "2.0"') };
  const method = m.method;
  if (method === PAC_ERROR_MESSAGE) {
    const e = errorMessageSchema.safeParse(m.params ?? m.error);
    return { kind: 'notice', id: rid, error: e.success ? e.data : { code: 0, message: 'errorMessage without code and message' } };
  }
  if (method === undefined) {
    if (rid === null) {
      const e = errorMessageSchema.safeParse(m.error);
      return { kind: 'notice', id: null, error: e.success ? e.data : { code: 0, message: 'a reply without an id' } };
    }
    if ('error' in m) {
      const e = errorMessageSchema.safeParse(m.error);
      return { kind: 'reply-error', id: rid, error: e.success ? e.data : { code: PAC_ERROR_CODES.internalError, message: 'error without code and message' } };
    }
    if ('result' in m) return { kind: 'reply', id: rid, result: m.result };
    return { kind: 'notice', id: rid, error: { code: 0, message: 'a message with neither method, result nor error' } };
  }
  if (typeof method !== 'string' || method.length === 0) return { kind: 'reject', id: rid, error: refuse(PAC_ERROR_CODES.invalidRequest, 'method must be a non-empty string') };
  const params = m.params ?? {};
  const values = checkInputValues(params, 'params');
  if (method === PAC_INBOUND.terminalNotification) {
    if (!values.ok) return { kind: 'reject', id: rid, method, error: refuse(PAC_ERROR_CODES.invalidParams, `${values.field} ${values.reason}`) };
    const p = terminalNotificationSchema.safeParse(params);
    if (!p.success) return { kind: 'reject', id: rid, method, error: refuse(PAC_ERROR_CODES.invalidParams, describeIssue(p.error, 'params')) };
    return { kind: 'notification', method, params: p.data };
  }
  if (method === PAC_INBOUND.signatureVerificationRequest) {
    if (rid === null) return { kind: 'reject', id: null, method, error: refuse(PAC_ERROR_CODES.invalidRequest, `${method} needs an id: it is answered with {accepted}`) };
    if (!values.ok) return { kind: 'reject', id: rid, method, error: refuse(PAC_ERROR_CODES.invalidParams, `${values.field} ${values.reason}`) };
    const p = signatureVerificationRequestSchema.safeParse(params);
    if (!p.success) return { kind: 'reject', id: rid, method, error: refuse(PAC_ERROR_CODES.invalidParams, describeIssue(p.error, 'params')) };
    return { kind: 'request', id: rid, method, params: p.data };
  }
  return { kind: 'reject', id: rid, method, error: refuse(PAC_ERROR_CODES.methodNotFound, `method ${JSON.stringify(method).slice(0, 100)} is not served by this EPOS`) };
}

/**
 * Reads Connect's result for our request `method`: the result as read (fields
 * of another form that decide nothing dropped, see pacTransactionSchema), or
 * `<method>.<field> <reason>` when what it relies on does not fit (the gateway
 * then treats the reply as an unreadable outcome, never as a success).
 */
export function readPacResult<M extends PacRequestMethod>(method: M, result: unknown): { ok: true; result: PacResults[M] } | { ok: false; problem: string } {
  const r = PAC_RESULTS[method].safeParse(result);
  return r.success ? { ok: true, result: r.data as PacResults[M] } : { ok: false, problem: describeIssue(r.error, method) };
}

/** readPacResult's problem, or undefined when the result is read. */
export function pacResultProblem(method: PacRequestMethod, result: unknown): string | undefined {
  const r = readPacResult(method, result);
  return r.ok ? undefined : r.problem;
}

// ---- encoding ----

/**
 * One of our requests. The params are checked against PAC_REQUEST_PARAMS
 * first: a request that does not fit throws (a bug on our side, never sent).
 */
export function encodePacRequest<M extends PacRequestMethod>(rid: PacId, method: M, params: PacRequestParams[M]): string {
  const p = PAC_REQUEST_PARAMS[method].safeParse(params);
  if (!p.success) throw new Error(`refusing to send an invalid ${method}: ${describeIssue(p.error, 'params')}`);
  return JSON.stringify({ jsonrpc: '2.0', id: rid, method, params: p.data });
}

/** Our answer to Connect's request (signatureVerificationRequest: `{accepted}`). */
export function encodePacResult(rid: PacId, result: z.infer<typeof signatureVerificationResultSchema>): string {
  return JSON.stringify({ jsonrpc: '2.0', id: rid, result: signatureVerificationResultSchema.parse(result) });
}

/** Our refusal of Connect's request (with its id) or an errorMessage notification (without). */
export function encodePacError(rid: PacId | null, error: PacError, method?: string): string {
  if (rid !== null) return JSON.stringify({ jsonrpc: '2.0', id: rid, error });
  return JSON.stringify({ jsonrpc: '2.0', method: PAC_ERROR_MESSAGE, params: method ? { ...error, method } : error });
}

/** Best-effort id of a message too large to parse. */
export function peekPacId(head: string): PacId | null {
  return peekJsonId(head);
}

// ---- the Connect side (the sandbox), from the same shapes ----

/** Parses one of our requests as Connect would (the sandbox's edge): the method, id and checked params, or why not. */
export function decodePacRequest(
  frame: string,
): { ok: true; id: PacId; method: PacRequestMethod; params: unknown } | { ok: false; id: PacId | null; error: PacError } | { ok: 'reply'; id: PacId; body: Record<string, unknown> } {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(frame) as Record<string, unknown>;
  } catch {
    return { ok: false, id: null, error: refuse(PAC_ERROR_CODES.parseError, 'the message is not valid JSON') };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { ok: false, id: null, error: refuse(PAC_ERROR_CODES.invalidRequest, 'not a JSON-RPC object') };
  const rid = idSchema.safeParse(m.id);
  if (m.method === undefined && rid.success) return { ok: 'reply', id: rid.data, body: m };
  if (!rid.success) return { ok: false, id: null, error: refuse(PAC_ERROR_CODES.invalidRequest, 'every PAC request needs an id') };
  if (m.jsonrpc !== '2.0') return { ok: false, id: rid.data, error: refuse(PAC_ERROR_CODES.invalidRequest, 'jsonrpc must be "2.0"') };
  const method = m.method as string;
  if (!(Object.values(PAC_REQUESTS) as string[]).includes(method)) return { ok: false, id: rid.data, error: refuse(PAC_ERROR_CODES.methodNotFound, `unknown method ${String(method).slice(0, 100)}`) };
  const p = PAC_REQUEST_PARAMS[method as PacRequestMethod].safeParse(m.params ?? {});
  if (!p.success) return { ok: false, id: rid.data, error: refuse(PAC_ERROR_CODES.invalidParams, describeIssue(p.error, 'params')) };
  return { ok: true, id: rid.data, method: method as PacRequestMethod, params: p.data };
}
