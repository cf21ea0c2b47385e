export * from './ports';
export * from './credentials';
export * from './payment-intents.usecases';
export * from './reconcile-payment-intents.usecase';
