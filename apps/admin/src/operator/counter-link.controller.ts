import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DeleteCounterLink, GetCounterLink, SetCounterLink } from '@app/domain/admin';
import { OperatorGuard } from '../shared/guards';
import { jsonSchema, parseBody } from '../shared/validation';
import { CounterLinkSet } from './dto';

/**
 * A location's Connect pay-at-counter link beside its own protocol (EPOS
 * Data, Tables API or Connect PAT): the counter terminals of the same venue,
 * with their own Connect host and token. A connect-pac location's link is its
 * protocol (PUT /v1/locations/{id}/protocol).
 */
@ApiTags('operator: locations')
@ApiBearerAuth('operator')
@UseGuards(OperatorGuard)
@Controller('v1/locations/:id/counter-link')
export class CounterLinkController {
  constructor(
    private readonly set: SetCounterLink,
    private readonly get: GetCounterLink,
    private readonly remove: DeleteCounterLink,
  ) {}

  @Get()
  @ApiOperation({ summary: "The location's pay-at-counter link (its connect-pac protocol, or the link beside its protocol): settings and the token's last four characters" })
  readLink(@Param('id', ParseUUIDPipe) id: string) {
    return this.get.execute(id);
  }

  @Put()
  @ApiOperation({
    summary: 'Create or change the pay-at-counter link beside the location\'s protocol (token stored encrypted; required for a new link)',
    description: 'The owning gateway dials it at once. 409 `counter_is_protocol` on a connect-pac location.',
  })
  @ApiBody({ schema: jsonSchema(CounterLinkSet) })
  putLink(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.set.execute(id, parseBody(CounterLinkSet, body));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove the pay-at-counter link beside the protocol',
    description:
      '409 counter_is_protocol on a connect-pac location (its counter is its protocol), unless a link was left beside it by a switch to connect-pac made before such switches were refused: that one is removed.',
  })
  async deleteLink(@Param('id', ParseUUIDPipe) id: string) {
    await this.remove.execute(id);
  }
}
