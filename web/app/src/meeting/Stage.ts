// The video area: one tile per participant (camera or avatar) and one per screen share, laid out
// as an even grid, a speaker view, or a presentation with a filmstrip when someone shares.
import type { ConnectionQuality, Participant } from '@meeting/sdk';
import { h, hueFor, icon, initials } from '../dom.js';

export type LayoutMode = 'grid' | 'speaker';

interface Tile {
  key: string;
  identity: string;
  screen: boolean;
  element: HTMLElement;
  video: HTMLVideoElement;
  avatar: HTMLElement;
  label: HTMLElement;
  badges: HTMLElement;
  quality: HTMLElement;
  lastSpoke: number;
}

const AspectRatio = 16 / 9;
const TileGap = 8;

/** Columns for `count` tiles of a fixed aspect ratio that make them as large as `width`×`height` allows. */
export function bestColumns(count: number, width: number, height: number): number {
  let best = 1;
  let bestArea = 0;
  for (let columns = 1; columns <= Math.max(1, count); columns++) {
    const rows = Math.ceil(count / columns);
    const tileWidth = Math.min((width - TileGap * (columns - 1)) / columns, ((height - TileGap * (rows - 1)) / rows) * AspectRatio);
    const area = tileWidth * (tileWidth / AspectRatio);
    if (area > bestArea) { bestArea = area; best = columns; }
  }
  return best;
}

export class Stage {
  readonly element: HTMLElement;
  private readonly main: HTMLElement;
  private readonly strip: HTMLElement;
  private readonly tiles = new Map<string, Tile>();
  private mode: LayoutMode = 'grid';
  private pinned: string | null = null;
  private speakerKey: string | null = null;

  constructor(private readonly localIdentity: string) {
    this.main = h('div', { class: 'stage-main' });
    this.strip = h('div', { class: 'stage-strip', 'aria-label': 'Other participants' });
    this.element = h('section', { class: 'stage', 'aria-label': 'Participants' }, this.main, this.strip);
    new ResizeObserver(() => this.layout()).observe(this.element);
  }

  get layoutMode(): LayoutMode {
    return this.mode;
  }

  setMode(mode: LayoutMode): void {
    this.mode = mode;
    this.layout();
  }

  /** Adds or refreshes a participant's camera tile. */
  upsertParticipant(participant: Participant): void {
    const tile = this.tile(participant.identity, false);
    this.paint(tile, participant);
  }

  removeParticipant(identity: string): void {
    for (const screen of [false, true]) {
      const key = this.key(identity, screen);
      const tile = this.tiles.get(key);
      if (!tile) continue;
      tile.element.remove();
      this.tiles.delete(key);
      if (this.pinned === key) this.pinned = null;
    }
    this.layout();
  }

  /** Shows `track` in the participant's camera or screen tile (null: back to the avatar). */
  setVideo(participant: Participant, screen: boolean, track: MediaStreamTrack | null): void {
    if (screen && !track) {
      const key = this.key(participant.identity, true);
      this.tiles.get(key)?.element.remove();
      this.tiles.delete(key);
      if (this.pinned === key) this.pinned = null;
      this.layout();
      return;
    }
    const tile = this.tile(participant.identity, screen);
    const current = (tile.video.srcObject as MediaStream | null)?.getVideoTracks()[0] ?? null;
    if (current !== track) tile.video.srcObject = track ? new MediaStream([track]) : null;
    tile.element.classList.toggle('has-video', !!track);
    this.paint(tile, participant);
    this.layout();
  }

  setSpeaking(speakers: Participant[]): void {
    const now = performance.now();
    const speaking = new Set(speakers.map(s => s.identity));
    for (const tile of this.tiles.values()) {
      const on = !tile.screen && speaking.has(tile.identity);
      tile.element.classList.toggle('speaking', on);
      if (on) tile.lastSpoke = now;
    }
    const loudestRemote = speakers.find(s => s.identity !== this.localIdentity);
    if (loudestRemote) this.speakerKey = this.key(loudestRemote.identity, false);
    if (this.mode === 'speaker') this.layout();
  }

  setQuality(identity: string, quality: ConnectionQuality): void {
    const tile = this.tiles.get(this.key(identity, false));
    if (!tile) return;
    tile.quality.dataset.quality = quality;
    tile.quality.title = `Connection: ${quality}`;
  }

  /** Refreshes name, mute and hand badges. */
  paint(tile: Tile, participant: Participant): void {
    const you = participant.identity === this.localIdentity;
    tile.label.textContent = `${participant.name}${you ? ' (you)' : ''}${tile.screen ? ' is presenting' : ''}`;
    tile.avatar.textContent = initials(participant.name);
    tile.avatar.style.setProperty('--hue', String(hueFor(participant.identity)));
    tile.badges.replaceChildren();
    if (tile.screen) return;
    const mic = [...participant.tracks.values()].find(t => t.source === 'microphone');
    if (!mic || mic.muted) tile.badges.append(h('span', { class: 'badge muted-badge', title: 'Microphone off' }, icon('micOff', 'Microphone off')));
    if (participant.metadata.handRaised === true) tile.badges.append(h('span', { class: 'badge hand-badge', title: 'Hand raised' }, icon('hand', 'Hand raised')));
    if (participant.admin) tile.badges.append(h('span', { class: 'badge host-badge', title: 'Host' }, 'Host'));
    tile.element.classList.toggle('mirror', you && !tile.screen);
  }

  refresh(participant: Participant): void {
    for (const screen of [false, true]) {
      const tile = this.tiles.get(this.key(participant.identity, screen));
      if (tile) this.paint(tile, participant);
    }
  }

  /** Floats an emoji up from the participant's tile. */
  showReaction(identity: string, emoji: string): void {
    const tile = this.tiles.get(this.key(identity, false));
    const host = tile?.element ?? this.element;
    const bubble = h('span', { class: 'reaction-bubble', 'aria-hidden': 'true' }, emoji);
    bubble.style.left = `${20 + Math.random() * 60}%`;
    host.append(bubble);
    setTimeout(() => bubble.remove(), 3000);
  }

  private key(identity: string, screen: boolean): string {
    return `${identity}\u0000${screen ? 'screen' : 'camera'}`;
  }

  private tile(identity: string, screen: boolean): Tile {
    const key = this.key(identity, screen);
    let tile = this.tiles.get(key);
    if (tile) return tile;
    const video = h('video', { autoplay: true, playsinline: true, muted: true });
    video.muted = true;  // audio plays through separate elements; tiles never echo
    const avatar = h('div', { class: 'avatar' });
    const label = h('span', { class: 'name' });
    const badges = h('span', { class: 'badges' });
    const quality = h('span', { class: 'quality', 'data-quality': 'excellent', title: 'Connection: excellent' }, h('i'), h('i'), h('i'));
    const element = h('div', { class: `tile${screen ? ' screen' : ''}`, 'data-identity': identity, 'data-kind': screen ? 'screen' : 'camera',
      ondblclick: () => { this.pinned = this.pinned === key ? null : key; this.layout(); } },
    video, avatar, h('div', { class: 'tile-footer' }, badges, label), screen ? null : quality);
    tile = { key, identity, screen, element, video, avatar, label, badges, quality, lastSpoke: 0 };
    this.tiles.set(key, tile);
    this.layout();
    return tile;
  }

  // Presentation (a screen share or a pinned tile) or speaker view: one large tile and a strip.
  // Grid: every tile the same size, as large as fits.
  private layout(): void {
    const tiles = [...this.tiles.values()].sort((a, b) => this.order(a) - this.order(b));
    const screen = tiles.find(t => t.screen);
    let featured: Tile | undefined = this.pinned ? this.tiles.get(this.pinned) : undefined;
    if (!featured && screen) featured = screen;
    if (!featured && this.mode === 'speaker' && tiles.length > 1) {
      featured = (this.speakerKey ? this.tiles.get(this.speakerKey) : undefined) ?? tiles.find(t => t.identity !== this.localIdentity);
    }
    this.element.classList.toggle('presenting', !!featured);
    if (featured) {
      if (featured.element.parentElement !== this.main || this.main.children.length !== 1) this.main.replaceChildren(featured.element);
      const rest = tiles.filter(t => t !== featured).map(t => t.element);
      if (!sameChildren(this.strip, rest)) this.strip.replaceChildren(...rest);
      featured.element.style.width = '';
      featured.element.style.height = '';
      for (const t of tiles) if (t !== featured) { t.element.style.width = ''; t.element.style.height = ''; }
      return;
    }
    if (this.strip.children.length) this.strip.replaceChildren();
    const elements = tiles.map(t => t.element);
    if (!sameChildren(this.main, elements)) this.main.replaceChildren(...elements);
    const width = this.main.clientWidth;
    const height = this.main.clientHeight;
    if (!width || !height || !tiles.length) return;
    const columns = bestColumns(tiles.length, width, height);
    const rows = Math.ceil(tiles.length / columns);
    const tileWidth = Math.floor(Math.min((width - TileGap * (columns - 1)) / columns, ((height - TileGap * (rows - 1)) / rows) * AspectRatio));
    for (const tile of tiles) {
      tile.element.style.width = `${tileWidth}px`;
      tile.element.style.height = `${Math.floor(tileWidth / AspectRatio)}px`;
    }
  }

  // The local tile last in the grid (people look at the others), screen shares first.
  private order(tile: Tile): number {
    if (tile.screen) return 0;
    if (tile.identity === this.localIdentity) return 2;
    return 1;
  }
}

function sameChildren(parent: HTMLElement, elements: HTMLElement[]): boolean {
  if (parent.children.length !== elements.length) return false;
  return elements.every((element, i) => parent.children[i] === element);
}
