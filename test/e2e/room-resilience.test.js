'use strict';
// Issue 4: quality that holds up. A room created over REST with max_peers 3: a fourth peer is
// refused; with 5% of the downlink RTP dropped by the server (test hook), subscribers NACK and
// video keeps decoding; a participant whose signaling connection drops resumes on a new one
// without the others seeing it leave; a screen share reaches the others; a subscriber pauses
// and unsubscribes a track and gets it back.
const assert = require('assert');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startMeeting, request, sleep, binaryPath, waitUntil } = require('./lib/server');
const { launch, newPage, waitForMedia } = require('./lib/browser');

const SECRET = 'e2e-resilience-secret-0123456789abcdef';
const ROOM = 'resilience';

// Inbound video of a page, by track id as the room page maps mids: {trackId: {frames, nacks, lost}}.
async function inboundVideo(page) {
  return page.evaluate(async () => {
    const out = {};
    const sub = window.room.sub;
    if (!sub) return out;
    const byMid = {};
    for (const t of sub.getTransceivers()) if (t.mid) byMid[t.receiver.track.id] = t.mid;
    (await sub.getStats()).forEach(s => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      const mid = s.mid ?? byMid[s.trackIdentifier];
      const info = window.room.midToTrack[mid];
      // A track subscribed again arrives in a new section (mids are never reused): the newest counts.
      if (!info || (out[info.trackId] && Number(out[info.trackId].mid) > Number(mid))) return;
      out[info.trackId] = { mid, frames: s.framesDecoded || 0, nacks: s.nackCount || 0, lost: s.packetsLost || 0, packets: s.packetsReceived || 0 };
    });
    return out;
  });
}


function trackOf(page, identity, source) {
  return page.evaluate(([id, src]) => {
    const p = window.room.participants.get(id);
    return p ? [...p.tracks.values()].find(t => t.source === src)?.id : undefined;
  }, [identity, source]);
}

module.exports = async function roomResilienceTest() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meeting-e2e-resilience-'));
  const keyOutput = execFileSync(binaryPath(), ['ctl', 'apikey', 'create', 'e2e', '--data', dataDir], { encoding: 'utf8' });
  const apiKey = (keyOutput.match(/mk_[A-Za-z0-9_-]+/) || [])[0];
  const auth = { headers: { Authorization: `Bearer ${apiKey}` } };
  const server = await startMeeting({
    name: 'resilience', dataDir, args: ['--secret', SECRET, '--test-packet-loss', 'downlink:5'], env: { MEETING_TEST_HOOKS: '1' },
  });
  const browser = await launch();
  try {
    const created = await request('POST', `${server.baseUrl}/api/v1/rooms`,
      { ...auth, body: { room_id: ROOM, max_peers: 3, peer_disconnected_timeout: 30 } });
    assert.strictEqual(created.status, 201, JSON.stringify(created.body));

    const names = ['ana', 'ben', 'cy'];
    const pages = [];
    const ids = [];
    for (const name of names) {
      const added = await request('POST', `${server.baseUrl}/api/v1/rooms/${ROOM}/peers`, { ...auth, body: { display_name: name } });
      assert.strictEqual(added.status, 201, JSON.stringify(added.body));
      const page = await newPage(browser);
      await page.goto(`${server.baseUrl}/room/${ROOM}?token=${encodeURIComponent(added.body.token)}`);
      await page.click('#join');
      await page.waitForFunction(() => window.room && window.room.self, null, { timeout: 15000 });
      pages.push(page);
      ids.push(await page.evaluate(() => window.room.self.identity));
    }

    // max_peers: a fourth is refused with a clear error.
    const fourth = await request('POST', `${server.baseUrl}/api/v1/rooms/${ROOM}/peers`, { ...auth, body: { display_name: 'dee' } });
    assert.strictEqual(fourth.status, 403, JSON.stringify(fourth.body));
    assert.strictEqual(fourth.body.error?.code ?? fourth.body.code ?? fourth.body.error, 'room_full', JSON.stringify(fourth.body));
    console.log('  max_peers 3: a fourth peer is refused (room_full)');

    // 5% downlink loss: everyone still decodes both others, and their NACKs got the losses back.
    for (const [i, page] of pages.entries()) {
      const media = await waitForMedia(page, { videoStreams: 2, timeoutMs: 25000 });
      assert.ok(media.moving && media.audio, `${names[i]} under 5% loss: ${JSON.stringify(media)}`);
    }
    await sleep(3000);
    for (const [i, page] of pages.entries()) {
      const video = Object.values(await inboundVideo(page));
      const nacks = video.reduce((n, v) => n + v.nacks, 0);
      const packets = video.reduce((n, v) => n + v.packets, 0);
      assert.ok(video.length >= 2 && nacks > 0, `${names[i]} sent no NACKs under 5% loss: ${JSON.stringify(video)}`);
      console.log(`  ${names[i]} under 5% downlink loss: ${packets} video packets, ${nacks} NACKs sent, ${video.map(v => v.frames).join('/')} frames decoded`);
    }

    // Data messages: reliable and lossy, relayed to everyone else on the channel of the same kind.
    await pages[0].waitForFunction(() => window.room.dc.readyState === 'open' && window.room.lossy.readyState === 'open', null, { timeout: 10000 });
    for (const page of pages.slice(1)) {
      await page.waitForFunction(() => window.room.dc.readyState === 'open' && window.room.lossy.readyState === 'open', null, { timeout: 10000 });
    }
    await pages[0].evaluate(() => { window.room.sendData('reliable hello'); window.room.sendData('lossy hello', { lossy: true }); });
    for (const page of pages.slice(1)) {
      await page.waitForFunction(() => window.room.data.some(d => d.channel === 'data' && d.data === 'reliable hello') &&
        window.room.data.some(d => d.channel === 'lossy' && d.data === 'lossy hello'), null, { timeout: 10000 });
    }
    assert.strictEqual(await pages[0].evaluate(() => window.room.data.length), 0, 'the sender must not get its own data back');
    console.log('  data messages relayed to ben and cy on the reliable and the lossy channel');

    // ben's signaling drops; he comes back on a new connection and the others never see him leave.
    const eventsBefore = await Promise.all([pages[0], pages[2]].map(page => page.evaluate(() => window.room.events.length)));
    await pages[1].evaluate(() => window.room.dropSignaling());
    await pages[1].waitForFunction(() => window.room.events.some(e => e.type === 'joined' && e.resumed), null, { timeout: 15000 });
    await sleep(2000);
    for (const [i, page] of [pages[0], pages[2]].entries()) {
      const sawLeave = await page.evaluate(([id, from]) => window.room.events.slice(from).some(e =>
        (e.type === 'participantLeft' || e.type === 'participantJoined') && (e.identity === id || e.participant?.identity === id)),
      [ids[1], eventsBefore[i]]);
      assert.ok(!sawLeave, 'a resumed participant must not leave and join again for the others');
    }
    const afterResume = await waitForMedia(pages[1], { videoStreams: 2, timeoutMs: 15000 });
    assert.ok(afterResume.moving, `ben after resuming: ${JSON.stringify(afterResume)}`);
    const benCamera = await trackOf(pages[0], ids[1], 'camera');
    const before = (await inboundVideo(pages[0]))[benCamera]?.frames || 0;
    await sleep(1500);
    const after = (await inboundVideo(pages[0]))[benCamera]?.frames || 0;
    assert.ok(after - before >= 10, `ana does not see ben's video move after his resume (${before} -> ${after})`);
    console.log('  ben\'s signaling dropped and resumed: no leave for the others, media flows both ways');

    // ana shares her screen: ben and cy get a screen track and decode it.
    await pages[0].evaluate(() => window.room.shareScreen());
    for (const page of [pages[1], pages[2]]) {
      const screen = await waitUntil('the screen track', () => trackOf(page, ids[0], 'screen'));
      const frames = await waitUntil('screen frames', async () => ((await inboundVideo(page))[screen]?.frames || 0) > 10, { attempts: 80 });
      assert.ok(frames);
      assert.ok(await page.$(`[data-identity="${ids[0]}"][data-screen]`), 'no screen tile');
    }
    console.log('  ana\'s screen share is decoded by ben and cy');
    await pages[0].evaluate(() => window.room.stopScreen());
    await pages[1].waitForFunction(id => window.room.events.some(e => e.type === 'trackUnpublished' && e.identity === id), ids[0], { timeout: 10000 });

    // cy pauses ana's camera: its frames stop; resumed, they move again. Unsubscribed, then back.
    const anaCamera = await trackOf(pages[2], ids[0], 'camera');
    await pages[2].evaluate(id => window.room.pause(id, true), anaCamera);
    await pages[2].waitForFunction(id => window.room.events.some(e => e.type === 'subscriptionUpdated' && e.trackId === id && e.paused), anaCamera, { timeout: 5000 });
    await sleep(500);
    const paused1 = (await inboundVideo(pages[2]))[anaCamera].frames;
    await sleep(1500);
    const paused2 = (await inboundVideo(pages[2]))[anaCamera].frames;
    assert.ok(paused2 - paused1 <= 2, `ana's camera still decodes while paused (${paused1} -> ${paused2})`);
    await pages[2].evaluate(id => window.room.pause(id, false), anaCamera);
    await waitUntil('frames after resuming the pause', async () => (await inboundVideo(pages[2]))[anaCamera].frames - paused2 >= 10);
    console.log(`  cy paused ana's camera (${paused2 - paused1} frames in 1.5 s) and resumed it`);
    const oldMid = (await inboundVideo(pages[2]))[anaCamera].mid;
    await pages[2].evaluate(id => window.room.subscription(id, false), anaCamera);
    await pages[2].waitForFunction(id => window.room.events.some(e => e.type === 'subscriptionUpdated' && e.trackId === id && !e.subscribed), anaCamera, { timeout: 5000 });
    await pages[2].evaluate(id => window.room.subscription(id, true), anaCamera);
    await waitUntil('ana\'s camera in a new section after subscribing again', async () => {
      const again = (await inboundVideo(pages[2]))[anaCamera];
      return again && again.mid !== oldMid && again.frames > 10;
    }, { attempts: 80 });
    console.log('  cy unsubscribed from ana\'s camera and subscribed again');
  } catch (error) {
    console.log(`--- server log (last 80 lines) ---\n${server.log().split('\n').slice(-80).join('\n')}`);
    throw error;
  } finally {
    await browser.close();
    const status = await server.stop();
    assert.strictEqual(status.code, 0, `meeting exited with ${JSON.stringify(status)}`);
  }
};
