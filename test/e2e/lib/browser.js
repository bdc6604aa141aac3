'use strict';
// Debian's Chromium through playwright-core, per shared/browser-testing.md: fake camera and
// microphone, loopback candidates, no outside DNS. Never downloads a browser.
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

// A page whose RTCPeerConnections are collected in window.__pcs (browser-testing.md §6).
async function newPage(browser) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  await context.addInitScript(() => {
    const Original = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Original {
      constructor(...args) { super(...args); window.__pcs.push(this); }
    };
  });
  const page = await context.newPage();
  page.on('console', message => { if (process.env.E2E_VERBOSE) console.log(`  [page] ${message.text()}`); });
  return page;
}

// Waits until `videoStreams` inbound videos decode and audio arrives, then checks that the
// video keeps moving for one more second.
async function waitForMedia(page, { timeoutMs = 20000, videoStreams = 1 } = {}) {
  return page.evaluate(async ({ timeoutMs, videoStreams }) => {
    const snap = async () => {
      const v = [], a = [];
      for (const pc of window.__pcs) {
        (await pc.getStats()).forEach(s => {
          if (s.type !== 'inbound-rtp') return;
          if (s.kind === 'video') v.push({ id: s.id, frames: s.framesDecoded || 0, w: s.frameWidth, h: s.frameHeight });
          else a.push({ id: s.id, packets: s.packetsReceived || 0 });
        });
      }
      return { v, a };
    };
    const t0 = performance.now();
    let s;
    do {
      s = await snap();
      if (s.v.filter(x => x.frames > 0).length >= videoStreams && s.a.some(x => x.packets > 0)) break;
      await new Promise(r => setTimeout(r, 200));
    } while (performance.now() - t0 < timeoutMs);
    await new Promise(r => setTimeout(r, 1000));
    const s2 = await snap();
    const moving = s2.v.length >= videoStreams && s2.v.every(x => x.frames - (s.v.find(y => y.id === x.id)?.frames || 0) >= 10);
    const audio = s2.a.some(x => x.packets > 0);
    return { first: s, after1s: s2, moving, audio, ms: Math.round(performance.now() - t0) };
  }, { timeoutMs, videoStreams });
}

// The selected candidate pair of every connected PeerConnection: the remote (server)
// candidate's protocol, and the local candidate's type and TURN relay protocol.
async function selectedPairs(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs) {
      const stats = await pc.getStats();
      stats.forEach(s => {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
        const pair = stats.get(s.selectedCandidatePairId);
        const remote = pair && stats.get(pair.remoteCandidateId);
        const local = pair && stats.get(pair.localCandidateId);
        if (remote && local) {
          out.push({ remoteProtocol: remote.protocol, localType: local.candidateType, relayProtocol: local.relayProtocol || null });
        }
      });
    }
    return out;
  });
}

async function selectedProtocols(page) {
  return (await selectedPairs(page)).map(p => p.remoteProtocol);
}

module.exports = { launch, newPage, waitForMedia, selectedPairs, selectedProtocols };
