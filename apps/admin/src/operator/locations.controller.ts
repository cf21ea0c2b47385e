import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  BulkOnboardLocations, DeleteLocation, GetLocation, ListLocations, OnboardLocation, ResyncCapabilities, RotateLocationApiKey,
  SetLocationEnabled, SetLocationProtocol, UpdateLocation,
} from '@app/domain/admin';
import { LOGGER, Logger } from '@app/common';
import { OperatorGuard } from '../shared/guards';
import { jsonSchema, parseBody, parseQuery } from '../shared/validation';
import {
  ApiKeyRotate, LOCATION_CONNECTION_STATES, LOCATION_PAGE_SCHEMA, LOCATION_PROTOCOLS, LOCATION_REGISTRATION_STATES, LocationBulkCreate, LocationCreate,
  LocationListQuery, LocationProtocolSet, LocationUpdate,
} from './dto';
import { DomainError } from '@app/domain/admin';
// POST /v1/locations/{id}/reconnect
import { Inject } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ReconnectLocation } from '@app/domain/admin';

@ApiTags('operator: locations')
@ApiBearerAuth('operator')
@UseGuards(OperatorGuard)
@Controller('v1/locations')
export class LocationsController {
  constructor(
    private readonly onboard: OnboardLocation,
    private readonly bulk: BulkOnboardLocations,
    private readonly list: ListLocations,
    private readonly get: GetLocation,
    private readonly update: UpdateLocation,
    private readonly setEnabled: SetLocationEnabled,
    private readonly rotate: RotateLocationApiKey,
    private readonly remove: DeleteLocation,
    private readonly resync: ResyncCapabilities,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Onboard a venue (location); registers its capabilities with Dojo' })
  @ApiBody({ schema: jsonSchema(LocationCreate) })
  createOne(@Body() body: unknown) {
    return this.onboard.execute(parseBody(LocationCreate, body));
  }

  @Post('bulk')
  @HttpCode(200)
  @ApiOperation({
    summary: "Onboard many venues; reports each row's outcome",
    description: "Every row is tried. A row failing for a reason not its own is reported with error kind 'internal' (it may have been stored: look it up by dojoAccountId before sending it again).",
  })
  @ApiBody({ schema: { type: 'object', required: ['locations'], properties: { locations: { type: 'array', items: jsonSchema(LocationCreate) } } } })
  async bulkCreate(@Body() body: unknown) {
    const { locations } = parseBody(LocationBulkCreate, body);
    // Rows are validated one by one so a bad row is reported without failing the others.
    const valid: { index: number; row: ReturnType<typeof LocationCreate.parse> }[] = [];
    const invalid: { index: number; ok: false; error: { kind: string; message: string; fields: { field: string; reason: string }[] } }[] = [];
    locations.forEach((raw, index) => {
      try {
        valid.push({ index, row: parseBody(LocationCreate, raw) });
      } catch (err) {
        const e = err as DomainError;
        invalid.push({ index, ok: false, error: { kind: e.kind, message: e.message, fields: e.fields } });
      }
    });
    const done = await this.bulk.execute(
      valid.map((v) => v.row),
      { onInternal: (i, err) => this.logger.error({ index: valid[i]!.index, err: (err as Error)?.message, stack: (err as Error)?.stack }, 'bulk onboarding: a row failed unexpectedly; the others go on') },
    );
    const results = [
      ...done.results.map((r) => ({ ...r, index: valid[r.index]!.index })),
      ...invalid,
    ].sort((a, b) => a.index - b.index);
    return { created: done.created, failed: results.length - done.created, results };
  }

  @Get()
  @ApiOperation({
    summary: 'List locations, filtered, one page at a time (cursor pagination by id)',
    description:
      'Filters combine (AND). Pass the nextCursor of a page as cursor to read the next one; nextCursor is null on the last page. ' +
      'Unknown query parameters are refused with 400 naming them.',
  })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: 'Page size, 1-500 [50]' })
  @ApiQuery({ name: 'cursor', required: false, type: String, description: 'The nextCursor of the previous page' })
  @ApiQuery({ name: 'softwareHouseId', required: false, type: String })
  @ApiQuery({ name: 'dojoAccountId', required: false, type: String, description: "The location's Dojo account id (exact match)" })
  @ApiQuery({ name: 'enabled', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'protocol', required: false, enum: [...LOCATION_PROTOCOLS], description: 'The protocol the location speaks' })
  @ApiQuery({ name: 'registrationState', required: false, enum: [...LOCATION_REGISTRATION_STATES] })
  @ApiQuery({
    name: 'connectionState',
    required: false,
    enum: [...LOCATION_CONNECTION_STATES],
    description: 'As the gateways report it (unowned: no gateway reported; unknown: statuses could not be read)',
  })
  @ApiOkResponse({ schema: LOCATION_PAGE_SCHEMA })
  listAll(@Query() query: unknown) {
    return this.list.execute(parseQuery(LocationListQuery, query));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a location with its live connection status and registration outcome' })
  getOne(@Param('id', ParseUUIDPipe) id: string) {
    return this.get.execute(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a location (a changed capability set or restUrl is registered again)' })
  @ApiBody({ schema: jsonSchema(LocationUpdate) })
  updateOne(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.update.execute(id, parseBody(LocationUpdate, body));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a location (its gateway socket closes at once)' })
  disableOne(@Param('id', ParseUUIDPipe) id: string) {
    return this.setEnabled.execute(id, false);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a location' })
  enableOne(@Param('id', ParseUUIDPipe) id: string) {
    return this.setEnabled.execute(id, true);
  }

  @Put(':id/api-key')
  @ApiOperation({ summary: "Rotate a location's Dojo API key (the gateway reconnects with it at once)" })
  @ApiBody({ schema: jsonSchema(ApiKeyRotate) })
  rotateKey(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.rotate.execute(id, parseBody(ApiKeyRotate, body).apiKey);
  }

  // Injected as a property so this route stays one self-contained addition to the controller.
  @Inject(SetLocationProtocol) private readonly setProtocol!: SetLocationProtocol;

  @Put(':id/protocol')
  @ApiOperation({
    summary: "Switch a location's protocol (epos-data, dojo-tables, connect-pat, connect-pac) or change its protocol's settings",
    description:
      "The venue's data stays; the gateway re-dials with the new protocol at once. A switch takes the new protocol's settings as given (defaults for what is left out); " +
      "with the same protocol only the settings named change, and every field left out (apiKey too) keeps its stored value. " +
      "A switch clears the location's wsUrl and restUrl unless given (the new protocol dials its default, never the old protocol's endpoint); the same protocol keeps them. " +
      'Capability registration applies to epos-data only; switching to it, or a new apiKey on it, registers again from nothing. ' +
      'A switch to connect-pac is refused with 409 counter_link_exists while the location has a counter link beside its protocol: delete the link first.',
  })
  @ApiBody({ schema: jsonSchema(LocationProtocolSet) })
  @ApiResponse({ status: 400, description: 'Credentials, settings or URLs refused, one field error each' })
  @ApiResponse({ status: 404, description: 'No such location' })
  @ApiResponse({ status: 409, description: 'counter_link_exists: a switch to connect-pac while a counter link is beside the protocol (DELETE .../counter-link first)' })
  setProtocolOf(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.setProtocol.execute(id, parseBody(LocationProtocolSet, body));
  }

  @Post(':id/registration/resync')
  @HttpCode(202)
  @ApiOperation({ summary: 'Register the capability set with Dojo again (PUT /epos/integrations/ws)' })
  resyncOne(@Param('id', ParseUUIDPipe) id: string) {
    return this.resync.execute(id);
  }

  // Injected as a property so this route stays one self-contained addition to the controller.
  @Inject(ReconnectLocation) private readonly reconnect!: ReconnectLocation;

  @Post(':id/reconnect')
  @HttpCode(202)
  @ApiOperation({
    summary: "Reconnect a location's Dojo socket now",
    description:
      'The gateway replica that holds the location resets its reconnect backoff (after a 401/403 it can be up to 15 minutes) and dials at once; an open link is closed and dialled again. Answers before the dial; poll GET /v1/locations/{id} for the new connection state.',
  })
  @ApiResponse({
    status: 202,
    description: 'Reconnect requested',
    schema: {
      type: 'object',
      required: ['locationId', 'status', 'message', 'requestedAt', 'gatewaysNotified', 'connection'],
      properties: {
        locationId: { type: 'string', format: 'uuid' },
        status: { type: 'string', enum: ['reconnect_requested'] },
        message: { type: 'string' },
        requestedAt: { type: 'string', format: 'date-time' },
        gatewaysNotified: { type: 'integer', description: 'gateway replicas that heard the request (0: none running)' },
        connection: { type: 'object', description: 'the connection status just before the request' },
      },
    },
  })
  @ApiResponse({ status: 404, description: 'No such location' })
  @ApiResponse({ status: 409, description: 'The location is disabled' })
  @ApiResponse({ status: 503, description: 'redis_unavailable: Redis, through which the gateways hear it, is not answering (Retry-After); send it again' })
  reconnectOne(@Param('id', ParseUUIDPipe) id: string) {
    return this.reconnect.execute(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a location and all its data' })
  async deleteOne(@Param('id', ParseUUIDPipe) id: string) {
    await this.remove.execute(id);
  }
}
