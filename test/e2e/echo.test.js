'use strict';
// Issue 3: the /echo page's camera, microphone and data channel go through the sfuserver and
// come back, over UDP and over ICE-TCP.
const assert = require('assert');
const { startMeeting } = require('./lib/server');
const { launch, newPage, waitForMedia, selectedProtocols } = require('./lib/browser');

// The publisher's send-side estimate, once a second for `seconds`: the selected pair's
// availableOutgoingBitrate (Chromium's bandwidth estimate, fed by the server's transport-wide
// feedback) and the outbound video's targetBitrate and bytesSent rate.
async function publisherBitrates(page, seconds) {
  return page.evaluate(async (seconds) => {
    const pc = window.echo.pub;
    const samples = [];
    let last = null;
    for (let i = 0; i <= seconds; i++) {
      const stats = await pc.getStats();
      const sample = { t: i, available: 0, target: 0, bytesSent: 0, sendKbps: 0 };
      stats.forEach(s => {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          const pair = stats.get(s.selectedCandidatePairId);
          if (pair && pair.availableOutgoingBitrate) sample.available = pair.availableOutgoingBitrate;
        }
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          sample.target += s.targetBitrate || 0;
          sample.bytesSent += s.bytesSent || 0;
        }
      });
      if (last) sample.sendKbps = Math.round((sample.bytesSent - last.bytesSent) * 8 / 1000);
      samples.push(sample);
      last = sample;
      if (i < seconds) await new Promise(r => setTimeout(r, 1000));
    }
    return samples;
  }, seconds);
}

// Issue 4: with transport-wide feedback from the server, Chromium's estimate leaves its start
// value (without feedback it stays there) and the encoder follows it.
async function checkCongestionControl(page, transport, consoleErrors) {
  const samples = await publisherBitrates(page, 6);
  const kbps = v => Math.round(v / 1000);
  console.log(`  ${transport}: publisher availableOutgoingBitrate kbps ${samples.map(s => kbps(s.available)).join(' -> ')}; ` +
    `video targetBitrate kbps ${samples.map(s => kbps(s.target)).join(' -> ')}; sent kbps ${samples.slice(1).map(s => s.sendKbps).join(', ')}`);
  // Chromium starts its estimate at 300 kbps (libwebrtc's default start bitrate); by the time
  // media has flowed for a couple of seconds, feedback must have taken it well above that.
  const ChromiumStartBps = 300000;
  const peak = Math.max(...samples.map(s => s.available));
  assert.ok(samples[0].available > 0, `${transport}: no availableOutgoingBitrate on the publisher's selected pair`);
  assert.ok(peak > 2 * ChromiumStartBps,
    `${transport}: the publisher's estimate stayed near Chromium's start value (peak ${peak}): no transport-wide feedback?`);
  const end = samples[samples.length - 1];
  assert.ok(end.target > 0 && end.target <= end.available * 1.1,
    `${transport}: video targetBitrate ${end.target} not within the estimate ${end.available}`);
  const rates = samples.slice(1).map(s => s.sendKbps);
  assert.ok(Math.max(...rates) > 100 && Math.max(...rates) < 20000, `${transport}: video send rate not sane: ${rates}`);
  assert.deepStrictEqual(consoleErrors.filter(m => /transport-cc|transport_cc|twcc/i.test(m)), [],
    `${transport}: transport-cc errors in the page console`);
}

async function runEcho(server, browser, transport, { dataChannel }) {
  const page = await newPage(browser);
  const consoleErrors = [];
  page.on('console', message => { if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text()); });
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
  await checkCongestionControl(page, transport, consoleErrors);

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
