/**
 * A plain ws client of the sandbox's Connect PAC endpoint, playing the EPOS:
 * requests are encoded with the codec (encodePacRequest), and every frame the
 * sandbox sends is read with the gateway's decoder (decodePacFrame); a reply's
 * result is checked against the codec's schema for the method it answers. A
 * frame that fails any of this lands in `problems` (tests assert it is empty).
 */
import { WebSocket } from 'ws';
import { ConnectPac } from '@app/contracts';
import { waitFor } from '@app/testing';

export type PacReply = Extract<ConnectPac.PacDecoded, { kind: 'reply' | 'reply-error' }>;

export class PacClient {
  ws!: WebSocket;
  readonly decoded: ConnectPac.PacDecoded[] = [];
  readonly problems: string[] = [];
  readonly unreadable: string[] = [];
  readonly replies: PacReply[] = [];
  readonly signatureRequests: Extract<ConnectPac.PacDecoded, { kind: 'request' }>[] = [];
  closed: { code: number } | undefined;
  /** The answer to a signatureVerificationRequest: accepted or not, or undefined to stay silent. */
  onSignature: (req: ConnectPac.SignatureVerificationRequest) => boolean | undefined = () => true;
  private readonly methods = new Map<string, ConnectPac.PacRequestMethod>();
  private seq = 0;

  constructor(readonly url: string) {}

  async open(): Promise<this> {
    this.ws = new WebSocket(this.url);
    this.ws.on('message', (d: Buffer) => this.onFrame(d.toString('utf8')));
    this.ws.on('close', (code) => (this.closed = { code }));
    await new Promise<void>((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)));
      this.ws.once('error', rej);
    });
    return this;
  }

  private onFrame(text: string): void {
    const d = ConnectPac.decodePacFrame(text);
    this.decoded.push(d);
    switch (d.kind) {
      case 'reply': {
        const method = this.methods.get(String(d.id));
        if (!method) this.problems.push(`a reply to an id we never sent: ${text}`);
        else {
          const problem = ConnectPac.pacResultProblem(method, d.result);
          if (problem) this.unreadable.push(problem);
        }
        this.replies.push(d);
        return;
      }
      case 'reply-error':
        if (!this.methods.has(String(d.id))) this.problems.push(`an error for an id we never sent: ${text}`);
        this.replies.push(d);
        return;
      case 'request': {
        this.signatureRequests.push(d);
        const accepted = this.onSignature(d.params);
        if (accepted !== undefined) this.ws.send(ConnectPac.encodePacResult(d.id, { accepted }));
        return;
      }
      case 'notification':
        return;
      case 'notice':
        // The sandbox answers a frame without a usable id with an id-less error: only expected after garbage.
        return;
      case 'reject':
        this.problems.push(`the codec refuses a frame from the sandbox (${d.error.message}): ${text}`);
    }
  }

  /** Sends one request (encoded and checked by the codec) and returns its id. */
  send<M extends ConnectPac.PacRequestMethod>(method: M, params: ConnectPac.PacRequestParams[M], id: string = `c${++this.seq}`): string {
    this.methods.set(id, method);
    this.ws.send(ConnectPac.encodePacRequest(id, method, params));
    return id;
  }

  /** Sends a raw frame (the codec would refuse to encode it); `method` names what a reply with `id` answers. */
  sendRaw(text: string, id?: string, method?: ConnectPac.PacRequestMethod): void {
    if (id && method) this.methods.set(id, method);
    else if (id) this.methods.set(id, 'connectedTerminals');
    this.ws.send(text);
  }

  async reply(id: string, timeoutMs = 10_000): Promise<PacReply> {
    return waitFor(() => this.replies.find((r) => String(r.id) === id), `a reply to ${id}`, timeoutMs, 5);
  }

  async call<M extends ConnectPac.PacRequestMethod>(method: M, params: ConnectPac.PacRequestParams[M], timeoutMs?: number): Promise<PacReply> {
    return this.reply(this.send(method, params), timeoutMs);
  }

  repliesTo(id: string): PacReply[] {
    return this.replies.filter((r) => String(r.id) === id);
  }

  notifications(tid: string): string[] {
    return this.decoded.flatMap((d) => (d.kind === 'notification' && d.params.tid === tid ? [d.params.notificationValue] : []));
  }

  close(): void {
    this.ws?.terminate();
  }
}

export const resultOf = (r: PacReply): ConnectPac.PacTransaction => {
  if (r.kind !== 'reply') throw new Error(`expected a result, got error ${r.error.code}: ${r.error.message}`);
  return r.result as ConnectPac.PacTransaction;
};
export const errorOf = (r: PacReply): ConnectPac.PacError => {
  if (r.kind !== 'reply-error') throw new Error(`expected an error, got ${JSON.stringify(r.result)}`);
  return r.error;
};
