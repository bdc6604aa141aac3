'use strict';
// Issue 9: reconnection as a person sees it. Two people are in a meeting made over the app's own
// REST calls; Bob's signaling socket is cut and new connections fail for a few seconds (as on a
// network change). Bob's page shows "Reconnecting…" (screenshot), then comes back with video
// flowing both ways; Alice never sees Bob leave or join again.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startMeeting, request, sleep, waitUntil, adminCredentials } = require('./lib/server');
const { launch, newPage, waitForMedia } = require('./lib/browser');

const artifacts = path.resolve(__dirname, '../../test-artifacts/webapp');


// Pages whose WebSockets can be cut, and refused while `window.__offline` is set.
async function cuttablePage(browser) {
  const page = await newPage(browser);
  await page.addInitScript(() => {
    const Original = window.WebSocket;
    window.__sockets = [];
    window.__offline = false;
    window.WebSocket = class extends Original {
      constructor(url, protocols) {
        // An unreachable address fails like a network that is down.
        super(window.__offline ? 'wss://127.0.0.1:9/offline' : url, protocols);
        window.__sockets.push(this);
      }
    };
  });
  return page;
}

async function join(page, baseUrl, code, name) {
  await page.goto(`${baseUrl}/m/${code}`);
  await page.waitForSelector('.lobby-form');
  await page.fill('input[aria-label="Your name"]', name);
  await page.click('button:has-text("Join now")');
  await page.waitForSelector('.meeting .controls', { timeout: 20000 });
}

module.exports = async function webAppReconnectTest() {
  const server = await startMeeting({ name: 'webapp-reconnect' });
  const browser = await launch();
  try {
    // An instant meeting through the API, as the dashboard's "New meeting" does.
    const { email, password } = adminCredentials(server.log());
    const login = await request('POST', `${server.baseUrl}/api/v1/auth/login`, { body: { email, password } });
    assert.strictEqual(login.status, 200, JSON.stringify(login.body));
    const meeting = await request('POST', `${server.baseUrl}/api/v1/meetings`, {
      body: { title: 'Reconnect check' }, headers: { Authorization: `Bearer ${login.body.token}` },
    });
    assert.strictEqual(meeting.status, 201, JSON.stringify(meeting.body));
    const code = meeting.body.meeting.join_code;

    const alice = await cuttablePage(browser);
    const bob = await cuttablePage(browser);
    await join(alice, server.baseUrl, code, 'Alice');
    await join(bob, server.baseUrl, code, 'Bob');
    await alice.evaluate(() => {
      window.__events = [];
      for (const type of ['participantJoined', 'participantLeft']) window.meeting.room.on(type, e => window.__events.push(type));
    });
    for (const page of [alice, bob]) assert.ok((await waitForMedia(page, { videoStreams: 1 })).moving, 'no video before the cut');

    // The network goes away for Bob: his socket drops and reconnecting fails for 4 s.
    await bob.evaluate(() => {
      window.__offline = true;
      for (const socket of window.__sockets) socket.close();
    });
    await bob.waitForSelector('.banner:has-text("Reconnecting")', { timeout: 10000 });
    fs.mkdirSync(artifacts, { recursive: true });
    await bob.screenshot({ path: path.join(artifacts, 'reconnecting.png') });
    await sleep(4000);
    await bob.evaluate(() => { window.__offline = false; });
    await bob.waitForSelector('.banner', { state: 'hidden', timeout: 20000 });

    // Media flows again both ways (new frames decoded after the resume).
    const framesNow = page => page.evaluate(async () => {
      let frames = 0;
      for (const pc of window.__pcs) (await pc.getStats()).forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
      return frames;
    });
    for (const [name, page] of [['alice', alice], ['bob', bob]]) {
      const before = await framesNow(page);
      await waitUntil(`${name}'s video to move after the resume`, async () => (await framesNow(page)) - before > 30, { attempts: 100 });
    }
    const events = await alice.evaluate(() => window.__events);
    assert.deepStrictEqual(events, [], `Alice saw ${events.join(', ')} during Bob's reconnect`);
    assert.strictEqual(await alice.$$eval('.stage .tile[data-kind=camera]', els => els.length), 2);
    console.log('  Bob\'s page showed "Reconnecting…" for about 4 s and resumed; video moves both ways; Alice saw no leave or join');
  } finally {
    await browser.close();
    await server.stop();
  }
};
