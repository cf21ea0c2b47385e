export * from './dispatch-outbox.usecase';
export * from './outbox-loop';
