import { Emitter } from './Emitter.js';
import { FinalCloseCodes, parseServerMessage, type ClientMessage, type ServerMessage } from './protocol.js';

/**
 * The signaling connection's states:
 *
 *   idle ──connect()──> connecting ──joined──> connected
 *                           │                    │  socket lost (not a final close code),
 *                           │ closed / error     │  or no message for `deadAfterMs`
 *                           v                    v
 *                        closed <──give up── reconnecting ──joined──> connected
 *
 * `connecting` fails when the first socket closes before `joined` (a refused token, a full room);
 * `reconnecting` opens sockets with `resume=1` (the server kept our place for its grace period)
 * with growing delays, at most `maxReconnectAttempts` times. `leave()` or a final close code
 * (removed, room closed, replaced, refused) ends in `closed`.
 */
export type SignalingState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** The part of the browser's WebSocket this client uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface SignalingOptions {
  /** Opens a socket; defaults to the browser's WebSocket. */
  createSocket?: (url: string) => SocketLike;
  timers?: Timers;
  /** Resume attempts before giving up (default 10). */
  maxReconnectAttempts?: number;
  /** Delay before resume attempt n is min(n × base, max) (defaults 500 ms and 4 s). */
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** A ping goes out after this much silence (default 5 s)... */
  pingIntervalMs?: number;
  /** ...and a connection silent this long is considered dead (default 15 s). */
  deadAfterMs?: number;
}

export interface SignalingEvents {
  state: SignalingState;
  /** A server message (`joined` included). */
  message: ServerMessage;
  /** The connection was lost; a resume attempt follows after `delayMs`. */
  reconnecting: { attempt: number; delayMs: number; code: number };
  /** A resume attempt got `joined`: `resumed` false means the server had given our place away. */
  reconnected: { resumed: boolean };
  /** The connection ended for good. */
  closed: { reason: string; code: number };
}

/** Messages that still make sense after a reconnect; the others describe a state that is gone. */
const ReplayableTypes = new Set<ClientMessage['type']>(['chat', 'mute', 'subscription', 'pause', 'updateMetadata', 'reaction', 'muteParticipant']);
const MaxQueued = 100;
const LocalDeadCode = 4000;

const browserTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: handle => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};

export class SignalingError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'SignalingError';
  }
}

/** One room's signaling WebSocket with resume-on-loss (docs/protocol.md "Reconnecting"). */
export class SignalingClient extends Emitter<SignalingEvents> {
  private socket: SocketLike | null = null;
  private current: SignalingState = 'idle';
  private attempts = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private lastHeard = 0;
  private queue: ClientMessage[] = [];
  private lastError: { code: string; message: string } | null = null;
  private pendingConnect: { resolve: (joined: ServerMessage) => void; reject: (error: Error) => void } | null = null;
  private readonly timers: Timers;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly options: Required<Omit<SignalingOptions, 'createSocket' | 'timers'>>;

  constructor(private readonly wsUrl: string, private readonly token: string, options: SignalingOptions = {}) {
    super();
    this.timers = options.timers ?? browserTimers;
    this.createSocket = options.createSocket ?? (url => new WebSocket(url) as unknown as SocketLike);
    this.options = {
      maxReconnectAttempts: options.maxReconnectAttempts ?? 10,
      reconnectBaseDelayMs: options.reconnectBaseDelayMs ?? 500,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 4000,
      pingIntervalMs: options.pingIntervalMs ?? 5000,
      deadAfterMs: options.deadAfterMs ?? 15000,
    };
  }

  get state(): SignalingState {
    return this.current;
  }

  /** Opens the connection; resolves with the `joined` message, rejects when refused. */
  connect(): Promise<ServerMessage & { type: 'joined' }> {
    if (this.current !== 'idle') return Promise.reject(new SignalingError('bad_state', `cannot connect while ${this.current}`));
    this.setState('connecting');
    return new Promise<ServerMessage & { type: 'joined' }>((resolve, reject) => {
      this.pendingConnect = { resolve: resolve as (joined: ServerMessage) => void, reject };
      this.open(false);
    });
  }

  /**
   * Sends a message. While reconnecting, messages that still mean something later are queued
   * (at most 100) and sent after the resume; others are dropped and `false` is returned.
   */
  send(message: ClientMessage): boolean {
    if (this.current === 'connected' && this.socket) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    if ((this.current === 'reconnecting' || this.current === 'connecting') && ReplayableTypes.has(message.type) && this.queue.length < MaxQueued) {
      this.queue.push(message);
      return true;
    }
    return false;
  }

  /** Drops the socket as a network failure would, then resumes (used after an ICE failure). */
  reconnectNow(): void {
    if (this.current !== 'connected' || !this.socket) return;
    this.socket.close(LocalDeadCode, 'reconnect');
    this.onSocketClosed(this.socket, LocalDeadCode);
  }

  /** Leaves the room: the server ends our place at once. */
  leave(): void {
    if (this.current === 'closed') return;
    if (this.current === 'connected') this.socket?.send(JSON.stringify({ type: 'leave' }));
    this.finish('left', 1000);
  }

  private open(resume: boolean): void {
    const separator = this.wsUrl.includes('?') ? '&' : '?';
    const url = `${this.wsUrl}${separator}token=${encodeURIComponent(this.token)}${resume ? '&resume=1' : ''}`;
    const socket = this.createSocket(url);
    this.socket = socket;
    this.lastError = null;
    socket.onmessage = event => this.onSocketMessage(socket, event.data);
    socket.onclose = event => this.onSocketClosed(socket, event.code, event.reason);
    socket.onerror = () => { /* a close event follows */ };
  }

  private onSocketMessage(socket: SocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    this.lastHeard = this.timers.now();
    const message = typeof data === 'string' ? parseServerMessage(data) : null;
    if (!message) return;
    if (message.type === 'error') this.lastError = { code: message.code, message: message.message ?? message.code };
    if (message.type === 'joined' && this.current !== 'connected') {
      const wasReconnecting = this.current === 'reconnecting';
      this.attempts = 0;
      this.setState('connected');
      this.schedulePing();
      for (const queued of this.queue.splice(0)) socket.send(JSON.stringify(queued));
      this.emit('message', message);
      if (wasReconnecting) this.emit('reconnected', { resumed: message.resumed === true });
      this.pendingConnect?.resolve(message);
      this.pendingConnect = null;
      return;
    }
    if (message.type === 'pong') return;
    this.emit('message', message);
  }

  private onSocketClosed(socket: SocketLike, code: number, reason = ''): void {
    if (socket !== this.socket || this.current === 'closed') return;
    this.socket = null;
    this.stopPing();
    if (this.current === 'connecting') {
      const error = this.lastError ?? { code: FinalCloseCodes.get(code) ?? 'connect_failed', message: reason || `signaling closed (${code})` };
      this.pendingConnect?.reject(new SignalingError(error.code, error.message));
      this.pendingConnect = null;
      this.finish(error.code, code);
      return;
    }
    const final = FinalCloseCodes.get(code);
    if (final) {
      this.finish(this.lastError?.code ?? final, code);
      return;
    }
    if (this.attempts >= this.options.maxReconnectAttempts) {
      this.finish('reconnect_failed', code);
      return;
    }
    this.attempts++;
    const delayMs = Math.min(this.options.reconnectBaseDelayMs * this.attempts, this.options.reconnectMaxDelayMs);
    this.setState('reconnecting');
    this.emit('reconnecting', { attempt: this.attempts, delayMs, code });
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (this.current === 'reconnecting') this.open(true);
    }, delayMs);
  }

  // A ping after `pingIntervalMs` of silence; a socket silent for `deadAfterMs` is treated as lost
  // (a half-open TCP connection never reports a close by itself).
  private schedulePing(): void {
    this.stopPing();
    this.lastHeard = this.timers.now();
    const tick = () => {
      if (this.current !== 'connected' || !this.socket) return;
      const silentFor = this.timers.now() - this.lastHeard;
      if (silentFor >= this.options.deadAfterMs) {
        const socket = this.socket;
        socket.close(LocalDeadCode, 'no answer');
        this.onSocketClosed(socket, LocalDeadCode);
        return;
      }
      if (silentFor >= this.options.pingIntervalMs) this.socket.send(JSON.stringify({ type: 'ping' }));
      this.pingTimer = this.timers.setTimeout(tick, this.options.pingIntervalMs);
    };
    this.pingTimer = this.timers.setTimeout(tick, this.options.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) this.timers.clearTimeout(this.pingTimer);
    this.pingTimer = null;
  }

  private finish(reason: string, code: number): void {
    this.stopPing();
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      try {
        socket.close(1000, reason);
      } catch { /* already closed */ }
    }
    this.queue = [];
    this.setState('closed');
    this.emit('closed', { reason, code });
  }

  private setState(state: SignalingState): void {
    if (state === this.current) return;
    this.current = state;
    this.emit('state', state);
  }
}
