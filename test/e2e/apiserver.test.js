'use strict';
// Issue 5: the full path across processes. `meeting apiserver` and `meeting sfuserver
// --apiserver ...` run separately; a room is created over REST; two Chromium peers join with
// the returned ws_url and token; both decode each other's video; when they leave, the apiserver
// has their user_sessions rows (reported by the sfuserver over the control link).
const assert = require('assert');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startMeeting, request, sleep, binaryPath, waitUntil } = require('./lib/server');
const { launch, newPage, waitForMedia } = require('./lib/browser');

const SECRET = 'e2e-cluster-secret-0123456789abcdef';

// A request with a raw text body (the fsserver takes the file's bytes as they are).
function rawRequest(method, url, body, headers = {}) {
  const https = require('https');
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method, rejectUnauthorized: false, timeout: 10000,
      headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
    }, response => {
      let text = '';
      response.on('data', chunk => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}


module.exports = async function apiserverTest() {
  const apiData = fs.mkdtempSync(path.join(os.tmpdir(), 'meeting-e2e-api-'));
  const keyOutput = execFileSync(binaryPath(), ['ctl', 'apikey', 'create', 'e2e', '--data', apiData], { encoding: 'utf8' });
  const apiKey = (keyOutput.match(/mk_[A-Za-z0-9_-]+/) || [])[0];
  assert.ok(apiKey, `no API key in: ${keyOutput}`);
  const auth = { headers: { Authorization: `Bearer ${apiKey}` } };

  const api = await startMeeting({ role: 'apiserver', name: 'api', dataDir: apiData, args: ['--secret', SECRET] });
  const sfu = await startMeeting({ role: 'sfuserver', name: 'sfu', args: ['--secret', SECRET, '--apiserver', api.baseUrl] });
  const fsserver = await startMeeting({ role: 'fsserver', name: 'fs', args: ['--secret', SECRET, '--apiserver', api.baseUrl] });
  const browser = await launch();
  try {
    await waitUntil('the sfuserver and the fsserver to register', async () => {
      const r = await request('GET', `${api.baseUrl}/api/v1/nodes`, auth);
      const up = role => r.status === 200 && (r.body.nodes || []).some(n => n.role === role && n.status === 'up');
      return up('sfu') && up('fs');
    });
    const created = await request('POST', `${api.baseUrl}/api/v1/rooms`, { ...auth, body: { room_id: 'two-process', max_peers: 4 } });
    assert.strictEqual(created.status, 201, JSON.stringify(created.body));

    const pages = [];
    for (const name of ['ann', 'ben']) {
      const added = await request('POST', `${api.baseUrl}/api/v1/rooms/two-process/peers`, { ...auth, body: { display_name: name } });
      assert.strictEqual(added.status, 201, JSON.stringify(added.body));
      const { token, ws_url: wsUrl } = added.body;
      const sfuOrigin = wsUrl.replace(/^wss:/, 'https:').replace(/\/rtc$/, '');
      assert.strictEqual(sfuOrigin, sfu.baseUrl, `ws_url ${wsUrl} does not point at the sfuserver ${sfu.baseUrl}`);
      const page = await newPage(browser);
      await page.goto(`${sfuOrigin}/room/two-process?token=${encodeURIComponent(token)}`);
      await page.click('#join');
      await page.waitForFunction(() => window.room && window.room.self, null, { timeout: 15000 });
      pages.push(page);
    }
    for (const page of pages) {
      const media = await waitForMedia(page, { videoStreams: 1, timeoutMs: 25000 });
      assert.ok(media.moving && media.audio, `no media through the sfuserver: ${JSON.stringify(media)}`);
    }
    console.log('  two peers joined with REST-issued tokens and decode each other through the separate sfuserver');

    // A file shared in the room goes to the separate fsserver through a signed URL.
    const content = 'minutes of the two-process meeting\n'.repeat(100);
    const upload = await request('POST', `${api.baseUrl}/api/v1/rooms/two-process/files`,
      { ...auth, body: { name: 'minutes.txt', content_type: 'text/plain', size: content.length } });
    assert.strictEqual(upload.status, 201, JSON.stringify(upload.body));
    assert.ok(upload.body.upload_url.startsWith(fsserver.baseUrl), `upload URL ${upload.body.upload_url} is not on the fsserver`);
    const put = await rawRequest('PUT', upload.body.upload_url, content, { 'Content-Type': 'text/plain', ...(upload.body.headers || {}) });
    assert.ok(put.status === 200 || put.status === 201, `upload answered ${put.status}: ${put.body}`);
    const done = await request('POST', `${api.baseUrl}/api/v1/files/${upload.body.file_id}/complete`, auth);
    assert.ok(done.status === 201 || done.status === 200, JSON.stringify(done.body));
    const meta = await request('GET', `${api.baseUrl}/api/v1/files/${upload.body.file_id}`, auth);
    const downloadUrl = meta.body.download_url || (meta.body.file && meta.body.file.download_url);
    assert.ok(downloadUrl, JSON.stringify(meta.body));
    const got = await rawRequest('GET', downloadUrl);
    assert.strictEqual(got.body, content);
    console.log('  a file went through the REST API to the separate fsserver and came back intact');

    const session = await request('GET', `${api.baseUrl}/api/v1/rooms/two-process/session`, auth);
    assert.strictEqual(session.status, 200, JSON.stringify(session.body));
    const sessionId = session.body.session.id;

    // DELETE of a peer kicks it: its signaling closes and the other sees it leave.
    const annId = await pages[0].evaluate(() => window.room.self.identity);
    const kicked = await request('DELETE', `${api.baseUrl}/api/v1/rooms/two-process/peers/${encodeURIComponent(annId)}`, auth);
    assert.strictEqual(kicked.status, 204, JSON.stringify(kicked.body));
    await pages[0].waitForFunction(() => window.room.ws.readyState === WebSocket.CLOSED, null, { timeout: 10000 });
    await pages[1].waitForFunction(id => window.room.events.some(e => e.type === 'participantLeft' && e.identity === id), annId, { timeout: 10000 });
    console.log('  DELETE peer: the peer was disconnected and the other saw it leave');

    // DELETE of the room disconnects everyone left.
    const deleted = await request('DELETE', `${api.baseUrl}/api/v1/rooms/two-process`, auth);
    assert.strictEqual(deleted.status, 204, JSON.stringify(deleted.body));
    await pages[1].waitForFunction(() => window.room.ws.readyState === WebSocket.CLOSED, null, { timeout: 10000 });
    console.log('  DELETE room: the remaining peer was disconnected');

    const users = await waitUntil('user_sessions rows with left_at', async () => {
      const r = await request('GET', `${api.baseUrl}/api/v1/sessions/${sessionId}/users`, auth);
      const rows = r.status === 200 ? r.body.users : [];
      return rows.length === 2 && rows.every(u => u.left_at) ? rows : null;
    });
    assert.deepStrictEqual(users.map(u => u.display_name).sort(), ['ann', 'ben']);
    console.log(`  user_sessions written: ${users.map(u => `${u.display_name} (${u.leave_reason})`).join(', ')}`);

    // With a configured --secret there is no development token endpoint.
    const devToken = await request('GET', `${sfu.baseUrl}/rtc/dev-token?room=two-process&name=mallory`);
    assert.strictEqual(devToken.status, 404);
  } catch (error) {
    console.log(`--- fsserver log ---\n${fsserver.log().split('\n').slice(-20).join('\n')}`);
    console.log(`--- apiserver log ---\n${api.log().split('\n').slice(-30).join('\n')}`);
    console.log(`--- sfuserver log ---\n${sfu.log().split('\n').slice(-30).join('\n')}`);
    throw error;
  } finally {
    await browser.close();
    await fsserver.stop();
    const sfuStatus = await sfu.stop();
    const apiStatus = await api.stop();
    assert.strictEqual(sfuStatus.code, 0, `sfuserver exited with ${JSON.stringify(sfuStatus)}`);
    assert.strictEqual(apiStatus.code, 0, `apiserver exited with ${JSON.stringify(apiStatus)}`);
  }
};
