'use strict'
// The demo server over real HTTP: the curl flow of tests/e2e/README.md and a fixation attempt.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const demo = path.join(__dirname, '..', '..', 'examples', 'node')

// Start the demo (`script`: server.js, or cluster.js for the multi-worker one); `stop()`
// sends SIGTERM and resolves with its exit code.
function start(env = {}, script = 'server.js') {
  const child = spawn(process.execPath, [script], {
    cwd: demo,
    env: Object.assign({}, process.env, { PORT: '0' }, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal || code)))
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    return exited
  }
  return new Promise((resolve, reject) => {
    let out = ''
    child.on('exit', (code) => reject(new Error(`demo exited ${code}: ${stderr}`)))
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve({ child, stop, base: `http://127.0.0.1:${m[1]}`, log: () => stderr, out: () => out })
    })
  })
}

async function call(base, method, route, { cookie, form } = {}) {
  const headers = {}
  if (cookie) headers.cookie = cookie
  let body
  if (form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = form
  }
  const res = await fetch(base + route, { method, headers, body, redirect: 'manual' })
  const set = res.headers.getSetCookie()[0]
  return { status: res.status, text: await res.text(), set, cookie: set ? set.split(';')[0] : undefined }
}

test('demo: login / profile / logout flow, fixation attempt, bad cookies', async (t) => {
  const { child, base, log } = await start()
  t.after(() => child.kill('SIGTERM'))

  const landing = await call(base, 'GET', '/')
  assert.equal(landing.status, 200)
  assert.match(landing.set, /^__Host-sid=s%3A[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
  const anon = landing.cookie

  assert.equal((await call(base, 'GET', '/profile', { cookie: anon })).status, 401)
  assert.equal((await call(base, 'POST', '/login', { cookie: anon, form: 'username=alice&password=nope' })).status, 401)
  assert.equal((await call(base, 'POST', '/login', { cookie: anon, form: 'username=' })).status, 400)

  const login = await call(base, 'POST', '/login', { cookie: anon, form: 'username=alice&password=alice' })
  assert.equal(login.status, 200)
  assert.match(login.text, /alice/)
  assert.ok(login.cookie && login.cookie !== anon, 'login rotates the session ID')
  const alice = login.cookie

  const profile = await call(base, 'GET', '/profile', { cookie: alice })
  assert.equal(profile.status, 200)
  assert.match(profile.text, /alice/)

  // Fixation: the attacker planted `anon` before the victim logged in; it is dead now.
  assert.equal((await call(base, 'GET', '/profile', { cookie: anon })).status, 401)

  // A cookie the attacker made up is never adopted: login issues a fresh one.
  const planted = '__Host-sid=s%3A' + 'A'.repeat(43) + '.forged'
  const viaPlanted = await call(base, 'POST', '/login', { cookie: planted, form: 'username=bob&password=bob' })
  assert.equal(viaPlanted.status, 200)
  assert.notEqual(viaPlanted.cookie, planted)

  const second = (await call(base, 'POST', '/login', { form: 'username=alice&password=alice' })).cookie
  assert.deepEqual(JSON.parse((await call(base, 'GET', '/sessions', { cookie: alice })).text), { count: 2 })

  for (const bad of ['__Host-sid=%%%', '__Host-sid=' + 'x'.repeat(15000)]) {
    const r = await call(base, 'GET', '/profile', { cookie: bad })
    assert.equal(r.status, 401, 'a malformed or oversized cookie is no session')
  }
  // A second copy with a forged signature (planted) is passed over: alice stays signed in.
  const doubled = await call(base, 'GET', '/profile', { cookie: `__Host-sid=s%3Aother.sig; ${alice}` })
  assert.equal(doubled.status, 200)
  assert.match(doubled.text, /alice/)

  const out = await call(base, 'POST', '/logout', { cookie: alice })
  assert.equal(out.status, 200)
  assert.match(out.set, /Max-Age=0/)
  assert.equal((await call(base, 'GET', '/profile', { cookie: alice })).status, 401)
  assert.equal((await call(base, 'POST', '/logout')).status, 200)

  const everywhere = await call(base, 'POST', '/logout-everywhere', { cookie: second })
  assert.deepEqual(JSON.parse(everywhere.text), { count: 1 })
  assert.equal((await call(base, 'POST', '/logout-everywhere', { cookie: second })).status, 401)

  await new Promise((r) => setTimeout(r, 50))
  const lines = log().trim().split('\n')
  for (const line of lines) assert.match(line, /^sessile-event [a-z_]+ session=[0-9a-f]{16}$/)
  for (const kind of ['created', 'logged_in', 'logged_out', 'reuse_after_logout', 'revoked']) {
    assert.ok(lines.some((l) => l.startsWith(`sessile-event ${kind} `)), kind)
  }
})

test('demo: a restart with a snapshot keeps a logged-in session and keeps a logged-out one dead', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessile-snap-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const env = {
    SESSILE_SECRET: 'demo secret for this test',
    SESSILE_SNAPSHOT_PATH: path.join(dir, 'sessions.snap'),
    SESSILE_SNAPSHOT_KEY: '42'.repeat(32),
  }
  const first = await start(env)
  t.after(() => first.stop())
  const alice = (await call(first.base, 'POST', '/login', { form: 'username=alice&password=alice' })).cookie
  const bob = (await call(first.base, 'POST', '/login', { form: 'username=bob&password=bob' })).cookie
  assert.equal((await call(first.base, 'POST', '/logout', { cookie: bob })).status, 200)
  assert.equal(await first.stop(), 0)
  assert.ok(fs.existsSync(env.SESSILE_SNAPSHOT_PATH), 'written at SIGTERM')

  const second = await start(env)
  t.after(() => second.stop())
  const profile = await call(second.base, 'GET', '/profile', { cookie: alice })
  assert.equal(profile.status, 200)
  assert.match(profile.text, /alice/)
  assert.equal((await call(second.base, 'GET', '/profile', { cookie: bob })).status, 401)
  assert.equal(await second.stop(), 0)
  assert.match(second.log(), /sessile-event reuse_after_logout /)

  // Without the snapshot (a fresh start), alice's session is gone: the restore did it.
  const third = await start({ SESSILE_SECRET: env.SESSILE_SECRET })
  t.after(() => third.stop())
  assert.equal((await call(third.base, 'GET', '/profile', { cookie: alice })).status, 401)
  await third.stop()

  // A tampered file is refused: the demo starts empty, and says so.
  const bytes = fs.readFileSync(env.SESSILE_SNAPSHOT_PATH)
  bytes[bytes.length - 1] ^= 1
  fs.writeFileSync(env.SESSILE_SNAPSHOT_PATH, bytes)
  const fourth = await start(env)
  t.after(() => fourth.stop())
  assert.equal((await call(fourth.base, 'GET', '/profile', { cookie: alice })).status, 401)
  await fourth.stop()
  assert.match(fourth.log(), /not restored \(snapshot_tampered\)/)
})

// One request on a connection of its own (no keep-alive: the cluster's round-robin hands
// each connection to the next worker).
function fresh(base, method, route, { cookie, form } = {}) {
  const http = require('node:http')
  const headers = { connection: 'close' }
  if (cookie) headers.cookie = cookie
  if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
  return new Promise((resolve, reject) => {
    const req = http.request(base + route, { method, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('end', () => {
        const set = (res.headers['set-cookie'] || [])[0]
        resolve({ status: res.statusCode, text, cookie: set ? set.split(';')[0] : undefined })
      })
    })
    req.on('error', reject)
    req.end(form)
  })
}

test('demo cluster over Redis: 4 workers, one store; logins and logouts seen by every worker', async (t) => {
  const cluster = await start({ SESSILE_WORKERS: '4' }, 'cluster.js')
  t.after(() => cluster.stop())
  const base = cluster.base
  const alice = (await fresh(base, 'POST', '/login', { form: 'username=alice&password=alice' })).cookie
  assert.ok(alice)
  // A connection each: the round-robin spreads them over the workers; every one knows
  // alice, and after the logout (on one of them) none does.
  for (let i = 0; i < 12; i++) {
    const r = await fresh(base, 'GET', '/profile', { cookie: alice })
    assert.equal(r.status, 200, `request ${i}`)
  }
  assert.equal((await fresh(base, 'POST', '/logout', { cookie: alice })).status, 200)
  for (let i = 0; i < 12; i++) {
    assert.equal((await fresh(base, 'GET', '/profile', { cookie: alice })).status, 401, `request ${i}`)
  }
  assert.equal(await cluster.stop(), 0)
  const lines = cluster.log().trim().split('\n').filter((l) => l.startsWith('sessile-event '))
  for (const line of lines) assert.match(line, /^sessile-event [a-z_]+ session=[0-9a-f]{16}$/)
  assert.ok(lines.some((l) => l.startsWith('sessile-event reuse_after_logout ')), cluster.log())
  // Its redis-server is gone with it.
  const pid = Number(/redis-server \(pid (\d+)\)/.exec(cluster.log())[1])
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
})
