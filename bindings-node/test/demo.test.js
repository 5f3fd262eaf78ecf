'use strict'
// The demo server over real HTTP: the curl flow of tests/e2e/README.md and a fixation attempt.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')

const demo = path.join(__dirname, '..', '..', 'examples', 'node')

function start() {
  const child = spawn(process.execPath, ['server.js'], {
    cwd: demo,
    env: Object.assign({}, process.env, { PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    let out = ''
    child.on('exit', (code) => reject(new Error(`demo exited ${code}: ${stderr}`)))
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve({ child, base: `http://127.0.0.1:${m[1]}`, log: () => stderr })
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
