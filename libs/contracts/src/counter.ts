/**
 * Pay at counter (Paymentsense Connect PAC, issue 13): the contracts between
 * the venue API (apps/admin), the gateway that owns a location's PAC link and
 * the workers. The wire towards Connect is connect-pac.ts; this file is ours.
 *
 * The life of a counter transaction (counter_transactions.state):
 *
 *   accepted ──claim by the owning replica (at most once)──> sent ──Connect's final reply──> finished
 *      │                                                      │  └─POS cancel──> cancel_requested ──reply──> finished
 *      │                                                      └─sender gone / reply lost / too late──> recovering
 *      │                                                                      └─`duplicate` on the terminal──> finished | failed(not_executed)
 *      ├─POS cancel before the claim──> failed(cancelled_before_sending)
 *      └─not claimed by expires_at───> failed(not_sent)
 *   sent ──Connect refused the request (busy terminal, unknown tid)──> failed(refused)
 *
 * A command is written to Postgres before the POS gets its 202, so it is never
 * lost; only the replica whose conditional UPDATE moves it from `accepted` to
 * `sent` writes it to the socket, so it is executed at most once; an outcome
 * that never arrived is recovered with `duplicate` by whichever replica owns
 * the location next, so it is never lost either.
 */
import type { PacTerminal, PacTransaction, PacTransactionResult, TerminalReceipts } from './connect-pac';

export const COUNTER_KINDS = ['sale', 'refund', 'duplicate'] as const;
export type CounterKind = (typeof COUNTER_KINDS)[number];

export const COUNTER_STATES = ['accepted', 'sent', 'cancel_requested', 'recovering', 'finished', 'failed'] as const;
export type CounterState = (typeof COUNTER_STATES)[number];
/** States in which the transaction may still be running on the terminal. */
export const COUNTER_OPEN_STATES: readonly CounterState[] = ['accepted', 'sent', 'cancel_requested', 'recovering'];

/**
 * Why a transaction failed without a result from the terminal. `unreadable` is no longer written (an answer that
 * cannot be read fails `outcome_unknown`, which holds its amount until the venue resolves it); older rows may carry it.
 */
export const COUNTER_FAILURES = ['not_sent', 'cancelled_before_sending', 'refused', 'not_executed', 'outcome_unknown', 'unreadable'] as const;
export type CounterFailure = (typeof COUNTER_FAILURES)[number];

/**
 * What the venue found on its terminal (its receipts, its report) for a transaction that failed `outcome_unknown`:
 * the card was charged or not. Until it says, the transaction keeps holding its amount on its order (or on the sale
 * it refunds), so nothing charges that money twice. `charged` records the payment (or applies the refund) as a
 * SUCCESSFUL outcome would have.
 */
export const COUNTER_RESOLUTIONS = ['charged', 'not_charged'] as const;
export type CounterResolution = (typeof COUNTER_RESOLUTIONS)[number];

/** Non-secret settings of a PAC link (locations.protocol_settings of a connect-pac location, or counter_links.settings). */
export interface ConnectPacSettings {
  /** `<host-address>.connect.paymentsense.cloud` (one host per site). */
  hostAddress: string;
  environment: 'production' | 'test';
  installerId: string;
  /** Applied when no POS answers a signature verification request in time (or none is listening). */
  signatureDefault: 'accept' | 'decline';
  /** How long a listening POS has to answer a signature request (ms); below Connect's own window [3P: 80 s]. */
  signatureWaitMs: number;
}
export const COUNTER_SIGNATURE_WAIT_DEFAULT_MS = 30_000;
export const COUNTER_SIGNATURE_WAIT_MAX_MS = 70_000;

/** A transaction as the venue API shows it (and the SSE `transaction` events carry). */
export interface CounterTransactionView {
  id: string;
  locationId: string;
  kind: CounterKind;
  tid: string;
  /** Minor units; absent for duplicate. */
  amount?: number;
  amountCashback?: number;
  currency: string;
  orderId?: string;
  state: CounterState;
  /** Connect's transactionResult once finished. */
  result?: PacTransactionResult;
  failure?: CounterFailure;
  /** A human-readable reason for failed, or Connect's userMessage. */
  message?: string;
  /** The terminal's final transaction (receipt lines, card fields), once finished. */
  transaction?: PacTransaction;
  receiptLines?: TerminalReceipts;
  /**
   * The payment this transaction changed: recorded on the order (a SUCCESSFUL sale against an order; its payment id is
   * the transaction id), or refunded (a SUCCESSFUL refund of a sale: that sale's payment).
   */
  paymentId?: string;
  /** A refund of an earlier counter sale: that sale's transaction id. */
  refundOf?: string;
  /** The last notification value seen. */
  lastNotification?: string;
  /** A failed `outcome_unknown` transaction the venue resolved (POST .../resolve): what its terminal showed. */
  resolution?: CounterResolution;
  resolvedAt?: string;
  createdAt: string;
  sentAt?: string;
  finishedAt?: string;
}

/** Event types of the venue's counter event stream (counter_events.type, the SSE `event:` field). */
export const COUNTER_EVENT_TYPES = [
  /** The transaction's state changed (data: CounterTransactionView). */
  'transaction',
  /** A terminalNotification (data: {transactionId?, tid, notificationValue}). */
  'notification',
  /** Connect asks to verify the cardholder's signature (data: {transactionId, tid, receiptLines, answerBy, default}). */
  'signature.requested',
  /** The signature request was answered (data: {transactionId, tid, accepted, by: 'pos' | 'default'}). */
  'signature.answered',
] as const;
export type CounterEventType = (typeof COUNTER_EVENT_TYPES)[number];

/** One stored event of the stream; `id` is counter_events.id (the SSE id, for Last-Event-ID replay). */
export interface CounterEvent {
  id: string;
  locationId: string;
  type: CounterEventType;
  transactionId?: string;
  tid?: string;
  data: Record<string, unknown>;
  at: string;
}

/** Redis pub/sub channels of the counter, under the deployment's QUEUE_PREFIX (see also Channels in channels.ts). */
export const CounterChannels = {
  /** To the gateways: a location has counter work (a new command, a cancel, a terminals refresh). Only the owner acts; it also polls, so a lost message only delays. */
  commands: (prefix: string) => `${prefix}:counter-commands`,
  /** To the venue API's SSE streams of one location: each stored CounterEvent as JSON, published after commit. */
  events: (prefix: string, locationId: string) => `${prefix}:counter-events:{${locationId}}`,
} as const;

export interface CounterCommandMessage {
  locationId: string;
  what: 'work' | 'refresh_terminals';
}

/** The terminals the owning gateway last read with connectedTerminals (Redis key counterTerminalsKey with the QUEUE_PREFIX-style prefix the apps use, JSON, expires). */
export interface CounterTerminalsSnapshot {
  locationId: string;
  observedAt: string;
  replicaId: string;
  terminals: PacTerminal[];
}
export const counterTerminalsKey = (prefix: string, locationId: string) => `${prefix}:{counter}:terminals:${locationId}`;
export const COUNTER_TERMINALS_TTL_S = 120;

/** A signature decision, first writer wins (SET NX): the POS's answer or the default (JSON {accepted, by}). */
export const counterSignatureKey = (prefix: string, transactionId: string) => `${prefix}:{counter}:signature:${transactionId}`;

/**
 * Whether a POS listens to a location's event stream: a sorted set of the admin replicas with an open stream of the
 * location, each scored with when its presence lapses (epoch ms), refreshed every COUNTER_PRESENCE_REFRESH_MS while
 * a stream is open and removed when the last closes. PUBLISH's count of receivers cannot say it on a Redis Cluster
 * (it counts only the subscribers of the node that ran it).
 */
export const counterListenersKey = (prefix: string, locationId: string) => `${prefix}:{counter}:listeners:${locationId}`;
export const COUNTER_PRESENCE_REFRESH_MS = 5_000;
/** A presence not refreshed this long (its replica died) lapses; three refreshes, with room for clocks apart. */
export const COUNTER_PRESENCE_TTL_MS = 15_000;

// ---- the gateway's port (implemented in libs/domain over the counter repository) ----

/** A command the owner must write to the socket now: already moved to `sent` with the owner's fence. */
export interface CounterSend {
  op: 'send';
  transactionId: string;
  kind: CounterKind;
  tid: string;
  amount?: number;
  amountCashback?: number;
  currency: string;
}
/** A cancel the owner must send (cancelTransaction on the tid); already marked sent. */
export interface CounterCancel {
  op: 'cancel';
  transactionId: string;
  tid: string;
}
/** A transaction whose outcome is lost to this replica: ask `duplicate` once the terminal is AVAILABLE, then settle with `recovered`. */
export interface CounterRecover {
  op: 'recover';
  transactionId: string;
  kind: CounterKind;
  tid: string;
  amount?: number;
  currency: string;
  sentAt: string;
}
export type CounterWork = CounterSend | CounterCancel | CounterRecover;

/** What became of a transaction the gateway sent (or recovered); settled once by the worker. */
export type CounterOutcome =
  /** Connect's final reply to sale/refund/duplicate. */
  | { kind: 'transaction'; transaction: PacTransaction }
  /** The `duplicate` answer read while recovering: settles the transaction only when it matches it (else failed not_executed). */
  | { kind: 'recovered'; transaction: PacTransaction | null }
  /** Connect refused the request (error reply): nothing ran on the terminal. */
  | { kind: 'refused'; code: number; message: string }
  /**
   * A reply whose type, result, amounts, currency or ids do not fit the schema (connect-pac.ts readPacResult): kept,
   * never treated as a success. The card may have been charged, so it settles failed `outcome_unknown`.
   */
  | { kind: 'unreadable'; problem: string; raw: unknown }
  /**
   * Recovery gave up without reading the terminal's last transaction (the terminal stayed away, or `duplicate` kept
   * failing, for COUNTER_RECOVER_GIVE_UP_MS): it may or may not have run. Settles it failed `outcome_unknown`.
   */
  | { kind: 'unknown'; reason: string };

/** The worker's job (QueueName.Counter): settle one transaction exactly once. */
export interface CounterSettleJob {
  locationId: string;
  transactionId: string;
  outcome: CounterOutcome;
  /** The replica that read it, for the log. */
  replicaId: string;
  traceId: string;
}

export interface CounterCommandPort {
  /**
   * The location's counter work for its owner, each item already claimed with
   * `fence` by a conditional UPDATE (two replicas never get the same item):
   * accepted commands whose terminal has nothing else in flight (oldest
   * first; expired ones are failed `not_sent` instead), cancels not yet sent,
   * and transactions in flight that are not in `inFlight` (this replica's
   * own open requests, so lost to it: sent under an older fence, or by this
   * replica on a socket that has since dropped): those are to recover.
   * Calls for one location are serialised by the caller, and a `send` is
   * added to `inFlight` before the next call.
   */
  takeWork(locationId: string, owner: { fence: number; replicaId: string; inFlight: readonly string[] }): Promise<CounterWork[]>;
}
