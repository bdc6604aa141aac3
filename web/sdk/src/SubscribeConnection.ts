import type { ClientMessage } from './protocol.js';

/** A remote track arriving on the subscribe PeerConnection. */
export interface SubscribedTrack {
  identity: string;
  trackId: string;
  track: MediaStreamTrack;
  mid: string;
}

/**
 * The subscribe PeerConnection: the server offers (one offer outstanding at a time), the
 * client answers. Each section names the track it carries in the offer's `tracks` map.
 */
export class SubscribeConnection {
  readonly pc: RTCPeerConnection;
  private readonly trackByMid = new Map<string, { trackId: string; identity: string }>();
  private readonly live = new Map<string, SubscribedTrack>();
  private chain: Promise<void> = Promise.resolve();

  constructor(configuration: RTCConfiguration, private readonly send: (message: ClientMessage) => boolean,
              private readonly onTrack: (track: SubscribedTrack) => void,
              private readonly onTrackEnded: (track: SubscribedTrack) => void) {
    this.pc = new RTCPeerConnection({ ...configuration, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc.ontrack = event => {
      const mid = event.transceiver.mid;
      const info = mid ? this.trackByMid.get(mid) : undefined;
      if (!mid || !info) return;
      const subscribed: SubscribedTrack = { ...info, track: event.track, mid };
      this.live.set(mid, subscribed);
      this.onTrack(subscribed);
    };
  }

  /** The track received for a server track id, if any. */
  trackFor(trackId: string): SubscribedTrack | undefined {
    for (const subscribed of this.live.values()) if (subscribed.trackId === trackId) return subscribed;
    return undefined;
  }

  get tracks(): SubscribedTrack[] {
    return [...this.live.values()];
  }

  onOffer(sdp: string, version: number, tracks: Record<string, { trackId: string; identity: string }> | undefined): Promise<void> {
    const run = async () => {
      if (this.pc.signalingState === 'closed') return;
      for (const [mid, info] of Object.entries(tracks ?? {})) this.trackByMid.set(mid, info);
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.send({ type: 'subscribeAnswer', sdp: this.pc.localDescription!.sdp, version });
      // Sections the server made inactive no longer carry their track.
      for (const transceiver of this.pc.getTransceivers()) {
        const mid = transceiver.mid;
        const subscribed = mid ? this.live.get(mid) : undefined;
        if (!mid || !subscribed) continue;
        const direction = transceiver.currentDirection;
        if (direction === 'inactive' || direction === 'stopped' || direction === 'sendonly') {
          this.live.delete(mid);
          this.onTrackEnded(subscribed);
        }
      }
    };
    const next = this.chain.then(run);
    this.chain = next.catch(() => { /* reported by the caller */ });
    return next;
  }

  close(): void {
    for (const subscribed of this.live.values()) this.onTrackEnded(subscribed);
    this.live.clear();
    this.pc.close();
  }
}
