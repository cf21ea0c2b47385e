import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ActivateWebhookSecret, AddWebhookSecret, IssueVenueToken, ListVenueTokens, ListWebhookSecrets, RetireWebhookSecret, RevokeVenueToken,
  SubscribeLocationWebhook,
} from '@app/domain/admin';
import { OperatorGuard } from '../shared/guards';
import { jsonSchema, parseBody } from '../shared/validation';
import { VenueTokenCreate, WebhookSecretCreate, WebhookSubscribe } from './dto';

/** Webhook secrets and venue tokens of one location. */
@ApiTags('operator: location secrets and tokens')
@ApiBearerAuth('operator')
@UseGuards(OperatorGuard)
@Controller('v1/locations/:id')
export class LocationSecretsController {
  constructor(
    private readonly listSecrets: ListWebhookSecrets,
    private readonly addSecret: AddWebhookSecret,
    private readonly activate: ActivateWebhookSecret,
    private readonly retire: RetireWebhookSecret,
    private readonly subscribe: SubscribeLocationWebhook,
    private readonly issue: IssueVenueToken,
    private readonly listTokens: ListVenueTokens,
    private readonly revoke: RevokeVenueToken,
  ) {}

  @Get('webhook-secrets')
  @ApiOperation({ summary: "List a location's webhook secrets (values are never shown)" })
  secrets(@Param('id', ParseUUIDPipe) id: string) {
    return this.listSecrets.execute(id);
  }

  @Post('webhook-secrets')
  @ApiOperation({ summary: 'Add a webhook signing secret (generated and shown once when no value is given)' })
  @ApiBody({ schema: jsonSchema(WebhookSecretCreate) })
  addOne(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.addSecret.execute(id, parseBody(WebhookSecretCreate, body));
  }

  @Post('webhook-secrets/:secretId/activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate a webhook secret (several may be active during a rotation)' })
  activateOne(@Param('id', ParseUUIDPipe) id: string, @Param('secretId', ParseUUIDPipe) secretId: string) {
    return this.activate.execute(id, secretId);
  }

  @Post('webhook-secrets/:secretId/retire')
  @HttpCode(200)
  @ApiOperation({ summary: 'Retire a webhook secret' })
  retireOne(@Param('id', ParseUUIDPipe) id: string, @Param('secretId', ParseUUIDPipe) secretId: string) {
    return this.retire.execute(id, secretId);
  }

  @Post('webhook-subscription')
  @ApiOperation({
    summary: "Subscribe the location's webhook with Dojo (POST /webhooks) and store the returned secret",
    description:
      'POST /webhooks is sent once, never repeated (each call makes a subscription at Dojo). An existing subscription of the account ' +
      'to the same URL and events that no stored secret names (one whose answer was lost) is taken instead: adopted is then true.',
  })
  @ApiBody({ schema: jsonSchema(WebhookSubscribe) })
  subscribeOne(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.subscribe.execute(id, parseBody(WebhookSubscribe, body));
  }

  @Get('venue-tokens')
  @ApiOperation({ summary: "List a location's venue API tokens (last four characters only)" })
  tokens(@Param('id', ParseUUIDPipe) id: string) {
    return this.listTokens.execute(id);
  }

  @Post('venue-tokens')
  @ApiOperation({ summary: 'Issue a venue API token (shown once; only its SHA-256 is stored)' })
  @ApiBody({ schema: jsonSchema(VenueTokenCreate) })
  issueOne(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.issue.execute(id, parseBody(VenueTokenCreate, body).name);
  }

  @Delete('venue-tokens/:tokenId')
  @ApiOperation({ summary: 'Revoke a venue API token' })
  revokeOne(@Param('id', ParseUUIDPipe) id: string, @Param('tokenId', ParseUUIDPipe) tokenId: string) {
    return this.revoke.execute(id, tokenId);
  }
}
