// The participants list, with mute state and raised hands; host controls and the waiting room
// for the host.
import type { Participant, Room } from '@meeting/sdk';
import type { RoomApi } from '../api.js';
import { clear, h, hueFor, icon, initials, toast } from '../dom.js';

export class PeoplePanel {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly waitingList: HTMLElement;
  private readonly waitingSection: HTMLElement;
  private knownWaiting = new Set<string>();

  constructor(private readonly room: Room, private readonly roomApi: RoomApi, private readonly isHost: boolean,
              private readonly onWaitingCount: (count: number) => void) {
    this.list = h('ul', { class: 'people-list' });
    this.waitingList = h('ul', { class: 'people-list' });
    this.waitingSection = h('section', { class: 'waiting', hidden: true }, h('h3', {}, 'Waiting to join'), this.waitingList);
    this.element = h('div', { class: 'panel people-panel' }, this.waitingSection, this.list,
      isHost ? h('div', { class: 'host-actions' }, h('button', {
        class: 'button danger wide', onclick: async () => {
          if (!confirm('End the meeting for everyone?')) return;
          try { await this.roomApi.endForAll(); } catch (e) { toast(`The meeting could not be ended: ${(e as Error).message}`, 'error'); }
        },
      }, 'End meeting for all')) : null);
  }

  render(): void {
    clear(this.list);
    const everyone = [this.room.localParticipant, ...this.room.participants];
    // Raised hands first (in the order they will be answered), then by name.
    everyone.sort((a, b) => Number(b.metadata.handRaised === true) - Number(a.metadata.handRaised === true) || a.name.localeCompare(b.name));
    for (const participant of everyone) this.list.append(this.row(participant));
  }

  /** Polls the waiting room while the host has the meeting open (every 2 s, answered at once). */
  async pollWaiting(): Promise<void> {
    if (!this.isHost) return;
    let waiting;
    try {
      ({ waiting } = await this.roomApi.waiting());
    } catch {
      return;  // no waiting room for this meeting, or a blip
    }
    for (const guest of waiting) {
      if (!this.knownWaiting.has(guest.ticket)) toast(`${guest.display_name} is waiting to join`, 'info', 6000);
    }
    this.knownWaiting = new Set(waiting.map(g => g.ticket));
    this.waitingSection.hidden = waiting.length === 0;
    clear(this.waitingList);
    for (const guest of waiting) {
      const answer = async (admit: boolean) => {
        try { await this.roomApi.admit(guest.ticket, admit); } catch (e) { toast((e as Error).message, 'error'); }
        await this.pollWaiting();
      };
      this.waitingList.append(h('li', { class: 'person' }, avatar(guest.display_name, guest.ticket),
        h('span', { class: 'grow' }, guest.display_name),
        h('button', { class: 'button primary small', onclick: () => answer(true) }, 'Admit'),
        h('button', { class: 'button ghost small', onclick: () => answer(false) }, 'Deny')));
    }
    this.onWaitingCount(waiting.length);
  }

  private row(participant: Participant): HTMLElement {
    const you = participant === this.room.localParticipant;
    const mic = [...participant.tracks.values()].find(t => t.source === 'microphone');
    const camera = [...participant.tracks.values()].find(t => t.source === 'camera');
    const micOn = !!mic && !mic.muted;
    const actions: HTMLElement[] = [];
    if (this.isHost && !you) {
      if (mic && micOn) {
        actions.push(h('button', {
          class: 'button ghost small', title: `Mute ${participant.name}`,
          onclick: () => { this.room.muteParticipant(participant.identity, mic.id); },
        }, 'Mute'));
      }
      actions.push(h('button', {
        class: 'button ghost small danger', title: `Remove ${participant.name}`,
        onclick: async () => {
          if (!confirm(`Remove ${participant.name} from the meeting?`)) return;
          try { await this.roomApi.removePeer(participant.identity); } catch (e) { toast((e as Error).message, 'error'); }
        },
      }, 'Remove'));
    }
    return h('li', { class: 'person', 'data-identity': participant.identity }, avatar(participant.name, participant.identity),
      h('span', { class: 'grow' }, participant.name, you ? h('span', { class: 'muted' }, ' (you)') : null,
        participant.admin ? h('span', { class: 'tag' }, 'Host') : null),
      participant.metadata.handRaised === true ? h('span', { class: 'hand', title: 'Hand raised' }, icon('hand', 'Hand raised')) : null,
      h('span', { class: `state${micOn ? '' : ' off'}`, title: micOn ? 'Microphone on' : 'Microphone off' }, icon(micOn ? 'mic' : 'micOff', micOn ? 'Microphone on' : 'Microphone off')),
      h('span', { class: `state${camera && !camera.muted ? '' : ' off'}` }, icon(camera && !camera.muted ? 'camera' : 'cameraOff', camera ? 'Camera on' : 'Camera off')),
      ...actions);
  }
}

function avatar(name: string, seed: string): HTMLElement {
  const element = h('span', { class: 'mini-avatar' }, initials(name));
  element.style.setProperty('--hue', String(hueFor(seed)));
  return element;
}
