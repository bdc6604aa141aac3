import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RoomState } from '../src/RoomState.js';
import type { ParticipantInfo, ServerMessage, TrackInfo } from '../src/protocol.js';

const mic = (id: string, muted = false): TrackInfo => ({ id, kind: 'audio' as const, source: 'microphone' as const, muted });
const cam = (id: string): TrackInfo => ({ id, kind: 'video' as const, source: 'camera' as const, muted: false });
const person = (identity: string, tracks: TrackInfo[] = [mic(`${identity}-a`)]): ParticipantInfo => ({ identity, name: identity.toUpperCase(), tracks });
const joined = (participants: ParticipantInfo[], resumed = false): ServerMessage =>
  ({ type: 'joined', protocol: 1, room: 'r1', resumed, self: { identity: 'me', name: 'Me', tracks: [] }, participants });

describe('RoomState', () => {
  it('fills the model on join and announces everyone', () => {
    const state = new RoomState();
    const changes = state.apply(joined([person('ann'), person('ben')]));
    assert.deepEqual(changes.map(c => c.type), ['participantJoined', 'participantJoined']);
    assert.equal(state.roomName, 'r1');
    assert.equal(state.local?.identity, 'me');
    assert.equal(state.remote.get('ann')?.tracks.size, 1);
  });

  it('tracks join, leave, publish, mute and unpublish', () => {
    const state = new RoomState();
    state.apply(joined([]));
    assert.equal(state.apply({ type: 'participantJoined', participant: person('ann', []) })[0]?.type, 'participantJoined');
    state.apply({ type: 'trackPublished', identity: 'ann', track: cam('c1') });
    state.apply({ type: 'trackMuted', identity: 'ann', trackId: 'c1', muted: true });
    assert.equal(state.remote.get('ann')?.tracks.get('c1')?.muted, true);
    const gone = state.apply({ type: 'trackUnpublished', identity: 'ann', trackId: 'c1' });
    assert.equal(gone[0]?.type, 'trackUnpublished');
    const left = state.apply({ type: 'participantLeft', identity: 'ann', reason: 'removed' });
    assert.equal(left[0]?.type === 'participantLeft' && left[0].reason, 'removed');
    assert.equal(state.remote.size, 0);
  });

  it('ignores messages about unknown participants and tracks', () => {
    const state = new RoomState();
    state.apply(joined([person('ann')]));
    assert.deepEqual(state.apply({ type: 'participantLeft', identity: 'zed', reason: 'left' }), []);
    assert.deepEqual(state.apply({ type: 'trackMuted', identity: 'ann', trackId: 'nope', muted: true }), []);
    assert.deepEqual(state.apply({ type: 'trackPublished', identity: 'zed', track: cam('x') }), []);
    assert.deepEqual(state.apply({ type: 'participantUpdated', participant: person('zed') }), []);
  });

  it('a resume reconciles: leavers leave, newcomers join, stayers keep their objects', () => {
    const state = new RoomState();
    state.apply(joined([person('ann'), person('ben', [mic('b-a'), cam('b-v')])]));
    const ben = state.remote.get('ben');
    const changes = state.apply(joined([person('ben', [mic('b-a', true)]), person('cat')], true));
    const summary = changes.map(c => `${c.type}:${'participant' in c && c.participant ? c.participant.identity : ''}`);
    assert.ok(summary.includes('participantLeft:ann'));
    assert.ok(summary.includes('participantJoined:cat'));
    assert.ok(summary.includes('trackMuted:ben'));
    assert.ok(summary.includes('trackUnpublished:ben'));
    assert.ok(!summary.includes('participantJoined:ben'), 'ben stayed: no second join');
    assert.equal(state.remote.get('ben')?.identity, ben?.identity);
  });

  it('reset forgets everyone with a departure each', () => {
    const state = new RoomState();
    state.apply(joined([person('ann'), person('ben')]));
    const changes = state.reset();
    assert.equal(changes.length, 2);
    assert.equal(state.remote.size, 0);
  });

  it('active speakers: ordered, clamped, cleared by an empty list', () => {
    const state = new RoomState();
    state.apply(joined([person('ann'), person('ben')]));
    state.apply({ type: 'activeSpeakers', speakers: [{ identity: 'ben', level: 2 }, { identity: 'ghost', level: 0.5 }, { identity: 'ann', level: 0.3 }] });
    assert.deepEqual(state.activeSpeakers.map(p => p.identity), ['ben', 'ann']);
    assert.equal(state.remote.get('ben')?.audioLevel, 1);
    assert.equal(state.remote.get('ben')?.isSpeaking, true);
    state.apply({ type: 'activeSpeakers', speakers: [] });
    assert.equal(state.activeSpeakers.length, 0);
    assert.equal(state.remote.get('ben')?.isSpeaking, false);
  });

  it('connection quality reports only changes', () => {
    const state = new RoomState();
    state.apply(joined([person('ann')]));
    const first = state.apply({ type: 'connectionQuality', updates: [{ identity: 'ann', quality: 'poor' }, { identity: 'me', quality: 'excellent' }] });
    assert.deepEqual(first.map(c => c.type === 'connectionQuality' && `${c.participant.identity}:${c.quality}`), ['ann:poor']);
    assert.equal(state.apply({ type: 'connectionQuality', updates: [{ identity: 'ann', quality: 'poor' }] }).length, 0);
  });

  it('metadata updates replace the object and keep the tracks', () => {
    const state = new RoomState();
    state.apply(joined([person('ann')]));
    const changes = state.apply({ type: 'participantUpdated', participant: { identity: 'ann', name: 'Ann B', tracks: [], metadata: { handRaised: true }, admin: true } });
    assert.equal(changes[0]?.type, 'participantUpdated');
    const ann = state.remote.get('ann')!;
    assert.equal(ann.name, 'Ann B');
    assert.equal(ann.metadata.handRaised, true);
    assert.equal(ann.admin, true);
    assert.equal(ann.tracks.size, 1);
  });

  it('host mute names our own track', () => {
    const state = new RoomState();
    state.apply(joined([]));
    state.apply({ type: 'trackPublished', identity: 'me', track: mic('m1') });
    const changes = state.apply({ type: 'mutedByHost', trackId: 'm1', by: 'host' });
    assert.equal(changes[0]?.type === 'mutedByHost' && changes[0].track?.source, 'microphone');
  });
});
