import type { ClientMessage, TrackSource } from './protocol.js';

/** One local track being sent: the transceiver carries it; `trackId` comes from the server. */
export interface LocalPublication {
  source: TrackSource;
  track: MediaStreamTrack | null;
  transceiver: RTCRtpTransceiver;
  muted: boolean;
  /** The server's id for the track, known once it announced the track (`trackPublished`). */
  trackId: string | null;
}

export interface DataChannelMessage {
  /** Label of the channel it arrived on: `data` (reliable, ordered) or `lossy`. */
  channel: string;
  data: string | ArrayBuffer;
}

/**
 * The publish PeerConnection: the client offers, the server answers. Offers are serialized (one
 * outstanding, the next waits for the answer), so there is never glare on this side.
 */
export class PublishConnection {
  readonly pc: RTCPeerConnection;
  readonly publications = new Map<TrackSource, LocalPublication>();
  private readonly infoByMid = new Map<string, { source: TrackSource; muted: boolean }>();
  private chain: Promise<void> = Promise.resolve();
  private answerWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly channels: RTCDataChannel[] = [];

  constructor(configuration: RTCConfiguration, private readonly send: (message: ClientMessage) => boolean,
              onData: (message: DataChannelMessage) => void) {
    this.pc = new RTCPeerConnection({ ...configuration, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    // Two channels, so senders choose per message: reliable and ordered, or lossy and fast.
    this.channels.push(this.pc.createDataChannel('data', { ordered: true }));
    this.channels.push(this.pc.createDataChannel('lossy', { ordered: false, maxRetransmits: 0 }));
    for (const channel of this.channels) {
      channel.binaryType = 'arraybuffer';
      channel.onmessage = event => onData({ channel: channel.label, data: event.data });
    }
  }

  /** Starts sending `track` as `source` (replacing what that source sent before). */
  async publish(source: TrackSource, track: MediaStreamTrack, stream: MediaStream, muted = false): Promise<LocalPublication> {
    const existing = this.publications.get(source);
    if (existing) {
      await existing.transceiver.sender.replaceTrack(track);
      existing.track = track;
      return existing;
    }
    const encodings = track.kind === 'video' && source === 'screen' ? [{ maxBitrate: 2_500_000 }] : undefined;
    const transceiver = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], ...(encodings ? { sendEncodings: encodings } : {}) });
    if (source === 'screen' && 'contentHint' in track) track.contentHint = 'detail';
    const publication: LocalPublication = { source, track, transceiver, muted, trackId: null };
    this.publications.set(source, publication);
    await this.negotiate();
    return publication;
  }

  /** Stops sending `source`; its section ends (the server unpublishes the track). */
  async unpublish(source: TrackSource): Promise<void> {
    const publication = this.publications.get(source);
    if (!publication) return;
    this.publications.delete(source);
    publication.transceiver.stop();
    await this.negotiate();
  }

  /** Swaps the sent track without renegotiating (a device switch, or camera off with `null`). */
  async replaceTrack(source: TrackSource, track: MediaStreamTrack | null): Promise<void> {
    const publication = this.publications.get(source);
    if (!publication) throw new Error(`nothing published as ${source}`);
    await publication.transceiver.sender.replaceTrack(track);
    publication.track = track;
  }

  setMuted(source: TrackSource, muted: boolean): LocalPublication | undefined {
    const publication = this.publications.get(source);
    if (!publication) return undefined;
    publication.muted = muted;
    const mid = publication.transceiver.mid;
    if (mid) this.infoByMid.set(mid, { source, muted });
    return publication;
  }

  sendData(data: string | ArrayBuffer | ArrayBufferView, lossy: boolean): boolean {
    const channel = this.channels[lossy ? 1 : 0];
    if (!channel || channel.readyState !== 'open') return false;
    channel.send(data as never);
    return true;
  }

  /** A fresh ICE path: after a resume or when the connection failed. */
  restartIce(): Promise<void> {
    this.pc.restartIce();
    return this.negotiate();
  }

  onAnswer(sdp: string): void {
    const waiter = this.answerWaiter;
    this.answerWaiter = null;
    if (!waiter) return;
    this.pc.setRemoteDescription({ type: 'answer', sdp }).then(waiter.resolve, waiter.reject);
  }

  /** An offer lost with a dropped signaling connection will never be answered: give up on it. */
  abandonPendingOffer(): void {
    this.answerWaiter?.reject(new Error('signaling connection lost'));
    this.answerWaiter = null;
  }

  /** Sends an offer describing every sending section (mid → source and mute state). */
  negotiate(): Promise<void> {
    const run = async () => {
      if (this.pc.signalingState === 'closed') return;
      if (this.pc.signalingState === 'have-local-offer') await this.pc.setLocalDescription({ type: 'rollback' });
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      const tracks: Record<string, { source: TrackSource; muted: boolean }> = {};
      for (const publication of this.publications.values()) {
        const mid = publication.transceiver.mid;
        if (mid) this.infoByMid.set(mid, { source: publication.source, muted: publication.muted });
      }
      for (const transceiver of this.pc.getTransceivers()) {
        const info = transceiver.mid ? this.infoByMid.get(transceiver.mid) : undefined;
        if (info && transceiver.mid && transceiver.currentDirection !== 'stopped' && transceiver.direction !== 'stopped') tracks[transceiver.mid] = info;
      }
      const answered = new Promise<void>((resolve, reject) => { this.answerWaiter = { resolve, reject }; });
      if (!this.send({ type: 'publish', sdp: this.pc.localDescription!.sdp, tracks })) {
        this.answerWaiter = null;
        throw new Error('signaling is not connected');
      }
      await answered;
    };
    const next = this.chain.then(run);
    this.chain = next.catch(() => { /* the caller sees this failure; the next offer starts clean */ });
    return next;
  }

  close(): void {
    this.abandonPendingOffer();
    for (const channel of this.channels) channel.close();
    this.pc.close();
  }
}
