'use strict';
// Issue 4: three participants in one room see and hear each other through the SFU; a mute is seen
// by the others; a participant who leaves disappears for the others; a rejoin works.
const assert = require('assert');
const { startMeeting, get } = require('./lib/server');
const { launch, newPage, waitForMedia } = require('./lib/browser');

async function joinRoom(browser, baseUrl, room, name) {
  const page = await newPage(browser);
  await page.goto(`${baseUrl}/room/${room}`);
  await page.fill('#name', name);
  await page.click('#join');
  await page.waitForFunction(() => window.room && window.room.self, null, { timeout: 15000 });
  return page;
}

// Waits (bounded) until the page has seen an event matching `predicate` (run in the page).
async function waitForEvent(page, predicateSource, arg, timeout = 10000) {
  await page.waitForFunction(([source, value]) => window.room.events.some(e => new Function('e', 'value', source)(e, value)),
    [predicateSource, arg], { timeout });
}

module.exports = async function roomTest() {
  const server = await startMeeting({ name: 'room' });
  const browser = await launch();
  try {
    const names = ['alice', 'bob', 'carol'];
    const pages = [];
    for (const name of names) pages.push(await joinRoom(browser, server.baseUrl, 'e2e', name));
    for (const [i, page] of pages.entries()) {
      const media = await waitForMedia(page, { videoStreams: 2, timeoutMs: 25000 });
      assert.ok(media.moving && media.audio && media.after1s.v.length >= 2,
        `${names[i]} does not receive both others: ${JSON.stringify(media)}\n${await page.textContent('#log')}`);
      console.log(`  ${names[i]} decodes ${media.after1s.v.map(v => `${v.frames} frames ${v.w}x${v.h}`).join(', ')}; audio ${media.after1s.a.map(a => a.packets).join(', ')} packets`);
    }

    // The administrator sees the room on /metrics.
    const metrics = (await get(`${server.baseUrl}/metrics`)).body;
    for (const line of ['meeting_sfu_rooms 1', 'meeting_sfu_peers 3', 'meeting_sfu_tracks 6']) {
      assert.ok(metrics.split('\n').includes(line), `/metrics lacks "${line}":\n${metrics.split('\n').filter(l => l.startsWith('meeting_sfu')).join('\n')}`);
    }

    // alice mutes her microphone: bob and carol are told.
    const alice = await pages[0].evaluate(() => window.room.self.identity);
    await pages[0].evaluate(() => window.room.setMuted(true));
    for (const page of pages.slice(1)) {
      await waitForEvent(page, "return e.type === 'trackMuted' && e.identity === value && e.muted === true", alice);
    }
    console.log('  alice muted: bob and carol saw it');

    // carol leaves: alice and bob get participantLeft and her tile goes away.
    const carol = await pages[2].evaluate(() => window.room.self.identity);
    await pages[2].evaluate(() => window.room.leave());
    for (const page of pages.slice(0, 2)) {
      await waitForEvent(page, "return e.type === 'participantLeft' && e.identity === value", carol);
      const tiles = await page.$$eval('.tile', els => els.map(e => e.dataset.identity));
      assert.ok(!tiles.includes(carol), `carol's tile is still shown: ${tiles}`);
    }
    await pages[2].context().close();
    console.log('  carol left: alice and bob saw her go');

    // carol comes back and receives both others again.
    const again = await joinRoom(browser, server.baseUrl, 'e2e', 'carol');
    const media = await waitForMedia(again, { videoStreams: 2, timeoutMs: 25000 });
    assert.ok(media.moving && media.after1s.v.length >= 2, `carol after rejoining: ${JSON.stringify(media)}`);
    await waitForEvent(pages[0], "return e.type === 'participantJoined' && e.participant.name === value", 'carol');
    console.log('  carol rejoined and decodes both others');

    // Chat goes to everyone.
    await pages[1].evaluate(() => window.room.ws.send(JSON.stringify({ type: 'chat', text: 'hello room' })));
    await again.waitForFunction(() => window.room.chat.some(c => c.text === 'hello room'), null, { timeout: 10000 });

    // Hostile messages get an error and change nothing.
    const errors = await pages[0].evaluate(async () => {
      const before = window.room.events.filter(e => e.type === 'error').length;
      window.room.ws.send('{not json');
      window.room.ws.send(JSON.stringify({ type: 'nonsense' }));
      window.room.ws.send(JSON.stringify({ type: 'mute', trackId: 'TR_not_mine', muted: true }));
      window.room.ws.send(JSON.stringify({ type: 'chat', text: 'x'.repeat(5000) }));
      await new Promise(r => setTimeout(r, 1000));
      return window.room.events.filter(e => e.type === 'error').slice(before).map(e => e.code);
    });
    assert.deepStrictEqual(errors, ['bad_message', 'unknown_type', 'unknown_track', 'bad_message']);
    // Bob still holds the ended stream of carol's first visit: count the streams that move.
    const still = await waitForMedia(pages[1], { videoStreams: 2, timeoutMs: 10000 });
    const moving = still.after1s.v.filter(x => x.frames - (still.first.v.find(y => y.id === x.id)?.frames || 0) >= 10);
    assert.ok(moving.length >= 2, `media stopped after hostile messages: ${JSON.stringify(still)}`);
    console.log('  chat delivered; hostile messages refused with errors, media unaffected');
  } catch (error) {
    console.log(`--- server log (last 60 lines) ---\n${server.log().split('\n').slice(-60).join('\n')}`);
    throw error;
  } finally {
    await browser.close();
    const status = await server.stop();
    assert.strictEqual(status.code, 0, `meeting exited with ${JSON.stringify(status)}`);
  }
};
