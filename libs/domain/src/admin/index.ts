export * from './errors';
export * from './ports';
export * from './location-view';
export * from './software-houses.usecases';
export * from './locations.usecases';
export * from './register-capabilities.usecase';
export * from './webhook-secrets.usecases';
export * from './venue-tokens.usecases';
