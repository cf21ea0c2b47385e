import type { Provider } from '@nestjs/common';
import * as Admin from '@app/domain/admin';
import * as Venue from '@app/domain/venue';
import * as Intents from '@app/domain/payment-intents';
import * as Counter from '@app/domain/counter';
import { ADMIN_DEPS, COUNTER_DEPS, PAYMENT_INTENT_DEPS, VENUE_DEPS } from './tokens';

type Ctor<D> = new (deps: D) => unknown;

const adminUseCases: Ctor<Admin.AdminDeps>[] = [
  Admin.CreateSoftwareHouse, Admin.ListSoftwareHouses, Admin.GetSoftwareHouse, Admin.UpdateSoftwareHouse, Admin.DisableSoftwareHouse,
  Admin.DeleteSoftwareHouse, Admin.OnboardLocation, Admin.BulkOnboardLocations, Admin.ListLocations, Admin.GetLocation,
  Admin.UpdateLocation, Admin.SetLocationEnabled, Admin.RotateLocationApiKey, Admin.SetLocationProtocol, Admin.DeleteLocation, Admin.ResyncCapabilities,
  Admin.ListWebhookSecrets, Admin.AddWebhookSecret, Admin.ActivateWebhookSecret, Admin.RetireWebhookSecret,
  Admin.SubscribeLocationWebhook, Admin.IssueVenueToken, Admin.ListVenueTokens, Admin.RevokeVenueToken,
  Admin.ReconnectLocation, Admin.SetCounterLink, Admin.GetCounterLink, Admin.DeleteCounterLink,
];

const venueUseCases: Ctor<Venue.VenueDeps>[] = [
  Venue.UpsertOrder, Venue.DeleteOrder, Venue.UpsertParty, Venue.DeleteParty, Venue.UpsertReservation, Venue.DeleteReservation,
  Venue.UpsertArea, Venue.DeleteArea, Venue.UpsertTable, Venue.DeleteTable, Venue.PutBillTemplate, Venue.DeleteBillTemplate,
  Venue.ReadVenueFeed, Venue.GetVenueOrder,
];

const paymentIntentUseCases: Ctor<Intents.PaymentIntentDeps>[] = [
  Intents.CreatePaymentIntent, Intents.ListOrderPaymentIntents, Intents.GetPaymentIntent, Intents.CancelPaymentIntent, Intents.CapturePaymentIntent,
  Intents.ChangePaymentIntentTips, Intents.RefundPaymentIntent, Intents.ReversePaymentIntent,
];

const counterUseCases: Ctor<Counter.CounterDeps>[] = [
  Counter.ListCounterTerminals, Counter.StartCounterTransaction, Counter.ListCounterTransactions, Counter.GetCounterTransaction,
  Counter.CancelCounterTransaction, Counter.ResolveCounterTransaction, Counter.AnswerCardholderSignature, Counter.ReadCounterEvents, Counter.CounterStreamHead,
];

/** Every use-case as a provider, built from the shared dependencies. */
export const USE_CASE_PROVIDERS: Provider[] = [
  ...adminUseCases.map((c) => ({ provide: c, useFactory: (d: Admin.AdminDeps) => new c(d), inject: [ADMIN_DEPS] })),
  ...venueUseCases.map((c) => ({ provide: c, useFactory: (d: Venue.VenueDeps) => new c(d), inject: [VENUE_DEPS] })),
  ...paymentIntentUseCases.map((c) => ({ provide: c, useFactory: (d: Intents.PaymentIntentDeps) => new c(d), inject: [PAYMENT_INTENT_DEPS] })),
  ...counterUseCases.map((c) => ({ provide: c, useFactory: (d: Counter.CounterDeps) => new c(d), inject: [COUNTER_DEPS] })),
];
