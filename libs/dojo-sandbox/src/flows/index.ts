import { bookingsFlow } from './bookings.flow';
import { connectPayAtTableFlow } from './connect-pay-at-table.flow';
import { eventsFlow } from './events.flow';
import type { FlowDefinition } from './flow-definition';
import { orderAndPayFlow } from './order-and-pay.flow';
import { payAtTableFlow } from './pay-at-table.flow';
import { onlinePaymentFlow } from './online-payment.flow';
import { payAtCounterFlow } from './pay-at-counter.flow';

export * from './flow-context';
export * from './flow-definition';
export * from './flow-engine';
export * from './venue-events';
export { paymentIntentEvents } from './events.flow';

/** Every flow the sandbox can run, by name. */
export const FLOWS: Record<string, FlowDefinition> = Object.fromEntries(
  [payAtTableFlow, orderAndPayFlow, bookingsFlow, eventsFlow, onlinePaymentFlow, connectPayAtTableFlow, payAtCounterFlow].map((f) => [f.name, f]),
);
