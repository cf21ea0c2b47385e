export * from './dispatch-outbox.usecase';
export * from './outbox-loop';
export { OutboxRepository } from '../repositories/outbox.repository';
export { rawOnPg } from '../repositories/unit-of-work';
