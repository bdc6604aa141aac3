// The start page: sign in, then create, schedule and find meetings; administrators invite users.
import { api, ApiError, session, type Meeting, type User } from '../api.js';
import { append, clear, h, icon, toast } from '../dom.js';

export async function renderHome(root: HTMLElement): Promise<void> {
  if (!session.token) return renderLogin(root);
  let user: User;
  try {
    user = await api.me();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      session.clear();
      return renderLogin(root);
    }
    throw error;
  }
  renderDashboard(root, user);
}

function brand(): HTMLElement {
  return h('a', { href: '/', class: 'brand' }, icon('camera'), h('span', {}, 'Meeting'));
}

function joinByCode(): HTMLElement {
  const input = h('input', { name: 'code', placeholder: 'Meeting code or link', 'aria-label': 'Meeting code or link', autocomplete: 'off' });
  return h('form', {
    class: 'join-code', onsubmit: (event: Event) => {
      event.preventDefault();
      const value = input.value.trim();
      const code = /\/m\/([A-Za-z0-9-]+)/.exec(value)?.[1] ?? value.replace(/[^A-Za-z0-9-]/g, '');
      if (code) location.href = `/m/${code}`;
    },
  }, input, h('button', { class: 'button secondary' }, 'Join'));
}

function renderLogin(root: HTMLElement): void {
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'username', placeholder: 'you@example.com' });
  const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'current-password' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { class: 'button primary wide' }, 'Sign in');
  const form = h('form', {
    class: 'card stack', onsubmit: async (event: Event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = '';
      try {
        const answer = await api.login(email.value.trim(), password.value);
        session.set(answer.token);
        location.reload();
      } catch (e) {
        error.textContent = e instanceof ApiError && e.status === 401 ? 'That e-mail and password do not match an account.'
          : e instanceof ApiError && e.status === 429 ? 'Too many attempts. Wait a few minutes and try again.' : (e as Error).message;
        submit.disabled = false;
        password.select();
      }
    },
  },
  h('h1', {}, 'Sign in'),
  h('label', {}, 'E-mail', email),
  h('label', {}, 'Password', password),
  error, submit,
  h('p', { class: 'muted small' }, 'Joining a meeting? Open the link you were sent, or enter its code below. No account needed.'),
  joinByCode());
  append(root, h('main', { class: 'page center' }, h('header', { class: 'topbar plain' }, brand()), form));
  email.focus();
}

function when(meeting: Meeting): string {
  if (!meeting.begin_at) return 'Instant meeting';
  const begin = new Date(meeting.begin_at * 1000);
  const end = meeting.end_at ? new Date(meeting.end_at * 1000) : null;
  const day = begin.toLocaleDateString([], { weekday: 'short', month: 'short', day: 'numeric' });
  const from = begin.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return end ? `${day}, ${from} – ${end.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : `${day}, ${from}`;
}

async function copy(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast('Link copied');
  } catch {
    prompt('Copy the link:', text);
  }
}

function renderDashboard(root: HTMLElement, user: User): void {
  const list = h('ul', { class: 'meeting-list', 'aria-label': 'Your meetings' });
  const refresh = async () => {
    try {
      const { meetings } = await api.meetings();
      clear(list);
      if (!meetings.length) list.append(h('li', { class: 'muted' }, 'No meetings yet. Start one now or schedule one.'));
      for (const meeting of meetings) {
        list.append(h('li', { class: 'meeting-item' },
          h('div', {}, h('strong', {}, meeting.title || 'Untitled meeting'), h('div', { class: 'muted small' }, when(meeting),
            meeting.invitees?.length ? ` · ${meeting.invitees.length} invited` : '', meeting.waiting_room ? ' · waiting room' : '')),
          h('div', { class: 'row' },
            h('button', { class: 'button ghost', title: 'Copy link', onclick: () => copy(meeting.join_url) }, icon('copy'), h('span', { class: 'hide-narrow' }, 'Copy link')),
            h('a', { class: 'button primary', href: `/m/${meeting.join_code}` }, 'Start'),
            h('button', {
              class: 'button ghost danger', title: 'Delete', onclick: async () => {
                if (!confirm(`Delete "${meeting.title}"? Invitees get a cancellation.`)) return;
                try { await api.deleteMeeting(meeting.id); await refresh(); } catch (e) { toast((e as Error).message, 'error'); }
              },
            }, icon('close', 'Delete')))));
      }
    } catch (e) {
      clear(list);
      list.append(h('li', { class: 'form-error' }, `Your meetings could not be loaded: ${(e as Error).message}`));
    }
  };

  const instant = h('button', {
    class: 'button primary big', onclick: async () => {
      instant.disabled = true;
      try {
        const meeting = await api.createMeeting({ title: `${user.display_name}'s meeting` });
        location.href = `/m/${meeting.join_code}`;
      } catch (e) {
        toast((e as Error).message, 'error');
        instant.disabled = false;
      }
    },
  }, icon('camera'), 'New meeting');

  const header = h('header', { class: 'topbar plain' }, brand(), h('div', { class: 'row' },
    h('span', { class: 'muted hide-narrow' }, `${user.display_name} · ${user.email}`),
    h('button', {
      class: 'button ghost', onclick: async () => {
        try { await api.logout(); } catch { /* signing out locally is enough */ }
        session.clear();
        location.href = '/';
      },
    }, 'Sign out')));

  append(root, h('main', { class: 'page' }, header,
    h('section', { class: 'hero' }, h('h1', {}, 'Video meetings for your team'),
      h('p', { class: 'muted' }, 'Start a meeting now, or schedule one and invite people by e-mail.'),
      h('div', { class: 'row wrap' }, instant, joinByCode())),
    h('div', { class: 'columns' },
      h('section', { class: 'card' }, h('h2', {}, 'Your meetings'), list),
      scheduleForm(refresh)),
    user.role === 'admin' ? usersPanel(user) : null));
  void refresh();
}

function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function scheduleForm(onCreated: () => Promise<void>): HTMLElement {
  const start = new Date(Date.now() + 60 * 60 * 1000);
  start.setMinutes(0, 0, 0);
  const title = h('input', { name: 'title', required: true, maxlength: 200, placeholder: 'Weekly sync' });
  const begin = h('input', { type: 'datetime-local', name: 'begin', required: true, value: localInputValue(start) });
  const duration = h('select', { name: 'duration' },
    ...[15, 30, 45, 60, 90, 120].map(m => h('option', { value: m, selected: m === 30 }, m < 60 ? `${m} minutes` : `${m / 60} hour${m > 60 ? 's' : ''}`)));
  const invitees = h('textarea', { name: 'invitees', rows: 2, placeholder: 'ann@example.com, ben@example.com' });
  const waiting = h('input', { type: 'checkbox', name: 'waiting_room' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { class: 'button primary' }, icon('calendar'), 'Schedule');
  return h('form', {
    class: 'card stack', onsubmit: async (event: Event) => {
      event.preventDefault();
      error.textContent = '';
      const beginAt = new Date(begin.value);
      if (Number.isNaN(beginAt.getTime())) { error.textContent = 'Choose a start time.'; return; }
      const endAt = new Date(beginAt.getTime() + Number(duration.value) * 60_000);
      const emails = invitees.value.split(/[\s,;]+/).map(s => s.trim()).filter(Boolean);
      const bad = emails.find(e => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e));
      if (bad) { error.textContent = `"${bad}" is not an e-mail address.`; return; }
      submit.disabled = true;
      try {
        await api.createMeeting({ title: title.value.trim(), begin_at: Math.floor(beginAt.getTime() / 1000), end_at: Math.floor(endAt.getTime() / 1000), invitees: emails, waiting_room: waiting.checked });
        toast(emails.length ? `Scheduled; ${emails.length} invitation${emails.length > 1 ? 's' : ''} on the way` : 'Scheduled');
        title.value = '';
        invitees.value = '';
        await onCreated();
      } catch (e) {
        error.textContent = (e as Error).message;
      } finally {
        submit.disabled = false;
      }
    },
  }, h('h2', {}, 'Schedule a meeting'),
  h('label', {}, 'Title', title),
  h('div', { class: 'row wrap' }, h('label', { class: 'grow' }, 'Starts', begin), h('label', {}, 'Duration', duration)),
  h('label', {}, 'Invite by e-mail', invitees),
  h('label', { class: 'check' }, waiting, 'Waiting room: I let guests in'),
  error, submit);
}

function usersPanel(me: User): HTMLElement {
  const list = h('ul', { class: 'user-list' });
  const refresh = async () => {
    try {
      const { users } = await api.users();
      clear(list);
      for (const user of users) {
        list.append(h('li', { class: 'meeting-item' },
          h('div', {}, h('strong', {}, user.display_name), h('div', { class: 'muted small' }, user.email, user.role === 'admin' ? ' · administrator' : '', user.disabled ? ' · disabled' : '')),
          user.id === me.id ? h('span', { class: 'muted small' }, 'you') : h('div', { class: 'row' },
            h('button', {
              class: 'button ghost', onclick: async () => {
                try { await api.updateUser(user.id, { disabled: !user.disabled }); await refresh(); } catch (e) { toast((e as Error).message, 'error'); }
              },
            }, user.disabled ? 'Enable' : 'Disable'),
            h('button', {
              class: 'button ghost danger', onclick: async () => {
                if (!confirm(`Delete the account of ${user.email}?`)) return;
                try { await api.deleteUser(user.id); await refresh(); } catch (e) { toast((e as Error).message, 'error'); }
              },
            }, 'Delete'))));
      }
    } catch (e) {
      clear(list);
      list.append(h('li', { class: 'form-error' }, (e as Error).message));
    }
  };
  const email = h('input', { type: 'email', required: true, placeholder: 'new.colleague@example.com', 'aria-label': 'E-mail' });
  const name = h('input', { required: true, maxlength: 64, placeholder: 'Name', 'aria-label': 'Name' });
  const admin = h('input', { type: 'checkbox' });
  const result = h('div', { class: 'invite-result' });
  const form = h('form', {
    class: 'stack', onsubmit: async (event: Event) => {
      event.preventDefault();
      clear(result);
      try {
        const answer = await api.inviteUser(email.value.trim(), name.value.trim(), admin.checked ? 'admin' : 'user');
        result.append(h('p', {}, `Invited ${answer.user.email}. They get an e-mail if mail is set up; you can also send them this link:`),
          h('div', { class: 'row' }, h('code', { class: 'grow' }, answer.invite_url), h('button', { type: 'button', class: 'button ghost', onclick: () => copy(answer.invite_url) }, icon('copy'), 'Copy')));
        email.value = '';
        name.value = '';
        await refresh();
      } catch (e) {
        result.append(h('p', { class: 'form-error' }, (e as Error).message));
      }
    },
  }, h('div', { class: 'row wrap' }, email, name, h('label', { class: 'check' }, admin, 'Administrator'), h('button', { class: 'button primary' }, icon('plus'), 'Invite')), result);
  void refresh();
  return h('section', { class: 'card users' }, h('h2', {}, 'Users'), form, list);
}
