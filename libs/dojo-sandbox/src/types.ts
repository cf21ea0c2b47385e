/** Shared shapes of the Dojo sandbox simulator. */

/** A Dojo account (one EPOS location) the sandbox knows. */
export interface SandboxAccount {
  /** Sent as `Authorization: Basic <apiKey>` (as-is, not base64) on the socket and REST. */
  apiKey: string;
  /** Required header on the socket handshake; must match when the account names one. */
  softwareHouseId: string;
  accountId: string;
  /** Optional extra webhook target (besides subscriptions made with POST /webhooks). */
  webhookUrl?: string;
  /** Secret used to sign deliveries to webhookUrl. */
  webhookSecret?: string;
  /** Capabilities to register right away (as if PUT /epos/integrations/ws had been called). */
  capabilities?: string[];
}

export interface CapabilityRecord {
  name: string;
  version: string;
  updatedAt: string;
}

/** Dojo's WsIntegrationResponse. */
export interface WsIntegration {
  capabilities: CapabilityRecord[];
  createdAt: string;
}

export interface PosEventRecord {
  accountId: string;
  receivedAt: string;
  eventType: string;
  event: Record<string, unknown>;
}

export interface WebhookSecret {
  id: string;
  value: string;
  createdAt: string;
  isActive: boolean;
}

export interface WebhookSubscription {
  id: string;
  accountId: string;
  events: string[];
  url: string;
  description: string | null;
  secrets: WebhookSecret[];
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDelivery {
  accountId: string;
  url: string;
  eventId: string;
  event: string;
  paymentStatus?: string;
  signature: string;
  status: number | null;
  error?: string;
  ms: number;
  at: string;
  /** 1 for the first attempt at this event and target; more for a redelivery after a failed one. */
  attempt: number;
}

export type FlowStatus = 'SUCCESS' | 'FAILURE' | 'TIMED_OUT' | 'IN_PROGRESS';

/** The tester tool's StepResult plus `method` and `ms` for readable output. */
export interface StepResult {
  name: string;
  status: FlowStatus;
  additionalInformation: string[];
  startedAt: string;
  finishedAt?: string;
  method?: string;
  ms?: number;
}

export interface FlowResult {
  flowID: string;
  flowName: string;
  status: FlowStatus;
  startedAt: string;
  finishedAt?: string;
  params: Record<string, unknown>;
  steps: StepResult[];
}

export interface FlowParam {
  name: string;
  type: 'string' | 'integer' | 'boolean';
  required: boolean;
  description: string;
  default?: string;
}

export interface FlowDescription {
  name: string;
  description: string;
  params: FlowParam[];
}

/** Switches that make the sandbox misbehave on purpose. */
export interface Misbehaviour {
  /** Every routed request is sent twice with the same JSON-RPC id. */
  duplicateRequests: boolean;
  /** Every webhook is delivered twice. */
  duplicateWebhooks: boolean;
  /** Payment-intent events are sent in a shuffled order (a later status before an earlier one). */
  webhooksOutOfOrder: boolean;
  /** The events of online payment intents (checkout, refunds, ...) are lost on both channels: only GET /payment-intents/{id} tells. */
  loseIntentEvents: boolean;
  /** GET /payment-intents/{id} answers without `captures` (what each capture took), as an answer lacking that field would. */
  omitIntentCaptures: boolean;
  /** POST /payment-intents/{id}/captures answers this long after the capture was taken (a slow Dojo). */
  captureDelayMs: number;
  /** No pings are sent while true. */
  pingsPaused: boolean;
  /** Extra delay before each ping. */
  pingDelayMs: number;
  /** When false, pings from the EPOS get no pong. */
  answerPongs: boolean;
}
