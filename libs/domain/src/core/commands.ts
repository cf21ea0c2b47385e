import type { OrderWithRelations } from '../orders/order-mapper';
import type { OrderStatus } from './rules/order-status';
import type { OrderSearch } from '../repositories/orders.repository';
import type { PartySearch, ReservationSearch } from '../repositories/parties-reservations.repository';
import type { TableRow, TableSearch } from '../repositories/tables.repository';
import type { SessionSearch } from '../repositories/orders.repository';
import type { TableOccupancy } from './rules/tables';
import type { TerminalLockNames } from './rules/locks';

/**
 * The commands of the order/lock/payment core, in venue terms and free of any
 * dialect: a dialect's mapping module (dialects/<dialect>/) builds them from
 * its wire params and maps the results (domain types, money in integer minor
 * units as bigint) back to its wire responses.
 */

/** Which dialect (or channel) a command came from. */
export type CommandSource = 'epos-data' | 'dojo-tables' | 'connect-pat' | 'connect-pac' | 'online';

/** An order with its items, payments (every state) and money in minor units (bigint). */
export type Order = OrderWithRelations;

/** Dojo's lock on an order, as stored. */
export interface Lock {
  lockRef: string;
  expiresAt: Date;
}

export interface GetOrder {
  orderId: string;
}

/** Orders matching a filter, a keyset page over their sequence (after/before exclusive). */
export interface FindOrders {
  filter: OrderSearch;
  page: { limit: number; after?: bigint; before?: bigint };
}

export interface FoundOrders {
  orders: Order[];
  /** More matches lie before the first / after the last order of this page. */
  hasBefore: boolean;
  hasAfter: boolean;
}

export interface LockOrder {
  orderId: string;
  lockRef: string;
  /** Must be in the future. */
  expiresAt: Date;
  source: CommandSource;
  /** Waiter ids enforced: only this waiter's order (core/rules isWaiterAllowed). */
  waiterId?: string;
  /**
   * The lock names no holder (a legacy terminal that did not say which it is), so a second lock of the same name
   * may come from another device: it is never a renewal, and any live lock refuses it (lock_held). A retry of the
   * same request is answered from processed_requests.
   */
  unnamed?: boolean;
}

export interface UnlockOrder {
  orderId: string;
  lockRef: string;
  /** A legacy terminal dialect's names for the unlocking terminal's lock, as on RecordPayment. */
  terminalLock?: TerminalLockNames;
  source: CommandSource;
  /** Refuse (reason not_locked) when the order has no live lock, instead of answering that it is released. */
  mustHold?: boolean;
  /** Waiter ids enforced: only this waiter's order. */
  waiterId?: string;
}

export interface ExtendLock {
  orderId: string;
  lockRef: string;
  expiresAt: Date;
  source: CommandSource;
}

export interface CancelOrder {
  orderId: string;
  source: CommandSource;
}

export interface RecordPayment {
  orderId: string;
  /** The payment's own id (Dojo's payment intent id): a payment is recorded once per reference. */
  paymentRef: string;
  /** Minor units, >= 0. */
  amount: bigint;
  /** Minor units, >= 0. */
  tips: bigint;
  /** Minor units: cash handed out on the card, recorded with the payment and never counted toward the bill. */
  cashback?: bigint;
  currency: string;
  /** The tips' currency when the dialect sends it apart from the amount's. */
  tipsCurrency?: string;
  /**
   * When the terminal attempted the payment, when the dialect states it (the Tables API's attemptedAt): kept with the
   * payment, and a repeat of the reference at another time is not the same payment (core/rules isSamePayment).
   */
  attemptedAt?: Date;
  lockRef?: string;
  /**
   * A legacy terminal dialect's names for the paying terminal's lock (`lockRef` is the name this message gives):
   * a live lock they cover (core/rules isTerminalsLock) is the payment's own lock.
   */
  terminalLock?: TerminalLockNames;
  source: CommandSource;
  /**
   * Refuse (reason not_locked) unless `lockRef` (or `terminalLock`) is the order's lock: the payment was taken under it. Its
   * own lock past its expiry still counts while no one has locked the order since (core/rules paymentLockOf).
   */
  mustHoldLock?: boolean;
  /** Refuse a payment reference recorded already (reason already_recorded) instead of answering the order unchanged. */
  refuseReplay?: boolean;
  /** The terminal reports an attempt that failed: nothing is recorded and no total changes; the order is returned. */
  attemptFailed?: boolean;
  /** Waiter ids enforced: only this waiter's order. */
  waiterId?: string;
}

/** An amount as a channel stated it (integer minor units and a currency), before the order's rules checked it. */
export interface StatedAmount {
  value: number;
  currency: string;
}

/** A line of a new order. Modifiers and sub-items are kept as the channel described them and shown back as stored. */
export interface OrderDraftLine {
  name: string;
  plu: string;
  quantity: number;
  amountPerItem: StatedAmount;
  note?: string;
  modifiers: unknown[];
  subItems: unknown[];
}

/** Where the order is served: at a table (dine in) or collected. */
export type OrderDraftDetails =
  | { orderType: 'DineIn'; tableId?: string; waiterId?: string; partyId?: string; reservationId?: string; readyAt?: Date }
  | { orderType: 'Collection'; asap?: boolean; collectAt?: Date };

/**
 * A new order as a channel described it, not yet checked: `checkOrderDraft`
 * (core/rules/orders.ts) checks it (a total is given, one currency, amounts in
 * minor units) where the use-case decides to create it, so that a repeated
 * request for an order that exists is answered with that order whatever it says.
 * Discounts and tax lines are kept as described, like modifiers.
 */
export interface OrderDraft {
  details: OrderDraftDetails;
  /** Absent: New. */
  status?: OrderStatus;
  lines: OrderDraftLine[];
  discounts: unknown[];
  taxLines: unknown[];
  totalAmount?: StatedAmount;
  serviceChargeAmount?: StatedAmount;
  note?: string;
  reference?: string;
  displayName?: string;
  customer?: Record<string, unknown>;
  /** Absent: payable. */
  payable?: boolean;
}

/** A payment that came with a placed order (taken before it reached the venue), unchecked like the draft. */
export interface PlacedPayment {
  /** The payment's own id: recorded once per reference at the location. */
  paymentRef: string;
  amount: StatedAmount;
  tips?: StatedAmount;
}

/**
 * Dojo places an order at the venue (an order taken online or at a kiosk),
 * possibly already paid in part. Idempotent on dojoOrderId: placing the same
 * Dojo order again answers the order placed the first time.
 */
export interface PlaceOrder {
  dojoOrderId: string;
  draft: OrderDraft;
  payments: PlacedPayment[];
  source: CommandSource;
}

export interface GetBill {
  orderId: string;
}

/** The bill: the order and the venue's bill template lines as stored (a dialect keeps the lines it can show). */
export interface Bill {
  order: Order;
  header: unknown[];
  footer: unknown[];
  /** The venue's name, for a dialect's default header when the venue has no template. */
  venueName: string | null;
  hasTemplate: boolean;
}

// ---- table sessions (the legacy pay-at-table dialects' view of orders) ----

/**
 * Table sessions: orders served at a table, or tabs (no table). Every filter
 * given must hold; `tableNames` are the venue's table names.
 */
export interface FindSessions {
  filter: SessionSearch;
}

export interface TableSessions {
  orders: Order[];
  /** Every table of the venue (for the sessions' table names). */
  tables: TableRow[];
  /** The covers of the orders' parties, by party id (a session's number of covers). */
  partyCovers: Map<string, number>;
}

export interface GetSession {
  orderId: string;
  /** Waiter ids enforced: only this waiter's order (core/rules isWaiterAllowed). */
  waiterId?: string;
}

export interface SessionWithTable {
  order: Order;
  table: TableRow | null;
  /** The covers of the order's party, when it has one with covers. */
  covers: number | null;
}

/** The venue's tables with what they are doing, by name and occupancy (every filter given must hold). */
export interface FindTableStates {
  names?: string[];
  occupancy?: TableOccupancy[];
}

export interface TableState {
  table: TableRow;
  occupancy: TableOccupancy;
  /** The table's open orders, oldest first. */
  openOrders: Order[];
}

// ---- parties, reservations, tables, areas ----

export type { PartyRow as Party, ReservationRow as Reservation } from '../repositories/parties-reservations.repository';
export type { TableRow as Table, AreaRow as Area } from '../repositories/tables.repository';
export type { KeysetPage } from '../rpc/cursor';

export interface GetParty {
  partyId: string;
}

export interface DeleteParty {
  partyId: string;
}

export interface FindParties {
  filter: PartySearch;
  page: { limit: number; after?: bigint; before?: bigint };
}

export interface GetReservation {
  reservationId: string;
}

export interface DeleteReservation {
  reservationId: string;
}

export interface FindReservations {
  filter: ReservationSearch;
  page: { limit: number; after?: bigint; before?: bigint };
}

export interface FindTables {
  filter: TableSearch;
  page: { limit: number; after?: string; before?: string };
}

/**
 * A party's details as the venue keeps them, for a create or a full replace:
 * what is null is cleared. The deposit is kept as the dialect gave it.
 */
export interface PartyDetails {
  name: string | null;
  covers: number | null;
  tableIds: string[];
  /** Absent or empty on a create: the venue's default (Seated). */
  status?: string;
  startTime: Date;
  expectedEndTime: Date | null;
  endTime: Date | null;
  hostNotes: string | null;
  guestRequests: string | null;
  deposit: Record<string, unknown> | null;
}

/**
 * Seat a party (no partyId: idempotent on dojoPartyId) or replace an existing
 * party's details (partyId; its dojoPartyId must be the one it was created with).
 */
export interface SaveParty {
  partyId?: string;
  dojoPartyId: string;
  /** The venue's reservation the party came from, on a create; must exist at the location. An update keeps the party's link. */
  reservationId?: string;
  /** Dojo's reservation id, resolved to the venue's when reservationId is absent (create only). */
  dojoReservationId?: string;
  details: PartyDetails;
}

/** A reservation's details, for a create or a full replace: what is null is cleared. */
export interface ReservationDetails {
  name: string;
  covers: number;
  /** endTime must be after startTime. */
  startTime: Date;
  endTime: Date;
  tableIds: string[];
  hostNotes: string | null;
  guestRequests: string | null;
}

/**
 * Book a reservation (no reservationId: idempotent on dojoReservationId) or
 * replace an existing one's details (its dojoReservationId must be the one it
 * was created with).
 */
export interface SaveReservation {
  reservationId?: string;
  dojoReservationId: string;
  details: ReservationDetails;
}

// ---- a table as a whole (pay at table by table: Connect PAT) ----

/** The tables with something to pay (a payable order). */
export type FindPayableTables = Record<string, never>;

export interface PayableTables {
  tables: { tableId: string; currency: string }[];
}

/**
 * Lock a table: the same order lock as LockOrder, on every payable order at the
 * table, all or none (refused when another lock holds one of them).
 */
export interface LockTable {
  tableId: string;
  lockRef: string;
  expiresAt: Date;
  source: CommandSource;
}

export interface TableLock {
  tableId: string;
  /** False when the table has nothing to pay, mixes currencies, or another lock holds one of its orders (reason says which). */
  confirmed: boolean;
  reason?: string;
  /** The orders locked, oldest first. */
  orders: Order[];
  /** What is outstanding across the locked orders. */
  amountDue: bigint;
  currency: string | null;
}

/** Release a table's lock: every order at the table held by lockRef (or by a lock terminalLock covers). */
export interface UnlockTable {
  tableId: string;
  lockRef: string;
  /** The unlocking terminal's names for its lock (core/rules isTerminalsLock). */
  terminalLock?: TerminalLockNames;
  source: CommandSource;
}

export interface TableUnlocked {
  tableId: string;
  /** The orders whose lock was released. */
  orderIds: string[];
}

/** Payments taken against a table (core/rules allocateTablePayment splits each over its orders). */
export interface RecordTablePayments {
  tableId: string;
  currency: string;
  /** The lock the payments were taken under, when known (an order held by another live lock refuses them). */
  lockRef?: string;
  /** The terminal's names for its lock, as on RecordPayment. */
  terminalLock?: TerminalLockNames;
  payments: { paymentRef: string; amount: bigint; tips: bigint; cashback: bigint }[];
  source: CommandSource;
}

export interface TablePaymentsRecorded {
  tableId: string;
  /** Payments newly recorded (a repeated payment id is recorded once and not counted again). */
  recorded: number;
  /** Outstanding at the table afterwards. */
  amountDue: bigint;
  currency: string;
}

export interface GetTableBill {
  tableId: string;
}

/** A table's open orders (oldest first) and the venue's bill template lines as stored. */
export interface TableBill {
  tableId: string;
  orders: Order[];
  header: unknown[];
  footer: unknown[];
  venueName: string | null;
  hasTemplate: boolean;
}
