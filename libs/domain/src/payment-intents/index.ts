export * from './ports';
export * from './credentials';
export * from './dojo-intent-reader';
export * from './payment-intents.usecases';
export * from './reconcile-payment-intents.usecase';
