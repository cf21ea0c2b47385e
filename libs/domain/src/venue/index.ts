export * from './validation';
export * from './order-rows';
export * from './venue.usecases';
export * from './read-venue-feed.usecase';
