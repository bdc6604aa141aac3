// The meeting: the stage, the control bar, side panels (people, chat, files, minutes), reactions,
// host controls, the reconnecting state and keyboard shortcuts, all driven by the SDK's Room.
import { Room, type ConnectionQuality, type Participant, type RemoteTrack } from '@meeting/sdk';
import { RoomApi, type Admission } from '../api.js';
import { append, clear, h, icon, toast } from '../dom.js';
import { describeMediaError, listDevices, openCamera, openMicrophone, saveDeviceChoice, type DeviceChoice } from '../media.js';
import { ChatPanel } from './ChatPanel.js';
import { FilesPanel } from './FilesPanel.js';
import { MinutesPanel } from './MinutesPanel.js';
import { PeoplePanel } from './PeoplePanel.js';
import { Stage } from './Stage.js';

export interface MeetingStart {
  code: string;
  title: string;
  /** Guests wait for admission: the host's page watches the waiting room. */
  waitingRoom: boolean;
  admission: Admission;
  camera: MediaStreamTrack | null;
  microphone: MediaStreamTrack | null;
  choice: DeviceChoice;
}

type PanelName = 'people' | 'chat' | 'files' | 'minutes';
const Reactions = ['👍', '👏', '😂', '❤️', '🎉', '😮'];
const WaitingPollMs = 2000;

/** Messages the app sends itself on the reliable data channel. */
type AppData = { app: 'meeting'; type: 'files' } | { app: 'meeting'; type: 'minutes'; version: number };

export async function startMeeting(root: HTMLElement, start: MeetingStart): Promise<void> {
  const connecting = h('main', { class: 'page center' }, h('div', { class: 'card stack center-text' }, h('div', { class: 'spinner' }), h('p', {}, 'Joining…')));
  root.append(connecting);
  let room: Room;
  try {
    room = await Room.connect(start.admission.ws_url, start.admission.token, { iceServers: start.admission.ice_servers ?? [] });
  } catch (error) {
    const code = (error as { code?: string }).code;
    clear(root);
    const text = code === 'room_full' ? 'This meeting is full.' : code === 'removed' ? 'You were removed from this meeting.' : `The meeting could not be joined: ${(error as Error).message}`;
    append(root, h('main', { class: 'page center' }, h('div', { class: 'card stack' }, h('h1', {}, 'Could not join'), h('p', {}, text),
      h('button', { class: 'button primary', onclick: () => location.reload() }, 'Try again'))));
    start.camera?.stop();
    start.microphone?.stop();
    return;
  }
  clear(root);
  new MeetingView(root, room, start).show();
}

class MeetingView {
  private readonly roomApi: RoomApi;
  private readonly stage: Stage;
  private readonly chat: ChatPanel;
  private readonly people: PeoplePanel;
  private readonly files: FilesPanel;
  private readonly minutes: MinutesPanel;
  private readonly panel: HTMLElement;
  private readonly panelBody: HTMLElement;
  private readonly panelTitle: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly audio: HTMLElement;
  private readonly buttons: Record<string, HTMLButtonElement> = {};
  private readonly badges: Record<string, HTMLElement> = {};
  private openPanel: PanelName | null = null;
  private unreadChat = 0;
  private camera: MediaStreamTrack | null;
  private microphoneOn: boolean;
  private handRaised = false;
  private sharing = false;
  private waitingTimer = 0;
  private clockTimer = 0;
  private readonly joinedAt = Date.now();
  private readonly clock = h('span', { class: 'clock' });
  private readonly selfQuality = h('span', { class: 'quality', 'data-quality': 'excellent', title: 'Your connection: excellent' }, h('i'), h('i'), h('i'));

  constructor(private readonly root: HTMLElement, private readonly room: Room, private readonly start: MeetingStart) {
    this.roomApi = new RoomApi(start.admission.room, start.admission.token);
    this.camera = start.camera;
    this.microphoneOn = start.choice.microphoneOn && !!start.microphone;
    const self = room.localParticipant;
    this.stage = new Stage(self.identity);
    this.chat = new ChatPanel(self.identity, text => room.sendChat(text));
    this.people = new PeoplePanel(room, this.roomApi, start.admission.host, count => this.setBadge('people', count));
    this.files = new FilesPanel(this.roomApi, () => this.broadcast({ app: 'meeting', type: 'files' }));
    this.minutes = new MinutesPanel(this.roomApi, version => this.broadcast({ app: 'meeting', type: 'minutes', version }));
    this.panelTitle = h('h2', {});
    this.panelBody = h('div', { class: 'side-body' });
    this.panel = h('aside', { class: 'side', hidden: true, 'aria-label': 'Side panel' },
      h('header', { class: 'side-header' }, this.panelTitle, h('button', { class: 'icon-button', title: 'Close (Esc)', 'aria-label': 'Close panel', onclick: () => this.togglePanel(null) }, icon('close'))),
      this.panelBody);
    this.banner = h('div', { class: 'banner', hidden: true, role: 'status' }, h('div', { class: 'spinner small' }), 'Reconnecting…');
    this.audio = h('div', { class: 'audio-sink', hidden: true });
  }

  show(): void {
    const room = this.room;
    const title = h('div', { class: 'meeting-title' }, h('strong', { class: 'ellipsis' }, this.start.title || 'Meeting'), h('span', { class: 'muted' }, ' · '), this.clock);
    const top = h('header', { class: 'meeting-top' }, title, h('div', { class: 'row' }, this.selfQuality,
      this.iconButton('layout', 'layout', 'Switch layout (G)', () => this.toggleLayout())));
    const controls = h('footer', { class: 'controls', role: 'toolbar', 'aria-label': 'Meeting controls' },
      h('div', { class: 'controls-group' },
        this.iconButton('mic', 'mic', 'Microphone (M, Ctrl+D)', () => { void this.toggleMicrophone(); }),
        this.iconButton('camera', 'camera', 'Camera (V, Ctrl+E)', () => { void this.toggleCamera(); }),
        this.iconButton('screen', 'screen', 'Share screen (S)', () => { void this.toggleScreen(); }),
        this.iconButton('hand', 'hand', 'Raise hand (H)', () => this.toggleHand()),
        this.reactionPicker(),
        h('button', { class: 'button danger leave', title: 'Leave the meeting', 'aria-label': 'Leave the meeting', onclick: () => this.leave() }, icon('leave'), h('span', { class: 'hide-narrow' }, 'Leave'))),
      h('div', { class: 'controls-group panels' },
        this.iconButton('people', 'people', 'People (P)', () => this.togglePanel('people')),
        this.iconButton('chat', 'chat', 'Chat (C)', () => this.togglePanel('chat')),
        this.iconButton('files', 'file', 'Files (F)', () => this.togglePanel('files')),
        this.iconButton('minutes', 'notes', 'Minutes (N)', () => this.togglePanel('minutes')),
        this.iconButton('settings', 'settings', 'Devices', () => { void this.showDeviceSettings(); })));
    this.root.append(h('div', { class: 'meeting' }, top, h('div', { class: 'meeting-body' }, this.stage.element, this.panel), controls, this.banner, this.audio));

    // Everyone already here, then ourselves.
    for (const participant of room.participants) this.stage.upsertParticipant(participant);
    this.stage.upsertParticipant(room.localParticipant);
    this.stage.setVideo(room.localParticipant, false, this.camera);
    for (const remote of room.remoteTracks) this.onTrackSubscribed(remote);
    this.subscribe();
    void this.publishInitialMedia();
    void this.loadHistory();
    void this.files.refresh();
    this.people.render();
    this.paintControls();
    this.clockTimer = window.setInterval(() => this.paintClock(), 1000);
    this.paintClock();
    if (this.start.admission.host && this.start.waitingRoom) {
      void this.people.pollWaiting();
      this.waitingTimer = window.setInterval(() => { void this.people.pollWaiting(); }, WaitingPollMs);
    }
    document.addEventListener('keydown', this.onKey);
    window.addEventListener('beforeunload', () => room.leave());
    // For tests and curious developers: the live room.
    (window as unknown as { meeting: unknown }).meeting = { room, stage: this.stage, view: this };
  }

  private subscribe(): void {
    const room = this.room;
    room.on('participantJoined', p => {
      this.stage.upsertParticipant(p);
      this.people.render();
      toast(`${p.name} joined`, 'info', 2500);
    });
    room.on('participantLeft', ({ participant, reason }) => {
      this.stage.removeParticipant(participant.identity);
      this.people.render();
      toast(reason === 'removed' ? `${participant.name} was removed` : `${participant.name} left`, 'info', 2500);
    });
    room.on('participantUpdated', p => {
      this.stage.refresh(p);
      this.people.render();
      if (p === room.localParticipant) return;
      if (p.metadata.handRaised === true && !this.handsSeen.has(p.identity)) toast(`${p.name} raised a hand`, 'info', 5000);
      if (p.metadata.handRaised === true) this.handsSeen.add(p.identity);
      else this.handsSeen.delete(p.identity);
    });
    room.on('trackPublished', ({ participant }) => {
      this.stage.refresh(participant);
      this.people.render();
    });
    room.on('trackUnpublished', ({ participant, track }) => {
      if (track.source === 'screen') this.stage.setVideo(participant, true, null);
      if (track.source === 'camera' && participant !== room.localParticipant) this.stage.setVideo(participant, false, null);
      this.people.render();
    });
    room.on('trackMuted', ({ participant }) => {
      this.stage.refresh(participant);
      this.people.render();
    });
    room.on('trackSubscribed', remote => this.onTrackSubscribed(remote));
    room.on('trackUnsubscribed', remote => {
      if (remote.mediaStreamTrack.kind === 'audio') {
        this.audio.querySelector(`[data-track="${CSS.escape(remote.trackId)}"]`)?.remove();
        return;
      }
      this.stage.setVideo(remote.participant, remote.info?.source === 'screen', null);
    });
    room.on('activeSpeakers', speakers => this.stage.setSpeaking(speakers));
    room.on('connectionQuality', ({ participant, quality }) => this.onQuality(participant, quality));
    room.on('chat', message => {
      if (this.chat.add(message) && this.openPanel !== 'chat') {
        this.unreadChat++;
        this.setBadge('chat', this.unreadChat);
        toast(`${message.name}: ${message.text.slice(0, 80)}`, 'info', 3000);
      }
    });
    room.on('reaction', ({ from, emoji }) => this.stage.showReaction(from, emoji));
    room.on('data', ({ data }) => this.onData(data));
    room.on('mutedByHost', ({ source }) => {
      if (source === 'microphone') {
        this.microphoneOn = false;
        this.paintControls();
      }
      toast('The host muted your microphone. You can unmute yourself when you need to speak.', 'info', 6000);
    });
    room.on('connectionStateChanged', state => {
      this.banner.hidden = state !== 'reconnecting';
      if (state === 'connected' && this.wasReconnecting) toast('Reconnected');
      this.wasReconnecting = state === 'reconnecting';
    });
    room.on('error', ({ code, message }) => {
      if (code === 'rate_limited') return;
      toast(`The server refused a request: ${message}`, 'error');
    });
    room.on('disconnected', ({ reason }) => this.ended(reason));
  }
  private handsSeen = new Set<string>();
  private wasReconnecting = false;

  private async publishInitialMedia(): Promise<void> {
    const { microphone, camera } = this.start;
    try {
      if (microphone) await this.room.publishTrack('microphone', microphone, { muted: !this.microphoneOn });
      if (camera) await this.room.publishTrack('camera', camera);
    } catch (error) {
      toast(`Your media could not be sent: ${(error as Error).message}`, 'error', 8000);
    }
  }

  private async loadHistory(): Promise<void> {
    try {
      const { messages } = await this.roomApi.messages();
      for (const message of messages) this.chat.add(message);
    } catch {
      // History is a convenience; live chat works without it.
    }
  }

  private onTrackSubscribed(remote: RemoteTrack): void {
    const track = remote.mediaStreamTrack;
    if (track.kind === 'audio') {
      const element = h('audio', { autoplay: true, 'data-track': remote.trackId });
      element.srcObject = new MediaStream([track]);
      const sink = this.start.choice.speakerId;
      if (sink && 'setSinkId' in element) void (element as HTMLAudioElement & { setSinkId(id: string): Promise<void> }).setSinkId(sink).catch(() => undefined);
      this.audio.append(element);
      void element.play().catch(() => this.askForAudio());
      return;
    }
    this.stage.setVideo(remote.participant, remote.info?.source === 'screen', track);
  }

  // Browsers may refuse to play sound before the page was clicked: ask once.
  private askForAudio(): void {
    if (document.querySelector('.audio-unlock')) return;
    const button = h('button', {
      class: 'button primary audio-unlock', onclick: () => {
        for (const element of this.audio.querySelectorAll('audio')) void element.play().catch(() => undefined);
        button.remove();
      },
    }, 'Click to hear the others');
    this.root.querySelector('.meeting')?.append(button);
  }

  private onQuality(participant: Participant, quality: ConnectionQuality): void {
    this.stage.setQuality(participant.identity, quality);
    if (participant === this.room.localParticipant) {
      this.selfQuality.dataset.quality = quality;
      this.selfQuality.title = `Your connection: ${quality}`;
    }
  }

  private onData(data: string | ArrayBuffer): void {
    if (typeof data !== 'string' || data.length > 4096) return;
    let message: AppData;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message?.app !== 'meeting') return;
    if (message.type === 'files') void this.files.refresh();
    if (message.type === 'minutes') void this.minutes.load();
  }

  private broadcast(message: AppData): void {
    this.room.sendData(JSON.stringify(message));
  }

  private async toggleMicrophone(): Promise<void> {
    if (!this.room.publication('microphone')) {
      try {
        const track = await openMicrophone(this.start.choice.microphoneId);
        await this.room.publishTrack('microphone', track);
        this.microphoneOn = true;
      } catch (error) {
        toast(describeMediaError(error, 'microphone'), 'error', 8000);
      }
    } else {
      this.microphoneOn = !this.microphoneOn;
      this.room.setMuted('microphone', !this.microphoneOn);
    }
    this.start.choice.microphoneOn = this.microphoneOn;
    saveDeviceChoice(this.start.choice);
    this.paintControls();
  }

  // Camera off stops the device (its light goes out) and unpublishes; on opens it again.
  private async toggleCamera(): Promise<void> {
    const button = this.buttons.camera!;
    button.disabled = true;
    try {
      if (this.camera) {
        this.camera = null;
        await this.room.unpublish('camera');
        this.stage.setVideo(this.room.localParticipant, false, null);
      } else {
        const track = await openCamera(this.start.choice.cameraId);
        this.camera = track;
        this.stage.setVideo(this.room.localParticipant, false, track);
        await this.room.publishTrack('camera', track);
      }
      this.start.choice.cameraOn = !!this.camera;
      saveDeviceChoice(this.start.choice);
    } catch (error) {
      toast(describeMediaError(error, 'camera'), 'error', 8000);
    } finally {
      button.disabled = false;
      this.paintControls();
    }
  }

  private async toggleScreen(): Promise<void> {
    if (this.sharing) {
      await this.room.unpublish('screen');
      this.onScreenEnded();
      return;
    }
    let publication;
    try {
      publication = await this.room.publishScreen();
    } catch (error) {
      if ((error as { name?: string }).name !== 'NotAllowedError') toast(`Screen sharing failed: ${(error as Error).message}`, 'error');
      return;
    }
    this.sharing = true;
    this.stage.setVideo(this.room.localParticipant, true, publication.track);
    publication.track?.addEventListener('ended', () => this.onScreenEnded(), { once: true });
    this.paintControls();
  }

  private onScreenEnded(): void {
    this.sharing = false;
    this.stage.setVideo(this.room.localParticipant, true, null);
    this.paintControls();
  }

  private toggleHand(): void {
    this.handRaised = !this.handRaised;
    const metadata = { ...this.room.localParticipant.metadata, handRaised: this.handRaised };
    this.room.setMetadata(metadata);
    this.paintControls();
  }

  private toggleLayout(): void {
    this.stage.setMode(this.stage.layoutMode === 'grid' ? 'speaker' : 'grid');
    toast(this.stage.layoutMode === 'grid' ? 'Grid view' : 'Speaker view', 'info', 1500);
  }

  private togglePanel(name: PanelName | null): void {
    const next = name === this.openPanel ? null : name;
    this.openPanel = next;
    this.panel.hidden = next === null;
    for (const panel of ['people', 'chat', 'files', 'minutes'] as const) this.buttons[panel]?.classList.toggle('active', panel === next);
    if (!next) return;
    const titles: Record<PanelName, string> = { people: 'People', chat: 'Chat', files: 'Files', minutes: 'Minutes' };
    this.panelTitle.textContent = titles[next];
    const body = { people: this.people.element, chat: this.chat.element, files: this.files.element, minutes: this.minutes.element }[next];
    this.panelBody.replaceChildren(body);
    if (next === 'chat') {
      this.unreadChat = 0;
      this.setBadge('chat', 0);
      this.chat.focus();
    }
    if (next === 'people') this.people.render();
    if (next === 'files') void this.files.refresh();
    if (next === 'minutes' && !this.minutes.dirty) void this.minutes.load();
  }

  private reactionPicker(): HTMLElement {
    const menu = h('div', { class: 'reaction-menu', hidden: true, role: 'menu' },
      ...Reactions.map(emoji => h('button', {
        class: 'reaction-choice', role: 'menuitem', 'aria-label': `React ${emoji}`,
        onclick: () => { this.room.react(emoji); menu.hidden = true; },
      }, emoji)));
    const button = this.iconButton('react', 'smile', 'Reactions (R)', () => { menu.hidden = !menu.hidden; });
    return h('div', { class: 'reaction-picker' }, menu, button);
  }

  private async showDeviceSettings(): Promise<void> {
    const { cameras, microphones, speakers } = await listDevices();
    const choice = this.start.choice;
    const select = (devices: MediaDeviceInfo[], current: string | null, label: string, onChange: (id: string) => Promise<void>) => {
      const element = h('select', { 'aria-label': label }, ...devices.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${label} ${i + 1}`)));
      element.onchange = () => { void onChange(element.value).catch(e => toast(describeMediaError(e, label.toLowerCase()), 'error')); };
      return h('label', {}, label, element);
    };
    const dialog = h('div', { class: 'overlay', role: 'dialog', 'aria-label': 'Devices', onclick: (e: Event) => { if (e.target === dialog) dialog.remove(); } },
      h('div', { class: 'card stack' }, h('h2', {}, 'Devices'),
        select(cameras, choice.cameraId, 'Camera', async id => {
          choice.cameraId = id;
          saveDeviceChoice(choice);
          if (!this.camera) return;
          const track = await openCamera(id);
          await this.room.switchTrack('camera', track);
          this.camera = track;
          this.stage.setVideo(this.room.localParticipant, false, track);
        }),
        select(microphones, choice.microphoneId, 'Microphone', async id => {
          choice.microphoneId = id;
          saveDeviceChoice(choice);
          if (!this.room.publication('microphone')) return;
          await this.room.switchTrack('microphone', await openMicrophone(id));
        }),
        speakers.length && 'setSinkId' in HTMLMediaElement.prototype ? select(speakers, choice.speakerId, 'Speaker', async id => {
          choice.speakerId = id;
          saveDeviceChoice(choice);
          for (const element of this.audio.querySelectorAll('audio')) await (element as HTMLAudioElement & { setSinkId(id: string): Promise<void> }).setSinkId(id);
        }) : null,
        h('button', { class: 'button primary', onclick: () => dialog.remove() }, 'Done')));
    this.root.append(dialog);
  }

  private readonly onKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement | null;
    const typing = !!target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable);
    const ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && event.key.toLowerCase() === 'd') { event.preventDefault(); void this.toggleMicrophone(); return; }
    if (ctrl && event.key.toLowerCase() === 'e') { event.preventDefault(); void this.toggleCamera(); return; }
    if (event.key === 'Escape' && this.openPanel) { this.togglePanel(null); return; }
    if (typing || ctrl || event.altKey) return;
    const actions: Record<string, () => void> = {
      m: () => { void this.toggleMicrophone(); },
      v: () => { void this.toggleCamera(); },
      s: () => { void this.toggleScreen(); },
      h: () => this.toggleHand(),
      g: () => this.toggleLayout(),
      p: () => this.togglePanel('people'),
      c: () => this.togglePanel('chat'),
      f: () => this.togglePanel('files'),
      n: () => this.togglePanel('minutes'),
      r: () => this.buttons.react?.click(),
      '?': () => this.showShortcuts(),
    };
    const action = actions[event.key.toLowerCase()] ?? actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  };

  private showShortcuts(): void {
    const rows: [string, string][] = [['M or Ctrl+D', 'Microphone on/off'], ['V or Ctrl+E', 'Camera on/off'], ['S', 'Share screen'], ['H', 'Raise or lower hand'],
      ['R', 'Reactions'], ['G', 'Grid or speaker view'], ['P / C / F / N', 'People, chat, files, minutes'], ['Esc', 'Close the panel'], ['Double-click a tile', 'Pin it']];
    const dialog = h('div', { class: 'overlay', role: 'dialog', 'aria-label': 'Keyboard shortcuts', onclick: () => dialog.remove() },
      h('div', { class: 'card stack' }, h('h2', {}, 'Keyboard shortcuts'),
        h('table', { class: 'shortcuts' }, ...rows.map(([keys, what]) => h('tr', {}, h('td', {}, h('kbd', {}, keys)), h('td', {}, what))))));
    this.root.append(dialog);
  }

  private iconButton(key: string, name: Parameters<typeof icon>[0], title: string, onclick: () => void): HTMLButtonElement {
    const badge = h('span', { class: 'count', hidden: true });
    const button = h('button', { class: 'control', title, 'aria-label': title, onclick }, icon(name), badge);
    this.buttons[key] = button;
    this.badges[key] = badge;
    return button;
  }

  private setBadge(key: string, count: number): void {
    const badge = this.badges[key];
    if (!badge) return;
    badge.hidden = count === 0;
    badge.textContent = count > 99 ? '99+' : String(count);
  }

  private paintControls(): void {
    const set = (key: string, iconName: Parameters<typeof icon>[0], off: boolean, title: string, active = false) => {
      const button = this.buttons[key];
      if (!button) return;
      button.replaceChildren(icon(iconName), this.badges[key]!);
      button.classList.toggle('off', off);
      button.classList.toggle('active', active);
      button.title = title;
      button.setAttribute('aria-label', title);
      button.setAttribute('aria-pressed', String(off || active));
    };
    set('mic', this.microphoneOn ? 'mic' : 'micOff', !this.microphoneOn, this.microphoneOn ? 'Turn off microphone (M)' : 'Turn on microphone (M)');
    set('camera', this.camera ? 'camera' : 'cameraOff', !this.camera, this.camera ? 'Turn off camera (V)' : 'Turn on camera (V)');
    set('screen', 'screen', false, this.sharing ? 'Stop presenting (S)' : 'Share screen (S)', this.sharing);
    set('hand', 'hand', false, this.handRaised ? 'Lower hand (H)' : 'Raise hand (H)', this.handRaised);
  }

  private paintClock(): void {
    const seconds = Math.floor((Date.now() - this.joinedAt) / 1000);
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const rest = String(seconds % 60).padStart(2, '0');
    this.clock.textContent = hours ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
  }

  private leave(): void {
    this.room.leave();
  }

  private ended(reason: string): void {
    window.clearInterval(this.waitingTimer);
    window.clearInterval(this.clockTimer);
    document.removeEventListener('keydown', this.onKey);
    this.camera?.stop();
    for (const source of ['microphone', 'camera', 'screen'] as const) this.room.publication(source)?.track?.stop();
    const messages: Record<string, [string, string]> = {
      left: ['You left the meeting', ''],
      removed: ['You were removed from the meeting', 'The host removed you.'],
      room_closed: ['The meeting has ended', 'The host ended the meeting for everyone.'],
      replaced: ['You joined from somewhere else', 'This window was disconnected because you joined the meeting again in another tab or device.'],
      reconnect_failed: ['Connection lost', 'The connection to the meeting could not be restored.'],
    };
    const [heading, detail] = messages[reason] ?? ['Disconnected', `The connection ended (${reason}).`];
    const canRejoin = reason === 'left' || reason === 'reconnect_failed';
    clear(this.root);
    append(this.root, h('main', { class: 'page center' }, h('div', { class: 'card stack center-text' },
      h('h1', {}, heading), detail ? h('p', { class: 'muted' }, detail) : null,
      h('div', { class: 'row center' },
        canRejoin ? h('a', { class: 'button primary', href: `/m/${this.start.code}` }, 'Rejoin') : null,
        h('a', { class: 'button ghost', href: '/' }, 'Back to the start page')))));
  }
}
