// Messages of the rooms signaling protocol, version 1 (docs/protocol.md, "Rooms").
// Fields may be added within a version, so every reader tolerates unknown fields.

export const ProtocolVersion = 1;

export type TrackSource = 'camera' | 'microphone' | 'screen' | 'screen_audio';
export type TrackKind = 'audio' | 'video';

export interface TrackInfo {
  id: string;
  kind: TrackKind;
  source: TrackSource;
  muted: boolean;
}

/** Free-form participant state shared with everyone (at most 1 KiB serialized). */
export type ParticipantMetadata = Record<string, unknown>;

export interface ParticipantInfo {
  identity: string;
  name: string;
  tracks: TrackInfo[];
  metadata?: ParticipantMetadata;
  /** The participant holds the roomAdmin grant (the meeting's host). */
  admin?: boolean;
}

export type ConnectionQuality = 'excellent' | 'good' | 'poor' | 'lost';

export type LeaveReason = 'left' | 'timeout' | 'disconnected' | 'replaced' | 'removed' | 'room_closed';

export interface ChatMessage {
  from: string;
  name: string;
  text: string;
  /** Unix milliseconds, set by the server. */
  time: number;
}

export type ServerMessage =
  | { type: 'joined'; protocol: number; room: string; resumed: boolean; self: ParticipantInfo; participants: ParticipantInfo[]; iceServers?: RTCIceServer[] }
  | { type: 'publishAnswer'; sdp: string }
  | { type: 'subscribeOffer'; sdp: string; version: number; tracks?: Record<string, { trackId: string; identity: string }> }
  | { type: 'participantJoined'; participant: ParticipantInfo }
  | { type: 'participantLeft'; identity: string; reason: LeaveReason }
  | { type: 'participantUpdated'; participant: ParticipantInfo }
  | { type: 'trackPublished'; identity: string; track: TrackInfo }
  | { type: 'trackUnpublished'; identity: string; trackId: string }
  | { type: 'trackMuted'; identity: string; trackId: string; muted: boolean }
  | { type: 'mutedByHost'; trackId: string; by: string }
  | ({ type: 'chat' } & ChatMessage)
  | { type: 'reaction'; from: string; emoji: string; time: number }
  | { type: 'activeSpeakers'; speakers: { identity: string; level: number }[] }
  | { type: 'connectionQuality'; updates: { identity: string; quality: ConnectionQuality; score?: number }[] }
  | { type: 'subscriptionUpdated'; trackId: string; subscribed: boolean; paused: boolean }
  | { type: 'transportState'; transport: 'publish' | 'subscribe'; state: string }
  | { type: 'pong' }
  | { type: 'error'; code: string; message?: string };

export type ClientMessage =
  | { type: 'publish'; sdp: string; tracks: Record<string, { source: TrackSource; muted: boolean }> }
  | { type: 'subscribeAnswer'; sdp: string; version: number }
  | { type: 'mute'; trackId: string; muted: boolean }
  | { type: 'chat'; text: string }
  | { type: 'subscription'; trackId: string; subscribe: boolean }
  | { type: 'pause'; trackId: string; paused: boolean }
  | { type: 'updateMetadata'; metadata: ParticipantMetadata }
  | { type: 'reaction'; emoji: string }
  | { type: 'muteParticipant'; identity: string; trackId: string }
  | { type: 'leave' }
  | { type: 'ping' };

/** WebSocket close codes after which reconnecting cannot succeed (docs/protocol.md). */
export const FinalCloseCodes: ReadonlyMap<number, string> = new Map([
  [1008, 'refused'],
  [4001, 'removed'],
  [4002, 'room_closed'],
  [4003, 'replaced'],
]);

/** Checks the shape every server message shares; the fields of each type are read defensively. */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  if (typeof (value as { type?: unknown }).type !== 'string') return null;
  return value as ServerMessage;
}
