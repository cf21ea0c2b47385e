import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DiscardDeadLetter, ListDeadLetters, ReplayDeadLetter, ReplayDeadLetters } from '@app/domain/dead-letters';
import { OperatorGuard } from '../shared/guards';
import { jsonSchema, parseBody, parseQuery } from '../shared/validation';
import { DEAD_LETTER_KIND_VALUES, DEAD_LETTER_SCHEMA, DeadLetterDiscard, DeadLetterListQuery, DeadLetterReplayFilter } from './dto';

const ID_PARAM = {
  name: 'id',
  description: '"<kind>:<row id>" as listed, e.g. dojo-event:5b7d…, pos-event:42, registration:<location id>',
};
const ERROR = { type: 'object', properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } } };

/**
 * Dead letters: Dojo events, POS events and capability registrations that
 * failed their configured number of attempts (EVENTS_MAX_ATTEMPTS,
 * OUTBOX_MAX_ATTEMPTS, REGISTRATION_ATTEMPTS) and wait for an operator.
 */
@ApiTags('operator: dead letters')
@ApiBearerAuth('operator')
@UseGuards(OperatorGuard)
@Controller('v1/dead-letters')
export class DeadLettersController {
  constructor(
    private readonly list: ListDeadLetters,
    private readonly replayOne: ReplayDeadLetter,
    private readonly replayMany: ReplayDeadLetters,
    private readonly discard: DiscardDeadLetter,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List dead letters, newest first',
    description:
      'Dojo events, POS events and capability registrations that stopped after their last attempt, newest death first. ' +
      'Filters combine (AND). Pass the nextCursor of a page as cursor to read the next one; nextCursor is null on the last page. ' +
      'Discarded letters are not listed.',
  })
  @ApiQuery({ name: 'locationId', required: false, type: String, description: 'Only this location' })
  @ApiQuery({ name: 'kind', required: false, enum: [...DEAD_LETTER_KIND_VALUES] })
  @ApiQuery({ name: 'since', required: false, type: String, description: 'ISO 8601 date-time: only letters that died at or after it' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: 'Page size, 1-500 [50]' })
  @ApiQuery({ name: 'cursor', required: false, type: String, description: 'The nextCursor of the previous page' })
  @ApiResponse({
    status: 200,
    description: 'A page of dead letters',
    schema: {
      type: 'object',
      required: ['items', 'nextCursor'],
      properties: {
        items: { type: 'array', items: DEAD_LETTER_SCHEMA },
        nextCursor: { type: 'string', nullable: true, description: 'Pass as cursor for the next page; null on the last page' },
      },
    },
  })
  @ApiResponse({ status: 400, description: 'A bad filter, named in fields', schema: ERROR })
  listAll(@Query() query: unknown) {
    return this.list.execute(parseQuery(DeadLetterListQuery, query));
  }

  @Post('replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay every dead letter matching the filter',
    description:
      'Each one gets its attempts reset and is requeued at once. The JSON body names at least one filter (they combine: AND), ' +
      'or is {"all": true} to replay every dead letter of every location; an empty or missing body (or one not sent as JSON) is a 400.',
  })
  @ApiBody({ schema: jsonSchema(DeadLetterReplayFilter) })
  @ApiResponse({
    status: 202,
    description: 'How many were requeued',
    schema: { type: 'object', required: ['requeued'], properties: { requeued: { type: 'integer' } } },
  })
  @ApiResponse({ status: 400, description: 'A bad filter, named in fields; no filter and no "all": true', schema: ERROR })
  replayAll(@Body() body: unknown) {
    return this.replayMany.execute(parseBody(DeadLetterReplayFilter, body));
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay one dead letter',
    description:
      'Attempts reset; a Dojo event is enqueued to be applied, a POS event is due at once, a registration is scheduled at once.',
  })
  @ApiParam(ID_PARAM)
  @ApiResponse({
    status: 202,
    description: 'Requeued',
    schema: {
      type: 'object',
      required: ['id', 'kind', 'state'],
      properties: { id: { type: 'string' }, kind: { type: 'string', enum: [...DEAD_LETTER_KIND_VALUES] }, state: { type: 'string', enum: ['requeued'] } },
    },
  })
  @ApiResponse({ status: 404, description: 'No such dead letter', schema: ERROR })
  @ApiResponse({ status: 409, description: 'It is not dead (pending, delivered, applied or discarded)', schema: ERROR })
  replay(@Param('id') id: string) {
    return this.replayOne.execute(id);
  }

  @Post(':id/discard')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard one dead letter', description: 'Kept for audit with the reason; never retried or listed again.' })
  @ApiParam(ID_PARAM)
  @ApiBody({ schema: jsonSchema(DeadLetterDiscard) })
  @ApiResponse({
    status: 200,
    description: 'Discarded',
    schema: {
      type: 'object',
      required: ['id', 'kind', 'state', 'reason'],
      properties: {
        id: { type: 'string' },
        kind: { type: 'string', enum: [...DEAD_LETTER_KIND_VALUES] },
        state: { type: 'string', enum: ['discarded'] },
        reason: { type: 'string' },
      },
    },
  })
  @ApiResponse({ status: 400, description: 'reason missing, empty or longer than 500 characters', schema: ERROR })
  @ApiResponse({ status: 404, description: 'No such dead letter', schema: ERROR })
  @ApiResponse({ status: 409, description: 'It is not dead (pending, delivered, applied or already discarded)', schema: ERROR })
  discardOne(@Param('id') id: string, @Body() body: unknown) {
    return this.discard.execute(id, parseBody(DeadLetterDiscard, body).reason);
  }
}
