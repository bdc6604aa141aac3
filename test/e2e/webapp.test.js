'use strict';
// Issue 9: the web app as people use it, in Debian's Chromium. A fresh `meeting all` prints an
// administrator's login; the administrator signs in, schedules a meeting with a waiting room and
// starts it; two guests open the link, pass the lobby, wait, and are admitted by the host. All
// three see and hear each other; chat written before the second guest came is in that guest's
// history; a file shared by one guest is downloaded intact by the other; a raised hand reaches
// the host; a screen share takes the stage; the host mutes and then removes a guest. Screenshots
// of the lobby, the waiting room, the grid of three, the screen share and the chat are saved in
// test-artifacts/webapp/.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startMeeting, sleep, waitUntil, adminCredentials } = require('./lib/server');
const { launch, newPage, waitForMedia } = require('./lib/browser');

const artifacts = path.resolve(__dirname, '../../test-artifacts/webapp');



async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// Console errors are defects; media autoplay notices and favicon misses are not ours to fix.
function watchConsole(page, name, errors) {
  page.on('console', message => {
    if (message.type() === 'error') errors.push(`${name}: ${message.text()}`);
  });
  page.on('pageerror', error => errors.push(`${name}: ${error.message}`));
}

async function passLobby(page, baseUrl, code, name, screenshot) {
  await page.goto(`${baseUrl}/m/${code}`);
  await page.waitForSelector('.lobby-form');
  await page.fill('input[aria-label="Your name"]', name);
  // The preview shows the camera and the meter moves with the (fake) microphone.
  await waitUntil(`${name}'s camera preview`, () => page.evaluate(() => {
    const video = document.querySelector('.preview video');
    return video && video.videoWidth > 0 && !video.hidden;
  }));
  if (screenshot) await shot(page, screenshot);
  await page.click('button:has-text("Join now")');
}

async function inMeeting(page) {
  await page.waitForSelector('.meeting .controls', { timeout: 20000 });
}

module.exports = async function webAppTest() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meeting-e2e-webapp-'));
  const server = await startMeeting({ name: 'webapp', dataDir });
  const browser = await launch();
  const errors = [];
  try {
    const { email, password } = adminCredentials(server.log());

    // The page is the app, served with a strict content security policy.
    const host = await newPage(browser);
    watchConsole(host, 'host', errors);
    const response = await host.goto(`${server.baseUrl}/`);
    assert.match(response.headers()['content-security-policy'] || '', /script-src 'self'/);

    // Sign in; a wrong password is refused with a readable message first.
    await host.fill('input[type=email]', email);
    await host.fill('input[type=password]', 'not-the-password');
    await host.click('button:has-text("Sign in")');
    await host.waitForSelector('.form-error:has-text("do not match")');
    errors.length = 0;  // the browser logs the refused login's 401 itself
    await host.fill('input[type=password]', password);
    await host.click('button:has-text("Sign in")');
    await host.waitForSelector('h2:has-text("Your meetings")');

    // Schedule a meeting with a waiting room, in an hour, with one invitee.
    await host.fill('input[name=title]', 'Design review');
    await host.fill('textarea[name=invitees]', 'guest@example.com');
    await host.check('input[name=waiting_room]');
    await host.click('button:has-text("Schedule")');
    const startLink = await host.waitForSelector('.meeting-item a:has-text("Start")');
    const code = (await startLink.getAttribute('href')).replace('/m/', '');
    assert.match(code, /^[A-Za-z0-9-]+$/);
    await shot(host, 'dashboard');

    // The host starts it from the lobby and is in at once (hosts do not wait).
    await passLobby(host, server.baseUrl, code, 'Hana Host');
    await inMeeting(host);

    // Guest Ada: the lobby, then the waiting room until the host admits her.
    const ada = await newPage(browser);
    watchConsole(ada, 'ada', errors);
    await ada.goto(`${server.baseUrl}/m/${code}`);
    await ada.waitForSelector('.lobby-form h1:has-text("Design review")');
    await passLobby(ada, server.baseUrl, code, 'Ada Guest', 'lobby');
    await ada.waitForSelector('text=Waiting for the host to let you in');
    await shot(ada, 'waiting-room');
    await host.click('.controls button[aria-label^="People"]');
    await host.click('.waiting button:has-text("Admit")', { timeout: 15000 });
    await inMeeting(ada);

    // Ada writes before Ben arrives: Ben must find it in the history.
    await ada.click('.controls button[aria-label^="Chat"]');
    await ada.fill('.chat-form textarea', 'Hello from Ada, before Ben came');
    await ada.press('.chat-form textarea', 'Enter');
    await host.waitForSelector('.toast:has-text("Hello from Ada")', { timeout: 10000 });

    const ben = await newPage(browser);
    watchConsole(ben, 'ben', errors);
    await passLobby(ben, server.baseUrl, code, 'Ben Guest');
    await ben.waitForSelector('text=Waiting for the host to let you in');
    await host.click('.waiting button:has-text("Admit")', { timeout: 15000 });
    await inMeeting(ben);
    await ben.click('.controls button[aria-label^="Chat"]');
    await ben.waitForSelector('.chat-text:has-text("Hello from Ada, before Ben came")', { timeout: 10000 });

    // Everyone sees and hears the two others.
    for (const [name, page] of [['host', host], ['ada', ada], ['ben', ben]]) {
      const media = await waitForMedia(page, { videoStreams: 2, timeoutMs: 30000 });
      assert.ok(media.moving, `${name}: the others' video does not decode: ${JSON.stringify(media.after1s)}`);
      assert.ok(media.audio, `${name}: no audio arrives`);
      const tiles = await page.$$eval('.stage .tile[data-kind=camera]', els => els.length);
      assert.strictEqual(tiles, 3, `${name}: ${tiles} tiles instead of 3`);
    }
    // Ada speaks (a steady tone instead of the fake microphone's short beeps, swapped in without
    // renegotiating): the host sees her tile marked as the active speaker.
    await ada.evaluate(async () => {
      const context = new AudioContext();
      const tone = context.createOscillator();
      const destination = context.createMediaStreamDestination();
      tone.connect(destination);
      tone.start();
      await window.meeting.room.switchTrack('microphone', destination.stream.getAudioTracks()[0]);
    });
    await host.waitForSelector('.tile.speaking[data-identity]:has-text("Ada Guest")', { timeout: 15000 });

    await ben.click('.controls button[aria-label^="Chat"]');  // close it for the grid picture
    await host.click('.controls button[aria-label^="People"]');
    await sleep(500);
    await shot(host, 'grid-3');

    // Files: Ada shares one, Ben downloads it and gets the same bytes.
    const content = crypto.randomBytes(300 * 1024).toString('base64');
    const upload = path.join(dataDir, 'notes.txt');
    fs.writeFileSync(upload, content);
    await ada.click('.controls button[aria-label^="Files"]');
    await ada.setInputFiles('.files-panel input[type=file]', upload);
    await ada.waitForSelector('.file-row:has-text("notes.txt")', { timeout: 15000 });
    await ben.click('.controls button[aria-label^="Files"]');
    await ben.waitForSelector('.file-row:has-text("notes.txt")', { timeout: 10000 });
    const [download] = await Promise.all([ben.waitForEvent('download'), ben.locator('.file-row:has-text("notes.txt") button:has-text("Download")').click()]);
    const saved = path.join(dataDir, 'downloaded.txt');
    await download.saveAs(saved);
    assert.strictEqual(fs.readFileSync(saved, 'utf8'), content, 'the downloaded file differs from the uploaded one');

    // Ben raises his hand; the host sees it on his tile and in the list.
    await ben.keyboard.press('Escape');
    await ben.click('.controls button[aria-label^="Raise hand"]');
    await host.waitForSelector('.tile[data-kind=camera] .hand-badge', { timeout: 10000 });

    // A reaction floats over the sender's tile on the others' pages.
    await ada.click('.controls button[aria-label^="Reactions"]');
    await ada.click('.reaction-menu button[aria-label="React 🎉"]');
    await host.waitForSelector('.tile[data-kind=camera]:has-text("Ada Guest") .reaction-bubble', { timeout: 10000 });

    // Ada presents her screen: it takes the stage on the others' pages.
    await ada.keyboard.press('Escape');
    await ada.click('.controls button[aria-label^="Share screen"]');
    await host.waitForSelector('.stage.presenting .stage-main .tile.screen.has-video', { timeout: 20000 });
    await sleep(1500);
    await shot(host, 'screen-share');
    await ada.click('.controls button[aria-label^="Stop presenting"]');
    await host.waitForSelector('.stage:not(.presenting)', { timeout: 10000 });

    // The chat as the host sees it.
    await host.click('.controls button[aria-label^="Chat"]');
    await host.fill('.chat-form textarea', 'Thanks both, let us wrap up');
    await host.press('.chat-form textarea', 'Enter');
    await ada.waitForSelector('.toast:has-text("Thanks both")', { timeout: 10000 });
    await shot(host, 'chat');

    // Minutes: Ada and the host edit the same version; the host saves first, Ada's save is a
    // conflict that is shown (her text kept), and loading theirs shows the host's text.
    await host.click('.controls button[aria-label^="Minutes"]');
    await ada.click('.controls button[aria-label^="Minutes"]');
    for (const page of [host, ada]) await page.waitForSelector('.minutes-panel .row span:has-text("Nothing saved yet")', { timeout: 10000 });
    await host.fill('.minutes-editor', '# Design review\n\n- Ship the web app');
    await ada.fill('.minutes-editor', '# Design review\n\n- Ada was here');
    await host.click('.minutes-panel button:has-text("Save")');
    await host.waitForSelector('.minutes-panel span:has-text("version 1")', { timeout: 10000 });
    await ada.click('.minutes-panel button:has-text("Save")');
    await ada.waitForSelector('.conflict:has-text("Someone else saved the minutes")', { timeout: 10000 });
    const conflictLog = errors.findIndex(e => /ada: .*409 \(Conflict\)/.test(e));
    if (conflictLog >= 0) errors.splice(conflictLog, 1);  // the browser logs the refused save itself
    assert.match(await ada.inputValue('.minutes-editor'), /Ada was here/, 'the conflict threw away Ada\'s text');
    await ada.click('.conflict button:has-text("Load theirs")');
    await ada.waitForFunction(() => document.querySelector('.minutes-editor').value.includes('Ship the web app'), null, { timeout: 10000 });

    // Host controls: mute Ben, then remove him. Ada sees him leave; Ben is told why.
    await host.click('.controls button[aria-label^="People"]');
    // The list re-renders on every change: locators, not element handles.
    await host.locator('.person:has-text("Ben Guest") button:has-text("Mute")').click();
    await ben.waitForSelector('.toast:has-text("The host muted your microphone")', { timeout: 10000 });
    await ben.waitForSelector('.controls button.off[aria-label*="microphone"]');
    host.once('dialog', dialog => dialog.accept());
    await host.locator('.person:has-text("Ben Guest") button:has-text("Remove")').click();
    await ben.waitForSelector('text=You were removed from the meeting', { timeout: 15000 });
    await waitUntil('Ben to leave Ada\'s stage', async () => (await ada.$$('.stage .tile[data-kind=camera]')).length === 2);

    // At phone width the meeting stays usable: the controls fit the screen.
    await ada.setViewportSize({ width: 390, height: 844 });
    await sleep(500);
    await shot(ada, 'phone');
    const outside = await ada.evaluate(() => [...document.querySelectorAll('.controls button')]
      .filter(b => { const r = b.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth || r.bottom > window.innerHeight || r.top < 0; })
      .map(b => b.getAttribute('aria-label')));
    assert.deepStrictEqual(outside, [], `controls outside a phone-width screen: ${outside.join(', ')}`);
    const tilesFit = await ada.evaluate(() => [...document.querySelectorAll('.stage .tile')].every(t => t.getBoundingClientRect().right <= window.innerWidth + 1));
    assert.ok(tilesFit, 'tiles wider than a phone-width screen');

    const relevant = errors.filter(e => !/favicon|Autoplay|play\(\) request was interrupted/.test(e));
    assert.deepStrictEqual(relevant, [], `console errors:\n${relevant.join('\n')}`);
    console.log(`  admin signed in, scheduled and hosted; 2 guests admitted from the waiting room; media, chat history, file (${content.length} bytes), active speaker, minutes conflict, hand, reaction, screen share, mute and removal all worked; screenshots in ${artifacts}`);
  } finally {
    await browser.close();
    await server.stop();
  }
};
