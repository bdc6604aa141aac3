import { Emitter } from './Emitter.js';
import { PublishConnection, type DataChannelMessage, type LocalPublication } from './PublishConnection.js';
import { RoomState, type Participant, type RoomChange } from './RoomState.js';
import { SignalingClient, type SignalingOptions } from './SignalingClient.js';
import { SubscribeConnection, type SubscribedTrack } from './SubscribeConnection.js';
import type { ChatMessage, ClientMessage, ConnectionQuality, LeaveReason, ParticipantMetadata, ServerMessage, TrackInfo, TrackSource } from './protocol.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface RoomOptions extends SignalingOptions {
  /** STUN/TURN servers for both PeerConnections (the server's `joined` may add its own). */
  iceServers?: RTCIceServer[];
  /** `relay` forces every path through TURN. */
  iceTransportPolicy?: RTCIceTransportPolicy;
}

/** A remote participant's media as received. */
export interface RemoteTrack {
  participant: Participant;
  /** What the publisher announced; undefined only for a moment around a resume. */
  info: TrackInfo | undefined;
  trackId: string;
  mediaStreamTrack: MediaStreamTrack;
}

export interface RoomEvents {
  connectionStateChanged: ConnectionState;
  participantJoined: Participant;
  participantLeft: { participant: Participant; reason: LeaveReason };
  participantUpdated: Participant;
  trackPublished: { participant: Participant; track: TrackInfo };
  trackUnpublished: { participant: Participant; track: TrackInfo };
  trackMuted: { participant: Participant; track: TrackInfo };
  /** Media of a remote track started arriving: attach `mediaStreamTrack` to an element. */
  trackSubscribed: RemoteTrack;
  trackUnsubscribed: RemoteTrack;
  activeSpeakers: Participant[];
  connectionQuality: { participant: Participant; quality: ConnectionQuality };
  chat: ChatMessage;
  reaction: { participant: Participant | undefined; from: string; emoji: string; time: number };
  data: DataChannelMessage;
  /** The host muted one of our tracks; it is already muted locally. */
  mutedByHost: { source: TrackSource | undefined; by: string };
  reconnecting: { attempt: number };
  reconnected: { resumed: boolean };
  /** The room ended for us: `left`, `removed`, `room_closed`, `replaced`, `refused`, `reconnect_failed`. */
  disconnected: { reason: string };
  /** The server refused a request (`code` as in docs/protocol.md). */
  error: { code: string; message: string };
}

/**
 * A participant's connection to one room: signaling, a publish and a subscribe PeerConnection.
 *
 * ```ts
 * const room = await Room.connect(ws_url, token);
 * room.on('trackSubscribed', ({ participant, mediaStreamTrack }) => attach(participant, mediaStreamTrack));
 * await room.publishMicrophone();
 * await room.publishCamera();
 * ```
 */
export class Room extends Emitter<RoomEvents> {
  readonly state = new RoomState();
  private readonly signaling: SignalingClient;
  private publisher: PublishConnection | null = null;
  private subscriber: SubscribeConnection | null = null;
  private configuration: RTCConfiguration;
  private connection: ConnectionState = 'connecting';
  private joinedOnce = false;
  private mediaFailed = false;
  /** What each remote track was announced as, kept until its media ends. */
  private readonly knownTracks = new Map<string, TrackInfo>();

  private constructor(wsUrl: string, token: string, private readonly options: RoomOptions) {
    super();
    this.configuration = { iceServers: options.iceServers ?? [], iceTransportPolicy: options.iceTransportPolicy ?? 'all' };
    this.signaling = new SignalingClient(wsUrl, token, options);
    this.signaling.on('message', message => this.onMessage(message));
    this.signaling.on('state', () => this.updateConnectionState());
    this.signaling.on('reconnecting', ({ attempt }) => {
      this.publisher?.abandonPendingOffer();
      this.emit('reconnecting', { attempt });
      this.updateConnectionState();
    });
    this.signaling.on('reconnected', ({ resumed }) => {
      this.emit('reconnected', { resumed });
      this.updateConnectionState();
    });
    this.signaling.on('closed', ({ reason }) => {
      this.closeMedia();
      this.updateConnectionState();
      this.emit('disconnected', { reason });
    });
  }

  /** Joins the room `token` names at the sfuserver's `wsUrl` (from the apiserver's join answer). */
  static async connect(wsUrl: string, token: string, options: RoomOptions = {}): Promise<Room> {
    const room = new Room(wsUrl, token, options);
    await room.signaling.connect();
    return room;
  }

  get connectionState(): ConnectionState {
    return this.connection;
  }
  get localParticipant(): Participant {
    return this.state.local!;
  }
  get participants(): Participant[] {
    return [...this.state.remote.values()];
  }
  get activeSpeakers(): Participant[] {
    return this.state.activeSpeakers;
  }
  get roomName(): string {
    return this.state.roomName;
  }
  /** Media currently received, one entry per remote track. */
  get remoteTracks(): RemoteTrack[] {
    return (this.subscriber?.tracks ?? []).map(t => this.remoteTrack(t)).filter((t): t is RemoteTrack => !!t);
  }
  publication(source: TrackSource): LocalPublication | undefined {
    return this.publisher?.publications.get(source);
  }
  /** The underlying PeerConnections, for `getStats()`. */
  get peerConnections(): { publish: RTCPeerConnection | null; subscribe: RTCPeerConnection | null } {
    return { publish: this.publisher?.pc ?? null, subscribe: this.subscriber?.pc ?? null };
  }

  /** Sends `track` as `source`; publishing a source again swaps its track without renegotiating. */
  async publishTrack(source: TrackSource, track: MediaStreamTrack, options: { muted?: boolean; stream?: MediaStream } = {}): Promise<LocalPublication> {
    const muted = options.muted ?? false;
    track.enabled = !muted;
    const publication = await this.requirePublisher().publish(source, track, options.stream ?? new MediaStream([track]), muted);
    if (source === 'screen') track.addEventListener('ended', () => { void this.unpublish('screen'); }, { once: true });
    return publication;
  }

  /** Opens a camera and publishes it. */
  async publishCamera(constraints: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } }): Promise<LocalPublication> {
    const stream = await navigator.mediaDevices.getUserMedia({ video: constraints });
    return this.publishTrack('camera', stream.getVideoTracks()[0]!, { stream });
  }

  /** Opens a microphone and publishes it. */
  async publishMicrophone(constraints: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true }): Promise<LocalPublication> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: constraints });
    return this.publishTrack('microphone', stream.getAudioTracks()[0]!, { stream });
  }

  /** Shares a screen, window or tab (the browser asks which); it stops when the user ends it. */
  async publishScreen(): Promise<LocalPublication> {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    return this.publishTrack('screen', stream.getVideoTracks()[0]!, { stream });
  }

  /** Stops sending `source` and stops its local track. */
  async unpublish(source: TrackSource): Promise<void> {
    const publication = this.publisher?.publications.get(source);
    if (!publication) return;
    publication.track?.stop();
    await this.publisher!.unpublish(source);
  }

  /** Switches the device behind `source` (e.g. another camera) without renegotiating. */
  async switchTrack(source: TrackSource, track: MediaStreamTrack): Promise<void> {
    const publication = this.requirePublisher().publications.get(source);
    if (!publication) throw new Error(`nothing published as ${source}`);
    const old = publication.track;
    track.enabled = !publication.muted;
    await this.publisher!.replaceTrack(source, track);
    if (old && old !== track) old.stop();
  }

  /** Mutes or unmutes a published source; everyone sees the new state. */
  setMuted(source: TrackSource, muted: boolean): void {
    const publication = this.publisher?.setMuted(source, muted);
    if (!publication) return;
    if (publication.track) publication.track.enabled = !muted;
    if (publication.trackId) this.send({ type: 'mute', trackId: publication.trackId, muted });
  }

  sendChat(text: string): boolean {
    return this.send({ type: 'chat', text });
  }
  /** Data to every other participant: reliable and ordered, or lossy (unordered, no retransmission). */
  sendData(data: string | ArrayBuffer | ArrayBufferView, options: { lossy?: boolean } = {}): boolean {
    return this.publisher?.sendData(data, options.lossy ?? false) ?? false;
  }
  /** Replaces our metadata (e.g. `{handRaised: true}`); everyone gets `participantUpdated`. */
  setMetadata(metadata: ParticipantMetadata): boolean {
    return this.send({ type: 'updateMetadata', metadata });
  }
  react(emoji: string): boolean {
    return this.send({ type: 'reaction', emoji });
  }
  /** Host only: mutes another participant's track. */
  muteParticipant(identity: string, trackId: string): boolean {
    return this.send({ type: 'muteParticipant', identity, trackId });
  }
  /** Stops (or restarts) receiving a remote track. */
  setSubscribed(trackId: string, subscribe: boolean): boolean {
    return this.send({ type: 'subscription', trackId, subscribe });
  }
  /** Pauses a received track without renegotiating (e.g. a tile scrolled out of view). */
  setPaused(trackId: string, paused: boolean): boolean {
    return this.send({ type: 'pause', trackId, paused });
  }

  /** Leaves the room and stops every local track. */
  leave(): void {
    for (const publication of this.publisher?.publications.values() ?? []) publication.track?.stop();
    this.signaling.leave();
  }

  private send(message: ClientMessage): boolean {
    return this.signaling.send(message);
  }

  private requirePublisher(): PublishConnection {
    if (!this.publisher) throw new Error(this.signaling.state === 'closed' ? 'the room connection is closed' : 'not joined yet');
    return this.publisher;
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'joined':
        this.onJoined(message);
        return;
      case 'publishAnswer':
        this.publisher?.onAnswer(message.sdp);
        return;
      case 'subscribeOffer':
        this.requireSubscriber().onOffer(message.sdp, message.version, message.tracks).catch(error => {
          this.emit('error', { code: 'subscribe_failed', message: String(error) });
        });
        return;
      case 'error':
        this.emit('error', { code: message.code, message: message.message ?? message.code });
        return;
      default:
        break;
    }
    for (const change of this.state.apply(message)) this.onChange(change);
  }

  private onJoined(message: ServerMessage & { type: 'joined' }): void {
    if (Array.isArray(message.iceServers) && message.iceServers.length) {
      this.configuration = { ...this.configuration, iceServers: [...(this.options.iceServers ?? []), ...message.iceServers] };
    }
    const first = !this.joinedOnce;
    this.joinedOnce = true;
    if (!first && !message.resumed) {
      // The server gave our place away (the grace ran out): start over with the same local tracks.
      const republish = [...(this.publisher?.publications.values() ?? [])].map(p => ({ source: p.source, track: p.track, muted: p.muted }));
      this.closeMedia();
      for (const change of this.state.reset()) this.onChange(change);
      for (const change of this.state.apply(message)) this.onChange(change);
      this.createPublisher();
      for (const { source, track, muted } of republish) {
        if (track && track.readyState === 'live') void this.publishTrack(source, track, { muted }).catch(() => { /* reported as error events */ });
      }
      return;
    }
    for (const change of this.state.apply(message)) this.onChange(change);
    if (first) {
      this.createPublisher();
      return;
    }
    // Resumed: our tracks kept their ids; move the publish side to a fresh ICE path.
    for (const track of this.state.local?.tracks.values() ?? []) this.bindTrackId(track);
    void this.publisher?.restartIce().catch(() => { /* a later failure retries */ });
  }

  private createPublisher(): void {
    this.publisher = new PublishConnection(this.configuration, m => this.send(m), data => this.emit('data', data));
    this.publisher.pc.addEventListener('connectionstatechange', () => this.onMediaState());
    // The data channels need a negotiated section even before any media is published.
    void this.publisher.negotiate().catch(() => { /* retried by the next publish */ });
  }

  private requireSubscriber(): SubscribeConnection {
    if (!this.subscriber) {
      this.subscriber = new SubscribeConnection(this.configuration, m => this.send(m),
        track => { const remote = this.remoteTrack(track); if (remote) this.emit('trackSubscribed', remote); },
        track => {
          const remote = this.remoteTrack(track);
          this.knownTracks.delete(track.trackId);
          if (remote) this.emit('trackUnsubscribed', remote);
        });
      this.subscriber.pc.addEventListener('connectionstatechange', () => this.onMediaState());
    }
    return this.subscriber;
  }

  private remoteTrack(track: SubscribedTrack): RemoteTrack | undefined {
    const participant = this.state.remote.get(track.identity);
    if (!participant) return undefined;
    const info = participant.tracks.get(track.trackId) ?? this.knownTracks.get(track.trackId);
    if (info) this.knownTracks.set(track.trackId, info);
    return { participant, info, trackId: track.trackId, mediaStreamTrack: track.track };
  }

  private onChange(change: RoomChange): void {
    switch (change.type) {
      case 'participantJoined': this.emit('participantJoined', change.participant); break;
      case 'participantLeft': this.emit('participantLeft', { participant: change.participant, reason: change.reason }); break;
      case 'participantUpdated': this.emit('participantUpdated', change.participant); break;
      case 'trackPublished':
        if (change.participant === this.state.local) this.bindTrackId(change.track);
        this.emit('trackPublished', { participant: change.participant, track: change.track });
        break;
      case 'trackUnpublished': this.emit('trackUnpublished', { participant: change.participant, track: change.track }); break;
      case 'trackMuted': this.emit('trackMuted', { participant: change.participant, track: change.track }); break;
      case 'activeSpeakers': this.emit('activeSpeakers', change.speakers); break;
      case 'connectionQuality': this.emit('connectionQuality', { participant: change.participant, quality: change.quality }); break;
      case 'chat': this.emit('chat', change.message); break;
      case 'reaction': this.emit('reaction', { participant: change.participant, from: change.from, emoji: change.emoji, time: change.time }); break;
      case 'mutedByHost': {
        const source = change.track?.source;
        if (source) {
          const publication = this.publisher?.setMuted(source, true);
          if (publication?.track) publication.track.enabled = false;
        }
        this.emit('mutedByHost', { source, by: change.by });
        break;
      }
    }
  }

  // The server names our tracks; remember the id so mute messages can refer to them.
  private bindTrackId(track: TrackInfo): void {
    const publication = this.publisher?.publications.get(track.source);
    if (!publication) return;
    const wasUnknown = publication.trackId === null;
    publication.trackId = track.id;
    // A mute chosen before the server knew the track (e.g. joining muted) is announced now.
    if (wasUnknown && publication.muted !== track.muted) this.send({ type: 'mute', trackId: track.id, muted: publication.muted });
  }

  // A failed ICE path: the publish side restarts ICE itself; the subscribe side is offered by the
  // server, which restarts ICE when we resume, so a lost subscribe path drops and resumes signaling.
  private onMediaState(): void {
    const publish = this.publisher?.pc.connectionState;
    const subscribe = this.subscriber?.pc.connectionState;
    this.mediaFailed = publish === 'failed' || subscribe === 'failed' || publish === 'disconnected' || subscribe === 'disconnected';
    if (this.signaling.state === 'connected') {
      if (publish === 'failed') void this.publisher?.restartIce().catch(() => { /* retried on the next failure */ });
      if (subscribe === 'failed') this.signaling.reconnectNow();
    }
    this.updateConnectionState();
  }

  private updateConnectionState(): void {
    const signaling = this.signaling.state;
    let next: ConnectionState;
    if (signaling === 'closed') next = 'disconnected';
    else if (signaling === 'reconnecting' || (signaling === 'connected' && this.mediaFailed)) next = 'reconnecting';
    else if (signaling === 'connected') next = 'connected';
    else next = 'connecting';
    if (next === this.connection) return;
    this.connection = next;
    this.emit('connectionStateChanged', next);
  }

  private closeMedia(): void {
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    this.mediaFailed = false;
  }
}
