import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import type Redis from 'ioredis';
import { CoreModule, Logger, PRISMA, REDIS, SECRET_BOX } from '@app/common';
import type { AdminConfig } from '@app/config';
import { Channels, LocationChangedMessage, LocationReconnectMessage } from '@app/contracts';
import type { PrismaClient, SecretBox } from '@app/db';
import { DojoClient } from '@app/dojo-client';
import type { AdminDeps } from '@app/domain/admin';
import { LocationsRepository, rawOnPg, RedisUnavailable, SoftwareHousesRepository, VenueTokensRepository } from '@app/domain/admin';
import type { VenueDeps } from '@app/domain/venue';
import { VenueStore } from '@app/domain/venue';
import { readConnectionStatuses, RedisCounterSignals } from '@app/queue';
import type { CounterDeps } from '@app/domain/counter';
import { CounterRepository } from '@app/domain/counter';
import { AdminErrorFilter } from './shared/error.filter';
import { OperatorGuard, VenueGuard } from './shared/guards';
import { KnownQueryInterceptor } from './shared/known-query.interceptor';
import { SafeInputInterceptor } from './shared/safe-input.interceptor';
import { RegistrationService } from './shared/registration.service';
import { ADMIN_DEPS, COUNTER_DEPS, DEAD_LETTER_DEPS, PAYMENT_INTENT_DEPS, VENUE_DEPS } from './shared/tokens';
import type { PaymentIntentDeps } from '@app/domain/payment-intents';
import { LocationCredentials } from '@app/domain/payment-intents';
import { EventEnqueuerService } from './shared/event-enqueuer.service';
import { DeadLettersController } from './operator/dead-letters.controller';
import { DeadLetterDeps, DeadLettersRepository, DiscardDeadLetter, ListDeadLetters, ReplayDeadLetter, ReplayDeadLetters } from '@app/domain/dead-letters';
import { USE_CASE_PROVIDERS } from './shared/use-cases';
import { SoftwareHousesController } from './operator/software-houses.controller';
import { LocationsController } from './operator/locations.controller';
import { CounterLinkController } from './operator/counter-link.controller';
import { LocationSecretsController } from './operator/location-secrets.controller';
import { VenueController } from './venue/venue.controller';
import { PaymentIntentsController } from './venue/payment-intents.controller';
import { CounterController } from './venue/counter.controller';
import { CounterStreamHub } from './venue/counter-stream.service';
import { QueueBoard } from './queues/queue-board';
import { LocationActivityController } from './operator/location-activity.controller';
import { ConsoleGateway } from './console/console.gateway';

/** Root module of the admin app: the operator API and the venue API over the shared infrastructure. */
@Module({})
export class AdminModule {
  static forRoot(config: AdminConfig, logger: Logger): DynamicModule {
    return {
      module: AdminModule,
      // Ready without Redis: the venue API's orders, tables and feed (the POSes' writes and polls) are Postgres only;
      // what needs Redis (registrations, the queue board, connection statuses, pay at counter) answers its own errors.
      imports: [CoreModule.forRoot('admin', config, logger, { readinessNeedsRedis: false })],
      controllers: [
        SoftwareHousesController,
        LocationsController,
        CounterLinkController,
        LocationSecretsController,
        LocationActivityController,
        DeadLettersController,
        VenueController,
        PaymentIntentsController,
        CounterController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AdminErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: KnownQueryInterceptor },
        { provide: APP_INTERCEPTOR, useClass: SafeInputInterceptor },
        {
          provide: DojoClient,
          useFactory: () => new DojoClient({ baseUrl: config.DOJO_API_URL, apiVersion: config.DOJO_API_VERSION, timeoutMs: config.DOJO_TIMEOUT_MS }),
        },
        RegistrationService,
        EventEnqueuerService,
        {
          provide: DEAD_LETTER_DEPS,
          inject: [PRISMA, EventEnqueuerService, RegistrationService],
          useFactory: (prisma: PrismaClient, events: EventEnqueuerService, registration: RegistrationService): DeadLetterDeps => ({
            deadLetters: new DeadLettersRepository(prisma),
            events,
            registration,
            log: logger.child({ component: 'dead-letters' }),
          }),
        },
        ...[ListDeadLetters, ReplayDeadLetter, ReplayDeadLetters, DiscardDeadLetter].map((c) => ({
          provide: c,
          useFactory: (d: DeadLetterDeps) => new c(d),
          inject: [DEAD_LETTER_DEPS],
        })),
        QueueBoard,
        OperatorGuard,
        ConsoleGateway,
        VenueGuard,
        {
          provide: ADMIN_DEPS,
          inject: [PRISMA, SECRET_BOX, REDIS, DojoClient, RegistrationService],
          useFactory: (prisma: PrismaClient, secretBox: SecretBox, redis: Redis, dojo: DojoClient, registration: RegistrationService): AdminDeps => ({
            softwareHouses: new SoftwareHousesRepository(prisma),
            locations: new LocationsRepository(prisma),
            venueTokens: new VenueTokensRepository(prisma),
            secretBox,
            dojo,
            registration,
            webhookPublicUrl: config.WEBHOOK_PUBLIC_URL,
            publisher: {
              // Published after the commit; a gateway that misses it still converges on config_version.
              publishChanged: async (locationId, configVersion) => {
                const msg: LocationChangedMessage = { locationId, configVersion };
                try {
                  await redis.publish(Channels.locationChanged(config.QUEUE_PREFIX), JSON.stringify(msg));
                } catch (err) {
                  logger.warn({ locationId, configVersion, err: (err as Error).message }, 'could not publish location change');
                }
              },
              // Every gateway replica subscribes; the one holding the location acts. Redis failing is the caller's 503.
              requestReconnect: async (locationId) => {
                const msg: LocationReconnectMessage = { locationId, requestedAt: new Date().toISOString() };
                try {
                  return await redis.publish(Channels.locationReconnect(config.QUEUE_PREFIX), JSON.stringify(msg));
                } catch (err) {
                  throw new RedisUnavailable('the reconnect could not be passed to the gateways', err);
                }
              },
            },
            connections: { read: (ids) => readConnectionStatuses(redis, config.QUEUE_PREFIX, ids) },
            counter: { status: new RedisCounterSignals(redis, config.QUEUE_PREFIX, logger.child({ component: 'counter' })), transactions: new CounterRepository(prisma) },
          }),
        },
        {
          provide: PAYMENT_INTENT_DEPS,
          inject: [PRISMA, SECRET_BOX, DojoClient],
          useFactory: (prisma: PrismaClient, secretBox: SecretBox, dojo: DojoClient): PaymentIntentDeps => ({
            prisma,
            dojo,
            credentials: new LocationCredentials(prisma, secretBox),
            checkoutBase: config.DOJO_CHECKOUT_URL,
            firstCheckAfterMs: config.PAYMENT_INTENT_CHECK_AFTER_MS,
            log: logger.child({ component: 'payment-intents' }),
          }),
        },
        CounterStreamHub,
        {
          provide: COUNTER_DEPS,
          inject: [PRISMA, REDIS],
          useFactory: (prisma: PrismaClient, redis: Redis): CounterDeps => {
            const log = logger.child({ component: 'counter' });
            return { prisma, signals: new RedisCounterSignals(redis, config.QUEUE_PREFIX, log), log, acceptTtlMs: config.COUNTER_ACCEPT_TTL_MS };
          },
        },
        { provide: VENUE_DEPS, inject: [PRISMA], useFactory: (prisma: PrismaClient): VenueDeps => ({ venue: new VenueStore(prisma, rawOnPg(prisma)) }) },
        ...USE_CASE_PROVIDERS,
      ],
    };
  }
}
