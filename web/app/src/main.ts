// The web app's entry: picks the page from the address.
//   /               sign in, or the signed-in person's meetings (and users, for administrators)
//   /m/<code>       a meeting's lobby, waiting room and the meeting itself
//   /invite/<token> an invited person chooses a password
import { clear, h } from './dom.js';
import { renderHome } from './pages/home.js';
import { renderInvite } from './pages/invite.js';
import { renderJoin } from './pages/join.js';

async function route(): Promise<void> {
  const root = document.getElementById('app')!;
  clear(root);
  const path = location.pathname;
  const meeting = /^\/m\/([A-Za-z0-9-]{1,64})\/?$/.exec(path);
  const invite = /^\/invite\/([A-Za-z0-9_-]{1,128})\/?$/.exec(path);
  try {
    if (meeting) await renderJoin(root, meeting[1]!);
    else if (invite) await renderInvite(root, invite[1]!);
    else await renderHome(root);
  } catch (error) {
    console.error(error);
    clear(root);
    root.append(h('main', { class: 'page center' }, h('div', { class: 'card' },
      h('h1', {}, 'Something went wrong'), h('p', {}, String((error as Error)?.message ?? error)),
      h('a', { href: '/', class: 'button' }, 'Back to the start'))));
  }
}

void route();
