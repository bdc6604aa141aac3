// An invited person sets a password and is signed in.
import { api, ApiError, session } from '../api.js';
import { append, h } from '../dom.js';

export async function renderInvite(root: HTMLElement, token: string): Promise<void> {
  let invite: { email: string; display_name: string };
  try {
    invite = await api.invite(token);
  } catch (error) {
    const gone = error instanceof ApiError && error.status === 404;
    append(root, h('main', { class: 'page center' }, h('div', { class: 'card stack' },
      h('h1', {}, gone ? 'This invitation is no longer valid' : 'The invitation could not be opened'),
      h('p', { class: 'muted' }, gone ? 'It was used already or has expired. Ask your administrator for a new one.' : (error as Error).message),
      h('a', { class: 'button primary', href: '/' }, 'Go to sign in'))));
    return;
  }
  const name = h('input', { required: true, maxlength: 64, value: invite.display_name, autocomplete: 'name' });
  const password = h('input', { type: 'password', required: true, minlength: 8, autocomplete: 'new-password' });
  const again = h('input', { type: 'password', required: true, minlength: 8, autocomplete: 'new-password' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { class: 'button primary wide' }, 'Create my account');
  append(root, h('main', { class: 'page center' }, h('form', {
    class: 'card stack', onsubmit: async (event: Event) => {
      event.preventDefault();
      error.textContent = '';
      if (password.value !== again.value) { error.textContent = 'The two passwords differ.'; return; }
      submit.disabled = true;
      try {
        const answer = await api.acceptInvite(token, password.value, name.value.trim());
        session.set(answer.token);
        location.href = '/';
      } catch (e) {
        error.textContent = (e as Error).message;
        submit.disabled = false;
      }
    },
  }, h('h1', {}, 'Welcome'), h('p', { class: 'muted' }, `Choose a password for ${invite.email}.`),
  h('label', {}, 'Your name', name), h('label', {}, 'Password (at least 8 characters)', password),
  h('label', {}, 'Password again', again), error, submit)));
  password.focus();
}
