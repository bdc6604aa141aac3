import { strict as assert } from 'node:assert';
import { beforeEach, describe, it } from 'node:test';
import { SignalingClient, type SignalingOptions, type SocketLike, type Timers } from '../src/SignalingClient.js';

/** A socket the test drives by hand: it records what the client sends and plays the server. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void { this.sent.push(JSON.parse(data)); }
  close(code = 1000): void { this.closedWith = code; }
  serverSends(message: Record<string, unknown>): void { this.onmessage?.({ data: JSON.stringify(message) }); }
  serverSendsRaw(data: unknown): void { this.onmessage?.({ data }); }
  drop(code = 1006, reason = ''): void { this.onclose?.({ code, reason }); }
}

/** Time that moves only when the test says so. */
class FakeTimers implements Timers {
  time = 0;
  private next = 1;
  private pending = new Map<number, { at: number; callback: () => void }>();
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void { this.pending.delete(handle as number); }
  now(): number { return this.time; }
  advance(ms: number): void {
    const end = this.time + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      const due = [...this.pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
  get count(): number { return this.pending.size; }
}

const joined = (resumed = false) => ({ type: 'joined', protocol: 1, room: 'r', resumed, self: { identity: 'me', name: 'Me', tracks: [] }, participants: [] });

describe('SignalingClient', () => {
  let sockets: FakeSocket[];
  let timers: FakeTimers;
  let states: string[];
  const make = (options: SignalingOptions = {}) => {
    const client = new SignalingClient('wss://sfu.example/rtc', 'tok en', {
      createSocket: url => { const s = new FakeSocket(url); sockets.push(s); return s; }, timers, ...options,
    });
    client.on('state', s => states.push(s));
    return client;
  };
  const last = () => sockets[sockets.length - 1]!;
  // A client that has joined (the usual starting point of a test).
  const joinedClient = async (options: SignalingOptions = {}): Promise<SignalingClient> => {
    const client = make(options);
    const connected = client.connect();
    last().serverSends(joined());
    await connected;
    return client;
  };

  beforeEach(() => { sockets = []; timers = new FakeTimers(); states = []; });

  it('connects with the token and resolves on joined', async () => {
    const client = make();
    const connected = client.connect();
    assert.equal(client.state, 'connecting');
    assert.equal(last().url, 'wss://sfu.example/rtc?token=tok%20en');
    last().serverSends(joined());
    const message = await connected;
    assert.equal(message.type, 'joined');
    assert.equal(client.state, 'connected');
    assert.deepEqual(states, ['connecting', 'connected']);
  });

  it('rejects with the server error code when refused before joining', async () => {
    const client = make();
    const connected = client.connect();
    last().serverSends({ type: 'error', code: 'room_full', message: 'the room is full' });
    last().drop(1008, 'room_full');
    await assert.rejects(connected, (e: Error & { code?: string }) => e.code === 'room_full');
    assert.equal(client.state, 'closed');
    assert.equal(sockets.length, 1, 'a refused join is not retried');
  });

  it('names a refusal by its close code when the server sent no error', async () => {
    const client = make();
    const connected = client.connect();
    last().drop(4001);
    await assert.rejects(connected, (e: Error & { code?: string }) => e.code === 'removed');
  });

  it('ignores malformed messages and messages without a type', async () => {
    const client = make();
    const seen: string[] = [];
    client.on('message', m => seen.push(m.type));
    const connected = client.connect();
    last().serverSendsRaw('{not json');
    last().serverSendsRaw('[1,2]');
    last().serverSendsRaw(JSON.stringify({ kind: 'joined' }));
    last().serverSendsRaw(new Uint8Array([1, 2]));
    assert.equal(client.state, 'connecting');
    last().serverSends(joined());
    await connected;
    assert.deepEqual(seen, ['joined']);
  });

  it('resumes with resume=1 after an unexpected close and reports reconnected', async () => {
    const client = make();
    const events: string[] = [];
    client.on('reconnecting', e => events.push(`reconnecting ${e.attempt} ${e.delayMs}`));
    client.on('reconnected', e => events.push(`reconnected ${e.resumed}`));
    const connected = client.connect();
    last().serverSends(joined());
    await connected;
    last().drop(1006);
    assert.equal(client.state, 'reconnecting');
    assert.equal(sockets.length, 1, 'waits before the first attempt');
    timers.advance(499);
    assert.equal(sockets.length, 1);
    timers.advance(1);
    assert.equal(sockets.length, 2);
    assert.match(last().url, /token=tok%20en&resume=1$/);
    last().serverSends(joined(true));
    assert.equal(client.state, 'connected');
    assert.deepEqual(events, ['reconnecting 1 500', 'reconnected true']);
  });

  it('backs off between attempts and gives up after maxReconnectAttempts', async () => {
    const client = make({ maxReconnectAttempts: 3, reconnectBaseDelayMs: 100, reconnectMaxDelayMs: 250 });
    const delays: number[] = [];
    let closed = '';
    client.on('reconnecting', e => delays.push(e.delayMs));
    client.on('closed', e => { closed = e.reason; });
    const connected = client.connect();
    last().serverSends(joined());
    await connected;
    for (let i = 0; i < 3; i++) {
      last().drop(1006);
      timers.advance(1000);
    }
    last().drop(1006);
    assert.deepEqual(delays, [100, 200, 250]);
    assert.equal(sockets.length, 4);
    assert.equal(client.state, 'closed');
    assert.equal(closed, 'reconnect_failed');
    assert.equal(timers.count, 0, 'no timer left behind');
  });

  it('a successful resume resets the attempt count', async () => {
    const client = await joinedClient({ maxReconnectAttempts: 2 });
    for (let round = 0; round < 5; round++) {
      last().drop(1006);
      timers.advance(5000);
      last().serverSends(joined(true));
      assert.equal(client.state, 'connected', `round ${round}`);
    }
  });

  for (const [code, reason] of [[4001, 'removed'], [4002, 'room_closed'], [4003, 'replaced'], [1008, 'refused']] as const) {
    it(`does not reconnect after close code ${code}`, async () => {
      const client = make();
      let closed = '';
      client.on('closed', e => { closed = e.reason; });
      const connected = client.connect();
      last().serverSends(joined());
      await connected;
      last().drop(code);
      timers.advance(60_000);
      assert.equal(sockets.length, 1);
      assert.equal(client.state, 'closed');
      assert.equal(closed, reason);
    });
  }

  it('queues replayable messages while reconnecting and sends them after the resume', async () => {
    const client = await joinedClient();
    last().drop(1006);
    assert.equal(client.send({ type: 'chat', text: 'hello' }), true);
    assert.equal(client.send({ type: 'publish', sdp: 'v=0', tracks: {} }), false, 'offers for a lost connection are dropped');
    timers.advance(500);
    assert.deepEqual(last().sent, []);
    last().serverSends(joined(true));
    assert.deepEqual(last().sent, [{ type: 'chat', text: 'hello' }]);
  });

  it('pings after silence and treats a silent connection as lost', async () => {
    const client = await joinedClient({ pingIntervalMs: 1000, deadAfterMs: 3000 });
    const first = last();
    timers.advance(1000);
    assert.deepEqual(first.sent, [{ type: 'ping' }]);
    first.serverSends({ type: 'pong' });
    timers.advance(1000);
    assert.equal(first.sent.length, 2, 'pings again after another silent second');
    timers.advance(2000);
    assert.equal(first.closedWith, 4000, 'closed after 3 s without an answer');
    assert.equal(client.state, 'reconnecting');
    timers.advance(500);
    assert.equal(sockets.length, 2);
  });

  it('leave sends leave, closes and stops every timer', async () => {
    const client = make();
    let closed = '';
    client.on('closed', e => { closed = e.reason; });
    const connected = client.connect();
    last().serverSends(joined());
    await connected;
    client.leave();
    assert.deepEqual(last().sent, [{ type: 'leave' }]);
    assert.equal(last().closedWith, 1000);
    assert.equal(client.state, 'closed');
    assert.equal(closed, 'left');
    assert.equal(timers.count, 0);
    assert.equal(client.send({ type: 'chat', text: 'late' }), false);
  });

  it('leave while reconnecting cancels the pending attempt', async () => {
    const client = await joinedClient();
    last().drop(1006);
    client.leave();
    timers.advance(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(client.state, 'closed');
  });

  it('events from a replaced socket are ignored', async () => {
    const client = make();
    const connected = client.connect();
    const old = last();
    old.serverSends(joined());
    await connected;
    old.drop(1006);
    timers.advance(500);
    const seen: string[] = [];
    client.on('message', m => seen.push(m.type));
    old.serverSends({ type: 'chat', from: 'x', name: 'X', text: 'stale', time: 1 });
    old.drop(4001);
    assert.equal(client.state, 'reconnecting');
    assert.deepEqual(seen, []);
  });

  it('connect twice is refused', async () => {
    const client = make();
    void client.connect();
    await assert.rejects(client.connect(), /cannot connect while connecting/);
  });
});
