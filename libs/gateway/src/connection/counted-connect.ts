import type { ClientRequestArgs } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { DialSlot } from './dial-gate';

/** The options ws hands to `createConnection` (http.request's, with ws's socketPath). */
type ConnectOptions = net.NetConnectOpts & tls.ConnectionOptions & { host?: string; socketPath?: string };

/**
 * ws's `createConnection` for one dial (ws passes it on to http.request): the
 * same TCP or TLS connect that ws makes by default (ws/lib/websocket.js
 * netConnect, tlsConnect), which tells the dial gate when the far end sees the
 * dial. That is the socket's `connect`, right before which nothing has reached
 * the far end but a SYN and right after which the upgrade request is written
 * (in the same turn for plain TCP). A socket closed before it connected gives
 * its slot back. Counting here rather than at `new WebSocket` keeps a busy
 * moment of this process (sockets created, their connects handled late, the
 * upgrade requests then written together) inside the gate's cap.
 */
export function countedConnection(slot: DialSlot, secure: boolean): NonNullable<ClientRequestArgs['createConnection']> {
  // http.request calls it with one options object (its overloads' other forms are net.createConnection's).
  const connect = (options: ConnectOptions): net.Socket => {
    let socket: net.Socket;
    if (secure) {
      options.path = undefined;
      if (!options.servername && options.servername !== '') options.servername = net.isIP(options.host ?? '') ? '' : options.host;
      socket = tls.connect(options);
    } else {
      options.path = options.socketPath;
      socket = net.connect(options as net.NetConnectOpts);
    }
    socket.once('connect', () => slot.started());
    socket.once('close', () => slot.cancel());
    return socket;
  };
  return connect as NonNullable<ClientRequestArgs['createConnection']>;
}
