export * from './shared/tx';
export * from './shared/venue-feed';
export * from './shared/pos-outbox';
export * from './demo/demo-venue';
export * from './shared/safe-strings';
export { dojoOrderToCreateData } from './orders/order-mapper';
