export * from './ports';
export * from './view';
export * from './usecases/take-counter-work.usecase';
export * from './usecases/settle-counter-transaction.usecase';
export * from './usecases/record-terminal-notification.usecase';
export * from './usecases/verify-cardholder-signature.usecase';
export { CounterRepository, counterRepo } from '../repositories/counter.repository';
export type { CounterTransactionRow, CounterEventRow } from '../repositories/counter.repository';
