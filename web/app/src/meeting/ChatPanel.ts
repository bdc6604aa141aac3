// Chat: the room's history (from the apiserver) followed by live messages.
import type { ChatMessage } from '@meeting/sdk';
import { formatTime, h } from '../dom.js';

const MaxLength = 2000;

export class ChatPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly seen = new Set<string>();
  private lastSender = '';

  constructor(private readonly selfIdentity: string, private readonly send: (text: string) => boolean) {
    this.list = h('ol', { class: 'chat-list', 'aria-live': 'polite', 'aria-label': 'Messages' });
    this.input = h('textarea', { rows: 1, maxlength: MaxLength, placeholder: 'Message everyone', 'aria-label': 'Message' });
    this.input.addEventListener('keydown', event => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.submit();
      }
    });
    this.element = h('div', { class: 'panel chat-panel' }, this.list,
      h('form', { class: 'chat-form', onsubmit: (event: Event) => { event.preventDefault(); this.submit(); } },
        this.input, h('button', { class: 'button primary', title: 'Send', 'aria-label': 'Send' }, 'Send')));
    this.list.append(h('li', { class: 'muted small chat-empty' }, 'Messages are visible to everyone in the meeting and kept with it.'));
  }

  focus(): void {
    this.input.focus();
  }

  /** Adds a message unless it is already shown (history and live messages overlap around a join). */
  add(message: ChatMessage): boolean {
    const id = `${message.from}|${message.time}|${message.text}`;
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    this.list.querySelector('.chat-empty')?.remove();
    const mine = message.from === this.selfIdentity;
    const continued = this.lastSender === message.from;
    this.lastSender = message.from;
    const item = h('li', { class: `chat-item${mine ? ' mine' : ''}${continued ? ' continued' : ''}` },
      continued ? null : h('div', { class: 'chat-meta' }, h('strong', {}, mine ? 'You' : message.name), h('time', {}, formatTime(message.time))),
      h('div', { class: 'chat-text' }, ...linkify(message.text)));
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.append(item);
    if (atBottom || mine) this.list.scrollTop = this.list.scrollHeight;
    return !mine;
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text) return;
    if (new TextEncoder().encode(text).length > MaxLength) return;
    if (this.send(text)) this.input.value = '';
  }
}

// Links become clickable; everything else stays text (never HTML from others).
function linkify(text: string): (string | HTMLElement)[] {
  const parts: (string | HTMLElement)[] = [];
  const pattern = /\bhttps?:\/\/[^\s<>"]+/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parts.push(text.slice(last, match.index));
    parts.push(h('a', { href: match[0], target: '_blank', rel: 'noopener noreferrer' }, match[0]));
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}
