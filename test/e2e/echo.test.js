'use strict';
// Issue 3: the /echo page's camera, microphone and data channel go through the sfuserver and
// come back, over UDP and over ICE-TCP.
const assert = require('assert');
const { startMeeting } = require('./lib/server');
const { launch, newPage, waitForMedia, selectedProtocols } = require('./lib/browser');

async function runEcho(server, browser, transport, { dataChannel }) {
  const page = await newPage(browser);
  await page.goto(`${server.baseUrl}/echo`);
  await page.selectOption('#transport', transport);
  await page.click('#start');
  const media = await waitForMedia(page, { videoStreams: 1 });
  const log = await page.textContent('#log');
  assert.ok(media.moving, `${transport}: echoed video is not decoding/moving: ${JSON.stringify(media)}\npage log:\n${log}`);
  assert.ok(media.audio, `${transport}: no echoed audio packets: ${JSON.stringify(media)}`);
  const protocols = await selectedProtocols(page);
  const expected = transport === 'tcp' ? 'tcp' : 'udp';
  assert.ok(protocols.length >= 2 && protocols.every(p => p === expected),
    `${transport}: selected pairs use ${JSON.stringify(protocols)}, expected ${expected}`);
  const frames = media.after1s.v.map(v => `${v.frames} frames ${v.w}x${v.h}`).join(', ');
  console.log(`  ${transport}: echoed video decoding (${frames}), audio packets ${media.after1s.a.map(a => a.packets).join(', ')}, pairs ${protocols.join('/')}, ${media.ms} ms`);

  if (dataChannel) {
    await page.evaluate(() => window.echo.ready);
    const result = await page.evaluate(() => window.echo.roundTrip(100, { 50: 65536 }));
    assert.strictEqual(result.count, 100);
    assert.ok(result.inOrder, `data channel echo out of order or altered: ${JSON.stringify(result.sizes)}`);
    assert.strictEqual(result.sizes[50], 65536);
    console.log(`  ${transport}: data channel echoed 100 messages in order, one of 64 KiB`);
  }
  await page.context().close();
}

module.exports = async function echoTest() {
  const server = await startMeeting({ name: 'echo' });
  const browser = await launch();
  try {
    await runEcho(server, browser, 'udp', { dataChannel: true });
    await runEcho(server, browser, 'tcp', { dataChannel: true });
  } catch (error) {
    console.log(`--- server log (last 80 lines) ---\n${server.log().split('\n').slice(-80).join('\n')}`);
    throw error;
  } finally {
    await browser.close();
    const status = await server.stop();
    assert.strictEqual(status.code, 0, `meeting exited with ${JSON.stringify(status)}`);
  }
};
