/**
 * The rules of orders, locks and payments, in one place and free of any
 * database, transport or dialect: every path (RPC use-cases, the events
 * worker, the venue API) and every SQL fragment that expresses a rule uses
 * these definitions.
 */
export * from './order-status';
export * from './money';
export * from './locks';
export * from './payments';
export * from './keys';
export * from './reservations';
export * from './parties';
export * from './table-payments';
export * from './payment-intents';
export * from './tables';
export * from './orders';
export * from './counter';
export * from './retention';
