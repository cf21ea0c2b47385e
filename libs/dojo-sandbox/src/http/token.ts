/** Injection token of the running DojoSandbox. */
export const SANDBOX = Symbol('DOJO_SANDBOX');
