import type { ChatMessage, ConnectionQuality, LeaveReason, ParticipantInfo, ParticipantMetadata, ServerMessage, TrackInfo } from './protocol.js';

/** What the room knows about one participant (the local one included). */
export interface Participant {
  readonly identity: string;
  name: string;
  admin: boolean;
  metadata: ParticipantMetadata;
  /** Published tracks by track id. */
  tracks: Map<string, TrackInfo>;
  /** The latest quality the server reported; `excellent` until it says otherwise. */
  quality: ConnectionQuality;
  /** Speaking level 0..1 while in the active speakers, else 0. */
  audioLevel: number;
  isSpeaking: boolean;
}

/** A change of the room's model, produced by applying a server message. */
export type RoomChange =
  | { type: 'participantJoined'; participant: Participant }
  | { type: 'participantLeft'; participant: Participant; reason: LeaveReason }
  | { type: 'participantUpdated'; participant: Participant }
  | { type: 'trackPublished'; participant: Participant; track: TrackInfo }
  | { type: 'trackUnpublished'; participant: Participant; track: TrackInfo }
  | { type: 'trackMuted'; participant: Participant; track: TrackInfo }
  | { type: 'activeSpeakers'; speakers: Participant[] }
  | { type: 'connectionQuality'; participant: Participant; quality: ConnectionQuality }
  | { type: 'chat'; message: ChatMessage }
  | { type: 'reaction'; participant: Participant | undefined; from: string; emoji: string; time: number }
  | { type: 'mutedByHost'; track: TrackInfo | undefined; by: string };

function toParticipant(info: ParticipantInfo, previous?: Participant): Participant {
  return {
    identity: info.identity,
    name: typeof info.name === 'string' && info.name ? info.name : info.identity,
    admin: info.admin === true,
    metadata: info.metadata && typeof info.metadata === 'object' ? info.metadata : {},
    tracks: new Map((Array.isArray(info.tracks) ? info.tracks : []).map(t => [t.id, { ...t }])),
    quality: previous?.quality ?? 'excellent',
    audioLevel: previous?.audioLevel ?? 0,
    isSpeaking: previous?.isSpeaking ?? false,
  };
}

/**
 * The room as the server describes it: participants, their tracks, speakers and quality.
 * Pure bookkeeping with no WebRTC, so the reconciliation after a resume is testable in node.
 */
export class RoomState {
  readonly remote = new Map<string, Participant>();
  local: Participant | null = null;
  roomName = '';
  private speakers: string[] = [];

  get activeSpeakers(): Participant[] {
    return this.speakers.map(id => this.find(id)).filter((p): p is Participant => !!p);
  }

  find(identity: string): Participant | undefined {
    if (this.local && this.local.identity === identity) return this.local;
    return this.remote.get(identity);
  }

  /** Applies one server message; returns what changed (empty for messages about transports). */
  apply(message: ServerMessage): RoomChange[] {
    switch (message.type) {
      case 'joined': return this.onJoined(message);
      case 'participantJoined': {
        const previous = this.remote.get(message.participant.identity);
        const participant = toParticipant(message.participant, previous);
        this.remote.set(participant.identity, participant);
        return [previous ? { type: 'participantUpdated', participant } : { type: 'participantJoined', participant }];
      }
      case 'participantLeft': {
        const participant = this.remote.get(message.identity);
        if (!participant) return [];
        this.remote.delete(message.identity);
        this.speakers = this.speakers.filter(id => id !== message.identity);
        return [{ type: 'participantLeft', participant, reason: message.reason }];
      }
      case 'participantUpdated': {
        const info = message.participant;
        const previous = this.find(info.identity);
        if (!previous) return [];
        previous.name = info.name || previous.name;
        previous.admin = info.admin === true;
        previous.metadata = info.metadata && typeof info.metadata === 'object' ? info.metadata : {};
        return [{ type: 'participantUpdated', participant: previous }];
      }
      case 'trackPublished': {
        const participant = this.find(message.identity);
        if (!participant) return [];
        participant.tracks.set(message.track.id, { ...message.track });
        return [{ type: 'trackPublished', participant, track: message.track }];
      }
      case 'trackUnpublished': {
        const participant = this.find(message.identity);
        const track = participant?.tracks.get(message.trackId);
        if (!participant || !track) return [];
        participant.tracks.delete(message.trackId);
        return [{ type: 'trackUnpublished', participant, track }];
      }
      case 'trackMuted': {
        const participant = this.find(message.identity);
        const track = participant?.tracks.get(message.trackId);
        if (!participant || !track) return [];
        track.muted = message.muted === true;
        return [{ type: 'trackMuted', participant, track }];
      }
      case 'mutedByHost':
        return [{ type: 'mutedByHost', track: this.local?.tracks.get(message.trackId), by: message.by }];
      case 'activeSpeakers': return this.onActiveSpeakers(message.speakers);
      case 'connectionQuality': {
        const changes: RoomChange[] = [];
        for (const update of Array.isArray(message.updates) ? message.updates : []) {
          const participant = this.find(update.identity);
          if (!participant || participant.quality === update.quality) continue;
          participant.quality = update.quality;
          changes.push({ type: 'connectionQuality', participant, quality: update.quality });
        }
        return changes;
      }
      case 'chat':
        return [{ type: 'chat', message: { from: message.from, name: message.name, text: message.text, time: message.time } }];
      case 'reaction':
        return [{ type: 'reaction', participant: this.find(message.from), from: message.from, emoji: message.emoji, time: message.time }];
      default:
        return [];
    }
  }

  /** Forgets every remote participant (the server gave our place away); returns their departures. */
  reset(): RoomChange[] {
    const changes: RoomChange[] = [...this.remote.values()].map(participant => ({ type: 'participantLeft', participant, reason: 'disconnected' }) as const);
    this.remote.clear();
    this.speakers = [];
    return changes;
  }

  // A first join fills the model; a resume reconciles it with who is there now: people who left
  // while we were away leave, newcomers join, the rest keep their objects (the UI keeps its tiles).
  private onJoined(message: ServerMessage & { type: 'joined' }): RoomChange[] {
    this.roomName = message.room;
    const self = toParticipant(message.self, this.local ?? undefined);
    if (this.local && message.resumed && !Array.isArray(message.self.tracks)) self.tracks = this.local.tracks;
    this.local = self;
    const changes: RoomChange[] = [];
    const present = new Set<string>();
    for (const info of Array.isArray(message.participants) ? message.participants : []) {
      present.add(info.identity);
      const previous = this.remote.get(info.identity);
      const participant = toParticipant(info, previous);
      this.remote.set(info.identity, participant);
      if (!previous) {
        changes.push({ type: 'participantJoined', participant });
        continue;
      }
      for (const track of participant.tracks.values()) {
        const old = previous.tracks.get(track.id);
        if (!old) changes.push({ type: 'trackPublished', participant, track });
        else if (old.muted !== track.muted) changes.push({ type: 'trackMuted', participant, track });
      }
      for (const track of previous.tracks.values()) {
        if (!participant.tracks.has(track.id)) changes.push({ type: 'trackUnpublished', participant, track });
      }
      changes.push({ type: 'participantUpdated', participant });
    }
    for (const [identity, participant] of [...this.remote]) {
      if (present.has(identity)) continue;
      this.remote.delete(identity);
      changes.push({ type: 'participantLeft', participant, reason: 'left' });
    }
    this.speakers = this.speakers.filter(id => present.has(id));
    return changes;
  }

  private onActiveSpeakers(list: { identity: string; level: number }[]): RoomChange[] {
    const speakers = Array.isArray(list) ? list : [];
    for (const participant of [this.local, ...this.remote.values()]) {
      if (!participant) continue;
      participant.isSpeaking = false;
      participant.audioLevel = 0;
    }
    this.speakers = [];
    for (const speaker of speakers) {
      const participant = this.find(speaker.identity);
      if (!participant) continue;
      participant.isSpeaking = true;
      participant.audioLevel = Math.max(0, Math.min(1, Number(speaker.level) || 0));
      this.speakers.push(participant.identity);
    }
    return [{ type: 'activeSpeakers', speakers: this.activeSpeakers }];
  }
}
