/**
 * The 22 methods of Dojo's EPOS Data API that this platform serves, with the
 * capability names Dojo registers them under (they differ from the wire names:
 * see the specs README), whether they change state, and their deadlines.
 */
export const EPOS_METHODS = [
  'HandleEventV1',
  'SearchOrdersV1',
  'GetOrderByIdV1',
  'CancelOrderByIdV1',
  'CreateOrderV1',
  'CreateOrderLockV1',
  'DeleteOrderLockV1',
  'ExtendOrderLockV1',
  'GetOrderBillByIdV1',
  'RecordOrderPaymentByIdV1',
  'ListAreasV1',
  'SearchTablesV1',
  'SearchPartiesV1',
  'GetPartyByIdV1',
  'CreatePartyV1',
  'UpdatePartyV1',
  'DeletePartyByIdV1',
  'SearchReservationsV1',
  'GetReservationByIdV1',
  'CreateReservationV1',
  'UpdateReservationV1',
  'DeleteReservationByIdV1',
] as const;

export type EposMethod = (typeof EPOS_METHODS)[number];

export interface MethodInfo {
  /** Capability names to register with PUT /epos/integrations/ws for this method. */
  capabilities: string[];
  /** True when the method changes state (its side effects are committed once per JSON-RPC id). */
  mutates: boolean;
  /** Time budget from receipt to reply; a job that finds it passed before committing gives up. */
  deadlineMs: number;
}

const READ_DEADLINE_MS = 8_000;
const WRITE_DEADLINE_MS = 10_000;
/**
 * No change of any dialect (EPOS Data, Tables API, Connect PAT) has a longer deadline, so none commits later than
 * this after its gateway received it (GATEWAY_DEADLINE_OVERRIDE_MS aside). The gateway's read cache waits this long
 * (and a margin) before keeping anything of a venue it has just taken over. A unit test holds every profile to it.
 */
export const LONGEST_CHANGE_DEADLINE_MS = 10_000;

const r = (...capabilities: string[]): MethodInfo => ({ capabilities, mutates: false, deadlineMs: READ_DEADLINE_MS });
const w = (...capabilities: string[]): MethodInfo => ({ capabilities, mutates: true, deadlineMs: WRITE_DEADLINE_MS });

export const METHOD_INFO: Record<EposMethod, MethodInfo> = {
  HandleEventV1: w('HandleEvent:payment_intent.created', 'HandleEvent:payment_intent.status_updated'),
  SearchOrdersV1: r('SearchOrders'),
  GetOrderByIdV1: r('GetOrderById'),
  CancelOrderByIdV1: w('CancelOrderById'),
  CreateOrderV1: w('CreateOrder'),
  CreateOrderLockV1: w('CreateOrderLock'),
  DeleteOrderLockV1: w('DeleteOrderLock'),
  ExtendOrderLockV1: w('ExtendOrderLock'),
  GetOrderBillByIdV1: r('GetOrderBill'),
  RecordOrderPaymentByIdV1: w('RecordOrderPayment'),
  ListAreasV1: r('ListAreas'),
  SearchTablesV1: r('SearchTables'),
  SearchPartiesV1: r('SearchParties'),
  GetPartyByIdV1: r('GetPartyById'),
  CreatePartyV1: w('CreateParty'),
  UpdatePartyV1: w('UpdatePartyById'),
  DeletePartyByIdV1: w('DeletePartyById'),
  SearchReservationsV1: r('SearchReservations'),
  GetReservationByIdV1: r('GetReservationById'),
  CreateReservationV1: w('CreateReservation'),
  UpdateReservationV1: w('UpdateReservationById'),
  DeleteReservationByIdV1: w('DeleteReservationById'),
};

export function isEposMethod(m: unknown): m is EposMethod {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(METHOD_INFO, m);
}

/** Every capability name the platform can serve, in a stable order. */
export const ALL_CAPABILITIES: string[] = EPOS_METHODS.flatMap((m) => METHOD_INFO[m].capabilities);

/** A method is enabled for a location when any one of its capabilities is in the location's set. */
export function methodEnabled(method: EposMethod, capabilities: readonly string[]): boolean {
  // Per request: a scan of two short lists, no Set built per call.
  return METHOD_INFO[method].capabilities.some((c) => capabilities.includes(c));
}

export function unknownCapabilities(capabilities: readonly string[]): string[] {
  const known = new Set(ALL_CAPABILITIES);
  return capabilities.filter((c) => !known.has(c));
}
