// Types for cinder-client (hand-written; the JavaScript sources carry the same contracts as JSDoc).
import type { Channel, Presence, Socket, SocketConnectOption } from 'phoenix';

export { Channel, Presence, Socket } from 'phoenix';

// ---- sockets --------------------------------------------------------------------------------------

export interface CreateSocketOptions extends Partial<Omit<SocketConnectOption, 'params'>> {
  /** Shorthand for `params: {token}` (Cinder's demo app takes the user id from it). */
  token?: string;
  /** Connect parameters, as phoenix.js takes them (an object, or a function returning one). */
  params?: Record<string, any> | (() => Record<string, any>);
  /** false: do not connect yet (call `socket.connect()`). Default true. */
  connect?: boolean;
  /** Defaults to the global WebSocket, or the `ws` package in Node. */
  transport?: any;
}

/**
 * A phoenix.js Socket for `url` (`http://host:4000`, `ws://host:4000/socket`, ...), connected unless
 * `opts.connect === false`. Uses the global WebSocket when present, `ws` in Node.
 */
export function createSocket(url: string | URL, opts?: CreateSocketOptions): Socket;

/** The phoenix endpoint for `url`: ws(s) scheme, `/socket` for a bare origin, no trailing `/websocket`. */
export function endpointUrl(url: string | URL): string;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';
export interface ConnectionStatus {
  state: ConnectionState;
  /** Closes since the last open (reconnect attempts so far). */
  attempts: number;
}
/** Calls `onChange` now and at every connection change; returns a function that stops watching. */
export function watchConnection(socket: Socket, onChange: (status: ConnectionStatus) => void): () => void;

// ---- channels -------------------------------------------------------------------------------------

export class CinderError extends Error {
  /** `join_error`, `push_error`, `timeout` or `publish_error`. */
  code: string;
  topic?: string;
  event?: string;
  /** The server's error reply payload, when there is one. */
  response?: any;
}
/** The server refused the join; `response` is its reply (e.g. `{reason: "unauthorized"}`). */
export class JoinError extends CinderError {}
/** The server answered the push with an error reply (in `response`). */
export class PushError extends CinderError {}
/** No reply within the timeout. */
export class TimeoutError extends CinderError {}

export interface JoinOptions {
  /** Milliseconds to wait for the join reply (default 10000). */
  timeout?: number;
  /** Keep phoenix.js's background rejoins after a refused or timed-out join (default false: leave). */
  keepRetrying?: boolean;
}
export interface PushOptions {
  /** Milliseconds to wait for the reply (default 10000). */
  timeout?: number;
}

/** Joins and resolves with the join reply; rejects with JoinError or TimeoutError. */
export function joinChannel<T = any>(channel: Channel, opts?: JoinOptions): Promise<T>;
/** Pushes and resolves with the ok reply; rejects with PushError or TimeoutError. */
export function pushAsync<T = any>(
  channel: Channel,
  event: string,
  payload?: object | ArrayBuffer,
  opts?: PushOptions,
): Promise<T>;

// ---- presence -------------------------------------------------------------------------------------

export interface PresenceEntry {
  /** The presence key (the user id in Cinder's demo app). */
  id: string;
  /** One meta per connection of that key, each with its `phx_ref`. */
  metas: Array<{ phx_ref: string; [key: string]: any }>;
}
export interface PresenceChange {
  /** Keys that appeared in this sync. */
  joined: string[];
  /** Keys that went away entirely in this sync. */
  left: string[];
}
export interface PresenceList {
  /** The underlying phoenix.js Presence. */
  readonly presence: Presence;
  /** The current entries, sorted by id. */
  list(): PresenceEntry[];
  /** Number of keys present. */
  readonly size: number;
  /** Called after every sync; returns a function that removes the listener. */
  onChange(listener: (list: PresenceEntry[], change: PresenceChange) => void): () => void;
  /** Stops notifying listeners. */
  destroy(): void;
}
/** A live presence list for `channel`; create it before joining. */
export function presenceList(channel: Channel): PresenceList;

// ---- publishing (Node) ----------------------------------------------------------------------------

export interface PublisherOptions {
  /** API path (default `/api/broadcast`). */
  path?: string;
  /** Retries after the first attempt, on network errors and 5xx only (default 4). */
  retries?: number;
  /** First backoff in ms, doubled per retry, with jitter (default 100). */
  backoffMs?: number;
  /** Backoff ceiling in ms (default 2000). */
  maxBackoffMs?: number;
  /** Per-request timeout in ms (default 5000). */
  timeout?: number;
  /** Kept-alive connections at most (default 8), when the Publisher makes its own Agent. */
  maxSockets?: number;
  /** Your own node:http(s) Agent (the Publisher then does not destroy it on close). */
  agent?: any;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** A refused (4xx) or failed (every attempt) publish. */
export class PublishError extends CinderError {
  /** HTTP status of the last answer; undefined after a network error. */
  status?: number;
  /** Requests made, retries included. */
  attempts: number;
}

export interface PublishResult {
  status: number;
  body: any;
  attempts: number;
}

/** Publishes through Cinder's HTTP API, POST /api/broadcast, with keep-alive and retries. Node only. */
export class Publisher {
  constructor(url: string | URL, opts?: PublisherOptions);
  readonly url: URL;
  readonly stats: { published: number; retries: number; failed: number };
  /** Resolves once the server accepted the message (202); rejects with PublishError. */
  publish(topic: string, event: string, payload?: Record<string, any>): Promise<PublishResult>;
  /** Ends retries in progress (they reject) and closes the kept-alive connections. */
  close(): void;
}

/** What a rejoin of a recoverable channel found (recoverableChannel's onRecovery). */
export interface RecoveryResult {
  /** true: every missed message follows (already on its way, in order); false: refetch. */
  recovered: boolean;
  epoch: string;
  seq: number;
}

/** A phoenix.js Channel that asks for what it missed on every rejoin. */
export interface RecoverableChannel extends Channel {
  /** The last message number seen and its epoch (null before the first join). */
  cursor(): { seq: number | null; epoch: string | null };
}

export function recoverableChannel(
  socket: Socket,
  topic: string,
  params?: object | (() => object),
  opts?: { onRecovery?: (r: RecoveryResult) => void },
): RecoverableChannel;
