// Joining by link: the lobby (camera preview, mic meter, devices, name), the waiting room, then
// the meeting.
import { api, ApiError, session, type Admission, type MeetingPreview } from '../api.js';
import { append, clear, h, icon } from '../dom.js';
import { startMeeting } from '../meeting/MeetingView.js';
import { describeMediaError, LevelMeter, listDevices, loadDeviceChoice, openCamera, openMicrophone, saveDeviceChoice } from '../media.js';

const NameKey = 'meeting.displayName';
const PollIntervalMs = 1500;

export async function renderJoin(root: HTMLElement, code: string): Promise<void> {
  let preview: MeetingPreview;
  try {
    preview = await api.preview(code);
  } catch (error) {
    const missing = error instanceof ApiError && error.status === 404;
    append(root, h('main', { class: 'page center' }, h('div', { class: 'card stack' },
      h('h1', {}, missing ? 'This meeting does not exist' : 'The meeting could not be opened'),
      h('p', { class: 'muted' }, missing ? 'Check the link, or ask the organizer for a new one.' : (error as Error).message),
      h('a', { class: 'button primary', href: '/' }, 'Go to the start page'))));
    return;
  }
  let signedInName = '';
  if (session.token) {
    try { signedInName = (await api.me()).display_name; } catch { session.clear(); }
  }
  renderLobby(root, code, preview, signedInName);
}

function renderLobby(root: HTMLElement, code: string, preview: MeetingPreview, signedInName: string): void {
  const choice = loadDeviceChoice();
  let camera: MediaStreamTrack | null = null;
  let microphone: MediaStreamTrack | null = null;
  let meter: LevelMeter | null = null;
  // The devices being opened: joining waits for them, so a quick click cannot join without a
  // camera that was about to come on.
  let cameraReady: Promise<void> = Promise.resolve();
  let microphoneReady: Promise<void> = Promise.resolve();

  const video = h('video', { autoplay: true, playsinline: true, muted: true, class: 'mirror' });
  const placeholder = h('div', { class: 'preview-off' }, 'Camera is off');
  const meterBar = h('div', { class: 'meter-fill' });
  const notice = h('p', { class: 'notice', role: 'status' });
  const micButton = h('button', { class: 'round', type: 'button' });
  const camButton = h('button', { class: 'round', type: 'button' });
  const cameraSelect = h('select', { 'aria-label': 'Camera' });
  const micSelect = h('select', { 'aria-label': 'Microphone' });
  const speakerSelect = h('select', { 'aria-label': 'Speaker' });
  const name = h('input', { required: true, maxlength: 64, placeholder: 'Your name', autocomplete: 'name', 'aria-label': 'Your name',
    value: signedInName || localStorage.getItem(NameKey) || '' });
  const joinButton = h('button', { class: 'button primary big', type: 'submit' }, 'Join now');
  const status = h('p', { class: 'form-error', role: 'alert' });

  const paintButtons = () => {
    clear(micButton);
    micButton.append(icon(choice.microphoneOn ? 'mic' : 'micOff'));
    micButton.classList.toggle('off', !choice.microphoneOn);
    micButton.title = choice.microphoneOn ? 'Turn off microphone' : 'Turn on microphone';
    micButton.setAttribute('aria-pressed', String(!choice.microphoneOn));
    clear(camButton);
    camButton.append(icon(choice.cameraOn ? 'camera' : 'cameraOff'));
    camButton.classList.toggle('off', !choice.cameraOn);
    camButton.title = choice.cameraOn ? 'Turn off camera' : 'Turn on camera';
    camButton.setAttribute('aria-pressed', String(!choice.cameraOn));
    placeholder.hidden = !!camera && choice.cameraOn;
    video.hidden = !camera || !choice.cameraOn;
  };

  const startCamera = async () => {
    camera?.stop();
    camera = null;
    if (choice.cameraOn) {
      try {
        camera = await openCamera(choice.cameraId);
        video.srcObject = new MediaStream([camera]);
      } catch (error) {
        notice.textContent = describeMediaError(error, 'camera');
        choice.cameraOn = false;
      }
    }
    paintButtons();
  };
  const startMicrophone = async () => {
    meter?.stop();
    meter = null;
    microphone?.stop();
    microphone = null;
    try {
      microphone = await openMicrophone(choice.microphoneId);
      microphone.enabled = choice.microphoneOn;
      meter = new LevelMeter(microphone, level => { meterBar.style.transform = `scaleX(${choice.microphoneOn ? level : 0})`; });
    } catch (error) {
      notice.textContent = describeMediaError(error, 'microphone');
      choice.microphoneOn = false;
    }
    paintButtons();
  };
  const fillDevices = async () => {
    const { cameras, microphones, speakers } = await listDevices();
    const fill = (select: HTMLSelectElement, devices: MediaDeviceInfo[], current: string | null, label: string) => {
      clear(select);
      devices.forEach((d, i) => select.append(h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${label} ${i + 1}`)));
      select.disabled = devices.length === 0;
      if (!devices.length) select.append(h('option', {}, `No ${label.toLowerCase()} found`));
    };
    fill(cameraSelect, cameras, choice.cameraId ?? camera?.getSettings().deviceId ?? null, 'Camera');
    fill(micSelect, microphones, choice.microphoneId ?? microphone?.getSettings().deviceId ?? null, 'Microphone');
    fill(speakerSelect, speakers, choice.speakerId, 'Speaker');
    speakerSelect.parentElement!.hidden = speakers.length === 0 || !('setSinkId' in HTMLMediaElement.prototype);
  };

  micButton.onclick = () => {
    choice.microphoneOn = !choice.microphoneOn;
    if (microphone) microphone.enabled = choice.microphoneOn;
    else if (choice.microphoneOn) microphoneReady = startMicrophone();
    paintButtons();
  };
  camButton.onclick = () => {
    choice.cameraOn = !choice.cameraOn;
    cameraReady = startCamera();
  };
  cameraSelect.onchange = () => { choice.cameraId = cameraSelect.value; choice.cameraOn = true; cameraReady = startCamera(); };
  micSelect.onchange = () => { choice.microphoneId = micSelect.value; microphoneReady = startMicrophone(); };
  speakerSelect.onchange = () => { choice.speakerId = speakerSelect.value; };

  const form = h('form', {
    class: 'lobby-form stack', onsubmit: async (event: Event) => {
      event.preventDefault();
      const displayName = name.value.trim();
      if (!displayName) { status.textContent = 'Enter your name, so others know who you are.'; return; }
      status.textContent = '';
      joinButton.disabled = true;
      joinButton.textContent = 'Joining…';
      localStorage.setItem(NameKey, displayName);
      await Promise.all([cameraReady, microphoneReady]);
      saveDeviceChoice(choice);
      try {
        const answer = await api.join(code, displayName);
        const admitted = answer.status === 'waiting' ? await waitForHost(root, code, answer.ticket, preview) : answer;
        if (!admitted) return;
        if (admitted.status === 'denied') return showDenied(root);
        meter?.stop();
        clear(root);
        await startMeeting(root, { code, title: preview.title, waitingRoom: preview.waiting_room, admission: admitted, camera: choice.cameraOn ? camera : (camera?.stop(), null), microphone, choice });
      } catch (error) {
        status.textContent = error instanceof ApiError && error.code === 'room_full' ? 'This meeting is full.' : (error as Error).message;
        joinButton.disabled = false;
        joinButton.textContent = 'Join now';
      }
    },
  },
  h('h1', {}, preview.title || 'Meeting'),
  h('p', { class: 'muted' }, preview.host_name ? `Hosted by ${preview.host_name}` : 'Ready to join?'),
  h('label', {}, 'Your name', name),
  h('label', {}, 'Camera', cameraSelect),
  h('label', {}, 'Microphone', micSelect),
  h('label', {}, 'Speaker', speakerSelect),
  status, joinButton,
  preview.waiting_room ? h('p', { class: 'muted small' }, icon('shield'), ' The host lets people in from a waiting room.') : null);

  append(root, h('main', { class: 'page lobby' },
    h('header', { class: 'topbar plain' }, h('a', { href: '/', class: 'brand' }, icon('camera'), h('span', {}, 'Meeting'))),
    h('div', { class: 'lobby-body' },
      h('section', { class: 'preview', 'aria-label': 'Camera preview' }, video, placeholder,
        h('div', { class: 'preview-controls' }, micButton, camButton),
        h('div', { class: 'meter', title: 'Microphone level' }, meterBar)),
      form),
    notice));
  paintButtons();
  name.focus();
  void (async () => {
    cameraReady = startCamera();
    microphoneReady = startMicrophone();
    await Promise.all([cameraReady, microphoneReady]);
    await fillDevices().catch(() => { /* device names are optional */ });
  })();
  navigator.mediaDevices?.addEventListener?.('devicechange', () => { void fillDevices(); });
}

async function waitForHost(root: HTMLElement, code: string, ticket: string, preview: MeetingPreview): Promise<Admission | { status: 'denied' } | null> {
  const overlay = h('div', { class: 'overlay', role: 'dialog', 'aria-live': 'polite' }, h('div', { class: 'card stack center-text' },
    h('div', { class: 'spinner' }), h('h2', {}, 'Waiting for the host to let you in'),
    h('p', { class: 'muted' }, preview.title), h('button', { class: 'button ghost', onclick: () => location.reload() }, 'Leave')));
  root.append(overlay);
  // Bounded: a ticket nobody answers expires on the server after 10 minutes without a poll.
  for (let polls = 0; polls < 4 * 60 * 60 * 1000 / PollIntervalMs; polls++) {
    await new Promise(resolve => setTimeout(resolve, PollIntervalMs));
    let answer;
    try {
      answer = await api.ticket(code, ticket);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) { overlay.remove(); return { status: 'denied' }; }
      continue;  // a network blip: keep waiting
    }
    if (answer.status === 'admitted' || answer.status === 'denied') { overlay.remove(); return answer; }
  }
  overlay.remove();
  return null;
}

function showDenied(root: HTMLElement): void {
  clear(root);
  append(root, h('main', { class: 'page center' }, h('div', { class: 'card stack' },
    h('h1', {}, 'You were not let in'), h('p', { class: 'muted' }, 'The host declined your request to join.'),
    h('a', { class: 'button primary', href: '/' }, 'OK'))));
}
