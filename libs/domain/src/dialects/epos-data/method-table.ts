import type { EposMethod } from '@app/contracts';
import { ListAreas } from '../../areas/usecases/list-areas.usecase';
import { GetOrderBillById } from '../../bills/usecases/get-order-bill-by-id.usecase';
import { CreateOrderLock } from '../../locks/usecases/create-order-lock.usecase';
import { DeleteOrderLock } from '../../locks/usecases/delete-order-lock.usecase';
import { ExtendOrderLock } from '../../locks/usecases/extend-order-lock.usecase';
import { CancelOrderById } from '../../orders/usecases/cancel-order-by-id.usecase';
import { CreateOrder } from '../../orders/usecases/create-order.usecase';
import { GetOrderById } from '../../orders/usecases/get-order-by-id.usecase';
import { SearchOrders } from '../../orders/usecases/search-orders.usecase';
import { CreateParty } from '../../parties/usecases/create-party.usecase';
import { DeletePartyById } from '../../parties/usecases/delete-party-by-id.usecase';
import { GetPartyById } from '../../parties/usecases/get-party-by-id.usecase';
import { SearchParties } from '../../parties/usecases/search-parties.usecase';
import { UpdateParty } from '../../parties/usecases/update-party.usecase';
import { RecordOrderPayment } from '../../payments/usecases/record-order-payment.usecase';
import { CreateReservation } from '../../reservations/usecases/create-reservation.usecase';
import { DeleteReservationById } from '../../reservations/usecases/delete-reservation-by-id.usecase';
import { GetReservationById } from '../../reservations/usecases/get-reservation-by-id.usecase';
import { SearchReservations } from '../../reservations/usecases/search-reservations.usecase';
import { UpdateReservation } from '../../reservations/usecases/update-reservation.usecase';
import type { MethodEntry } from '../../rpc/dialect';
import { methodEntry } from '../../rpc/dialect';
import { SearchTables } from '../../tables/usecases/search-tables.usecase';
import * as orders from './orders.mapping';
import * as venue from './venue-objects.mapping';

const entry = methodEntry;

/**
 * The EPOS Data API: wire method -> (mapping, use-case). HandleEventV1 is not
 * here: it stores a Dojo event for the events pipeline (RpcDispatcher's
 * DojoEventIngest), outside the core.
 */
export const EPOS_DATA_METHODS: Record<Exclude<EposMethod, 'HandleEventV1'>, MethodEntry> = {
  SearchOrdersV1: entry(orders.searchOrders, new SearchOrders()),
  GetOrderByIdV1: entry(orders.getOrder, new GetOrderById()),
  CancelOrderByIdV1: entry(orders.cancelOrder, new CancelOrderById()),
  CreateOrderV1: entry(orders.placeOrder, new CreateOrder()),
  CreateOrderLockV1: entry(orders.lockOrder, new CreateOrderLock()),
  DeleteOrderLockV1: entry(orders.unlockOrder, new DeleteOrderLock()),
  ExtendOrderLockV1: entry(orders.extendLock, new ExtendOrderLock()),
  GetOrderBillByIdV1: entry(orders.getBill, new GetOrderBillById()),
  RecordOrderPaymentByIdV1: entry(orders.recordPayment, new RecordOrderPayment()),
  ListAreasV1: entry(venue.listAreas, new ListAreas()),
  SearchTablesV1: entry(venue.searchTables, new SearchTables()),
  SearchPartiesV1: entry(venue.searchParties, new SearchParties()),
  GetPartyByIdV1: entry(venue.getParty, new GetPartyById()),
  CreatePartyV1: entry(venue.createParty, new CreateParty()),
  UpdatePartyV1: entry(venue.updateParty, new UpdateParty()),
  DeletePartyByIdV1: entry(venue.deleteParty, new DeletePartyById()),
  SearchReservationsV1: entry(venue.searchReservations, new SearchReservations()),
  GetReservationByIdV1: entry(venue.getReservation, new GetReservationById()),
  CreateReservationV1: entry(venue.createReservation, new CreateReservation()),
  UpdateReservationV1: entry(venue.updateReservation, new UpdateReservation()),
  DeleteReservationByIdV1: entry(venue.deleteReservation, new DeleteReservationById()),
};
