-- A capture's operation row is claimed (pending) before Dojo is called, and completed once Dojo accepted it: Dojo's
-- captures endpoint documents no idempotency key, so this row is what keeps a concurrent or repeated request with
-- the same venue key from sending a second capture. A claim Dojo refused is deleted; one whose answer never came
-- stays pending (a retry of its key answers 409; the intent's status, read by the reconciler, shows the outcome).
ALTER TABLE "payment_intent_operations" ADD COLUMN "pending" BOOLEAN NOT NULL DEFAULT false;
