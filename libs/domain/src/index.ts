export * from './shared/tx';
export * from './shared/venue-feed';
export * from './shared/pos-outbox';
export * from './demo/demo-venue';
export * from './shared/safe-strings';
export { dojoOrderToCreateData } from './dialects/epos-data/orders.mapping';
export { PipelineBacklogRepository } from './repositories/pipeline-backlog.repository';
export { GatewayLocationsRepository } from './repositories/gateway-locations.repository';
export type { GatewayLocationRow } from './repositories/gateway-locations.repository';
