import { Controller, Get, Inject, Param, ParseUUIDPipe, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { z } from 'zod';
import { CONFIG, REDIS } from '@app/common';
import type { AdminConfig } from '@app/config';
import { DomainError, ListLocationDojoEvents, ListLocationOutbox, LocationActivityRepository, RedisUnavailable } from '@app/domain/admin';
import { PRISMA } from '@app/common';
import type { PrismaClient } from '@app/db';
import { readRequestLog, REQUEST_LOG_CAP } from '@app/queue';
import { OperatorGuard } from '../shared/guards';
import { parseQuery } from '../shared/validation';

const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(200).optional(),
});
const RequestsQuery = z.object({ limit: z.coerce.number().int().min(1).max(REQUEST_LOG_CAP).default(REQUEST_LOG_CAP) });

const page = (item: Record<string, unknown>): Record<string, any> => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: { type: 'object', properties: item } },
    nextCursor: { type: 'string', nullable: true, description: 'Pass as cursor for the next page; null on the last page' },
  },
});
const str = { type: 'string' };
const strOrNull = { type: 'string', nullable: true };
const time = { type: 'string', format: 'date-time' };
const timeOrNull = { type: 'string', format: 'date-time', nullable: true };

/** What a location did recently: its JSON-RPC requests (from Redis), Dojo events and outbox (from Postgres). */
@ApiTags('operator: location activity')
@ApiBearerAuth('operator')
@UseGuards(OperatorGuard)
@Controller('v1/locations/:id')
export class LocationActivityController {
  private readonly repo: LocationActivityRepository;
  private readonly events: ListLocationDojoEvents;
  private readonly outboxes: ListLocationOutbox;

  constructor(
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: AdminConfig,
  ) {
    this.repo = new LocationActivityRepository(prisma);
    this.events = new ListLocationDojoEvents(this.repo);
    this.outboxes = new ListLocationOutbox(this.repo);
  }

  @Get('requests')
  @ApiOperation({
    summary: "A location's recent JSON-RPC requests, newest first",
    description:
      `The gateway replica that answers a request records it in a capped list in Redis (the last ${REQUEST_LOG_CAP} per location, ` +
      'kept 24 hours after the last one). errorsLast5m counts the error replies among them received in the last five minutes.',
  })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: `1-${REQUEST_LOG_CAP} [${REQUEST_LOG_CAP}]` })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['items', 'errorsLast5m'],
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['at', 'method', 'rpcId', 'ms', 'outcome', 'traceId'],
            properties: {
              at: { ...time, description: 'when the gateway received it' },
              method: { ...strOrNull, description: 'null when the frame could not be decoded; "batch" for a refused batch' },
              rpcId: strOrNull,
              ms: { type: 'integer', description: 'receipt to reply' },
              outcome: { type: 'string', enum: ['ok', 'error'] },
              errorType: { ...str, description: 'the EPOS error type of an error reply' },
              traceId: str,
              replicaId: str,
            },
          },
        },
        errorsLast5m: { type: 'integer' },
      },
    },
  })
  @ApiResponse({ status: 404, description: 'No such location' })
  @ApiResponse({ status: 503, description: 'redis_unavailable: Redis, which keeps the records, is not answering (Retry-After)' })
  async requests(@Param('id', ParseUUIDPipe) id: string, @Query() query: unknown) {
    const q = parseQuery(RequestsQuery, query);
    if (!(await this.repo.locationExists(id))) throw DomainError.notFound('location', id);
    let items;
    try {
      items = await readRequestLog(this.redis, this.config.QUEUE_PREFIX, id, q.limit);
    } catch (err) {
      throw new RedisUnavailable("the location's request records (kept in Redis) could not be read", err);
    }
    const since = Date.now() - 5 * 60_000;
    const errorsLast5m = items.filter((e) => e.outcome === 'error' && Date.parse(e.at) >= since).length;
    return { items, errorsLast5m };
  }

  @Get('dojo-events')
  @ApiOperation({ summary: "A location's Dojo payment events and their states, newest received first (paginated)" })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: 'Page size, 1-500 [50]' })
  @ApiQuery({ name: 'cursor', required: false, type: String, description: 'The nextCursor of the previous page' })
  @ApiOkResponse({
    schema: page({
      id: str, eventId: str, eventType: str, paymentIntentId: strOrNull, paymentStatus: strOrNull, channel: str,
      deliveries: { type: 'integer' }, state: str, occurredAt: time, receivedAt: time, appliedAt: timeOrNull,
    }),
  })
  @ApiResponse({ status: 404, description: 'No such location' })
  dojoEvents(@Param('id', ParseUUIDPipe) id: string, @Query() query: unknown) {
    return this.events.execute(id, parseQuery(PageQuery, query));
  }

  @Get('outbox')
  @ApiOperation({ summary: "A location's outbox of POS events to Dojo, newest first (paginated)" })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: 'Page size, 1-500 [50]' })
  @ApiQuery({ name: 'cursor', required: false, type: String, description: 'The nextCursor of the previous page' })
  @ApiOkResponse({
    schema: page({
      id: str, eventType: str, entityType: str, entityId: str, state: str, attempts: { type: 'integer' }, nextAttemptAt: time,
      lastError: strOrNull, createdAt: time, sentAt: timeOrNull,
    }),
  })
  @ApiResponse({ status: 404, description: 'No such location' })
  outbox(@Param('id', ParseUUIDPipe) id: string, @Query() query: unknown) {
    return this.outboxes.execute(id, parseQuery(PageQuery, query));
  }
}
