export * from './webhook-signature';
export * from './dojo-event-payload';
export * from './ingest-dojo-event.usecase';
export * from './event-effects';
export * from './apply-pending-events';
export * from './dojo-events-sweeper';
export * from './usecases/apply-dojo-event.usecase';
export * from './usecases/accept-dojo-webhook.usecase';
