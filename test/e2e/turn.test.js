'use strict';
// Issue 7: a browser that may only use TURN (iceTransportPolicy "relay") reaches the sfuserver
// through our turnserver, over UDP and over TCP to the TURN server, with coturn-style REST API
// credentials derived from --secret. Media goes page -> TURN -> sfu -> TURN -> page.
const assert = require('assert');
const crypto = require('crypto');
const { startMeeting, freePort } = require('./lib/server');
const { launch, newPage, waitForMedia, selectedPairs } = require('./lib/browser');

const SECRET = 'e2e-turn-secret';

// coturn's TURN REST API scheme: username "expiry:user", password base64(HMAC-SHA1(secret, username)).
function restCredentials(user, secret = SECRET) {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:${user}`;
  return { username, credential: crypto.createHmac('sha1', secret).update(username).digest('base64') };
}

async function relayedEcho(server, browser, turnPort, turnTransport, credentials, timeoutMs = 20000) {
  const iceServers = [{ urls: [`turn:127.0.0.1:${turnPort}?transport=${turnTransport}`], ...credentials }];
  const page = await newPage(browser);
  const query = new URLSearchParams({ iceServers: JSON.stringify(iceServers), policy: 'relay' });
  await page.goto(`${server.baseUrl}/echo?${query}`);
  await page.click('#start');
  const media = await waitForMedia(page, { videoStreams: 1, timeoutMs });
  const pairs = await selectedPairs(page);
  const log = await page.textContent('#log');
  await page.context().close();
  return { media, pairs, log };
}

module.exports = async function turnTest() {
  const turnPort = await freePort();
  const server = await startMeeting({
    name: 'turn',
    args: ['--secret', SECRET, '--port', String(turnPort), '--tls-port', String(await freePort()),
      '--allow-loopback-peers', 'true', '--turn-workers', '1'],
  });
  const browser = await launch();
  try {
    for (const transport of ['udp', 'tcp']) {
      const { media, pairs, log } = await relayedEcho(server, browser, turnPort, transport, restCredentials('e2e'));
      assert.ok(media.moving && media.audio, `TURN/${transport}: echoed media not flowing: ${JSON.stringify(media)}\n${log}`);
      assert.ok(pairs.length >= 2 && pairs.every(p => p.localType === 'relay' && p.relayProtocol === transport),
        `TURN/${transport}: selected pairs are not relayed over ${transport}: ${JSON.stringify(pairs)}`);
      const frames = media.after1s.v.map(v => `${v.frames} frames ${v.w}x${v.h}`).join(', ');
      console.log(`  relay over TURN/${transport}: echoed video decoding (${frames}), audio packets ${media.after1s.a.map(a => a.packets).join(', ')}`);
    }
    // A wrong secret gives credentials the server refuses: no relayed path, no media.
    const refused = await relayedEcho(server, browser, turnPort, 'udp', restCredentials('e2e', 'wrong-secret'), 6000);
    assert.ok(refused.pairs.length === 0 && refused.media.after1s.v.every(v => v.frames === 0),
      `credentials from a wrong secret were accepted: ${JSON.stringify(refused.pairs)}`);
    console.log('  credentials derived from a wrong secret: refused, no media');
  } catch (error) {
    console.log(`--- server log (last 60 lines) ---\n${server.log().split('\n').slice(-60).join('\n')}`);
    throw error;
  } finally {
    await browser.close();
    const status = await server.stop();
    assert.strictEqual(status.code, 0, `meeting exited with ${JSON.stringify(status)}`);
  }
};
