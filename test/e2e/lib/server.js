'use strict';
// Starts the real `meeting` binary for a test and stops it by pid. Everything is on 127.0.0.1,
// on ports the kernel picks (--listen ...:0 is not known in advance, so a free port is found first).
const { spawn } = require('child_process');
const fs = require('fs');
const https = require('https');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '../../..');

function binaryPath() {
  const candidates = [process.env.MEETING_BINARY, path.join(root, 'build/release/meeting'), path.join(root, 'build/debug/meeting')];
  for (const candidate of candidates) if (candidate && fs.existsSync(candidate)) return candidate;
  throw new Error('meeting binary not found; build it first (scripts/build.sh release) or set MEETING_BINARY');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function get(url) {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const request = client.get(url, { rejectUnauthorized: false, timeout: 2000 }, response => {
      let body = '';
      response.on('data', chunk => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// One JSON request to a server of ours (self-signed TLS); resolves {status, body (parsed when JSON)}.
function request(method, url, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(url, {
      method, rejectUnauthorized: false, timeout: 5000,
      headers: { ...headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) },
    }, response => {
      let text = '';
      response.on('data', chunk => { text += chunk; });
      response.on('end', () => {
        let parsed = text;
        try { parsed = JSON.parse(text); } catch (_) { /* not JSON */ }
        resolve({ status: response.statusCode, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// Starts `meeting <role> ...args` and waits (at most 15 s) until /ping answers.
async function startMeeting(options = {}) {
  const { role = 'all', args = [], name = role } = options;
  const port = await freePort();
  // The all-in-one also runs TURN (default 3478/5349): give it free ports so that a TURN server
  // already on this machine cannot make the test fail.
  const turnArgs = role === 'all' && !args.includes('--port')
    ? ['--port', String(await freePort()), '--tls-port', String(await freePort())] : [];
  const dataDir = options.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), `meeting-e2e-${name}-`));
  const logPath = path.join(dataDir, 'server.log');
  const log = fs.openSync(logPath, 'w');
  const mediaArgs = role === 'all' || role === 'sfuserver' ? ['--media-port', '0', '--media-workers', '1'] : [];
  const fullArgs = [role, '--listen', `127.0.0.1:${port}`, '--data', dataDir, ...mediaArgs,
    '--log-level', process.env.MEETING_E2E_LOG_LEVEL || 'debug', ...turnArgs, ...args];
  const child = spawn(binaryPath(), fullArgs, { stdio: ['ignore', log, log], env: { ...process.env, ...(options.env || {}) } });
  const baseUrl = `https://127.0.0.1:${port}`;
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  for (let attempt = 0; attempt < 150; attempt++) {
    if (exited) break;
    try {
      const r = await get(`${baseUrl}/ping`);
      if (r.status === 200) {
        return {
          baseUrl, port, dataDir, logPath, child,
          log: () => fs.readFileSync(logPath, 'utf8'),
          stop: () => stopProcess(child),
        };
      }
    } catch (_) { /* not listening yet */ }
    await sleep(100);
  }
  stopProcess(child);
  throw new Error(`meeting ${role} did not start (${JSON.stringify(exited)}); log:\n${fs.readFileSync(logPath, 'utf8')}`);
}

// SIGTERM, then SIGKILL after 5 s; resolves with the exit status.
function stopProcess(child) {
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code, signal) => { clearTimeout(killer); resolve({ code, signal }); });
    child.kill('SIGTERM');
  });
}

// Polls `fn` until it returns something truthy: at most `attempts` times, `intervalMs` apart.
async function waitUntil(what, fn, { attempts = 100, intervalMs = 200 } = {}) {
  for (let i = 0; i < attempts; i++) {
    const value = await fn();
    if (value) return value;
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// The administrator's login that an apiserver prints once, on its first start.
function adminCredentials(log) {
  const email = (log.match(/\b(admin@[A-Za-z0-9.-]+)/) || [])[1];
  const password = (log.match(/password[^A-Za-z0-9]{1,6}([A-Za-z0-9!#$%&*+\-=?@^_~]{12,})/i) || [])[1];
  if (!email || !password) throw new Error(`no administrator login in the server's output:\n${log.slice(0, 3000)}`);
  return { email, password };
}

module.exports = { startMeeting, get, request, freePort, sleep, waitUntil, adminCredentials, binaryPath };
