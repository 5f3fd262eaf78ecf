'use strict'
// The engine and sessile/express over a shared Redis store, against a redis-server each
// test starts on a unix socket in a temporary folder (examples/node/redis.js; missing:
// the test fails, `make tools-redis` installs it). What a user would notice: the same
// answers as with sessions in the process, workers that see each other's logins and
// logouts, 503 (never a 500 with a trace, never a session taken as valid) while Redis is
// down and recovery when it is back, no lost update and no session brought back by a
// late save.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const http = require('node:http')
const { spawnSync } = require('node:child_process')
const request = require('supertest')
const express = require('express5')
const session = require('../express')
const { Engine, configKeys } = require('..')
const { startRedis } = require(path.join(__dirname, '..', '..', 'examples', 'node', 'redis.js'))

const KEY = '5e'.repeat(32)
const SECRET = 'keyboard cat'

// Two-second timeouts, not the 100 ms defaults: a healthy server's late reply on a busy
// machine must not fail a test that is not about timeouts (those set their own).
function redisEngine(redis, extra) {
  return new Engine(Object.assign({ store: redis.url, storeKey: KEY, storeConnectTimeoutMs: 2000, storeResponseTimeoutMs: 2000 }, extra))
}

// An app of the demo's shape: a counter, login, profile, logout. `gate`: requests to
// /slow-inc wait for it before changing the session (two requests made to overlap).
function app(engine, gate) {
  const a = express()
  a.use(session({ secret: SECRET, engine }))
  a.get('/', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    res.send(String(req.session.n))
  })
  a.get('/read', (req, res) => res.send(String(req.session.n ?? 'none')))
  a.get('/slow-inc', async (req, res) => {
    const n = req.session.n || 0
    await gate()
    req.session.n = n + 1
    res.send(String(n + 1))
  })
  a.post('/login/:user', (req, res, next) => req.session.login(req.params.user, (err) => (err ? next(err) : res.send('in'))))
  a.get('/profile', (req, res) => (req.session.userId ? res.send('profile of ' + req.session.userId) : res.status(401).send('no')))
  a.post('/logout', (req, res, next) => req.session.logout((err) => (err ? next(err) : res.send('out'))))
  a.use((err, req, res, next) => res.status(500).send('error: ' + (err.code || err.message) + '\n' + err.stack))
  return a
}

function cookieOf(res) {
  const set = (res.headers['set-cookie'] || []).find((c) => c.startsWith('connect.sid='))
  return set ? set.split(';')[0] : undefined
}

test('the store keys are options of new Engine, checked by the store, listed by configKeys', async () => {
  const names = configKeys().filter((k) => k.store).map((k) => k.name)
  assert.deepEqual(names, ['store', 'storeKey', 'storePrefix', 'storeConnectTimeoutMs', 'storeResponseTimeoutMs', 'storeTombstoneTtlMs', 'storeTlsCa', 'storeEventStream'])
  const bad = (options, key) =>
    assert.throws(() => new Engine(options), (err) => err.code === 'SESSILE_CONFIG' && err.key === key && err.message.startsWith(key + ':'))
  bad({ store: 'localhost:6379', storeKey: KEY }, 'store')
  bad({ store: 'redis://127.0.0.1:1', storeKey: 'abc' }, 'storeKey')
  bad({ store: 'redis://127.0.0.1:1', storeKey: Buffer.alloc(31, 1) }, 'storeKey')
  bad({ store: 'redis://127.0.0.1:1' }, 'storeKey')
  bad({ storeKey: KEY }, 'storeKey')
  bad({ store: 'redis://127.0.0.1:1', storeKey: KEY, storePrefix: 'a{b}' }, 'storePrefix')
  bad({ store: 'redis://127.0.0.1:1', storeKey: KEY, storeResponseTimeoutMs: 0 }, 'storeResponseTimeoutMs')
  assert.throws(() => new Engine({ store_key: KEY }), (err) => err.code === 'SESSILE_CONFIG' && /did you mean storeKey/.test(err.message))
  // The key as 32 bytes, and `memory` is the process's table.
  assert.equal(new Engine({ store: 'redis://127.0.0.1:1', storeKey: Buffer.alloc(32, 7) }).shared, true)
  assert.equal(new Engine({ store: 'memory' }).shared, false)
  assert.equal(new Engine().shared, false)
})

test('redis down: typed SESSILE_STORE errors, never a valid or a missing session', async () => {
  const engine = new Engine({ store: 'redis://127.0.0.1:1/0', storeKey: KEY, storeConnectTimeoutMs: 50 })
  const token = 'A'.repeat(43)
  for (const call of [() => engine.create(), () => engine.validate(token), () => engine.load(token), () => engine.logout(token)]) {
    assert.throws(call, (err) => err.code === 'SESSILE_STORE' && /^store_/.test(err.reason))
  }
  assert.throws(
    () => engine.snapshot('/tmp/never', Buffer.alloc(32, 1)),
    (err) => err.code === 'SESSILE_SNAPSHOT' && err.reason === 'snapshot_shared_store',
  )
})

// The same flow, answered alike over both stores: statuses, bodies, and the events.
async function flow(engine) {
  const a = request(app(engine, async () => {}))
  const seen = []
  const r1 = await a.get('/').expect(200)
  const anon = cookieOf(r1)
  seen.push(r1.text)
  seen.push((await a.get('/').set('Cookie', anon)).text)
  const r2 = await a.post('/login/alice').set('Cookie', anon)
  const alice = cookieOf(r2)
  seen.push(r2.status, alice !== anon)
  for (const [cookie, route] of [
    [alice, '/profile'],
    [alice, '/read'],
    [anon, '/profile'],
  ]) {
    const r = await a.get(route).set('Cookie', cookie)
    seen.push(route, r.status, r.text)
  }
  seen.push((await a.post('/logout').set('Cookie', alice)).status)
  for (const cookie of [alice, anon]) {
    const r = await a.get('/profile').set('Cookie', cookie)
    seen.push(r.status, r.text)
  }
  const kinds = engine.drainEvents().map((e) => e.kind)
  return { seen, kinds }
}

test('login, validate, logout, reuse: the same answers and events over Redis as in memory', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const memory = await flow(new Engine({ seed: Buffer.alloc(32, 1) }))
  const shared = await flow(redisEngine(redis))
  assert.deepEqual(shared.seen, memory.seen)
  assert.deepEqual(shared.kinds, memory.kinds)
  // The flow did what it says: the logged-out and the rotated-out cookies are refused.
  assert.deepEqual(memory.seen.slice(-4), [401, 'no', 401, 'no'])
  assert.ok(memory.kinds.includes('reuse_after_logout'), memory.kinds.join())
})

test('two engines over one Redis (two workers) see each other\'s logins and logouts', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const one = request(app(redisEngine(redis), async () => {}))
  const two = request(app(redisEngine(redis), async () => {}))
  const start = cookieOf(await one.get('/').expect(200, '1'))
  await two.get('/').set('Cookie', start).expect(200, '2')
  const alice = cookieOf(await two.post('/login/alice').set('Cookie', start).expect(200))
  await one.get('/profile').set('Cookie', alice).expect(200, 'profile of alice')
  await one.get('/read').set('Cookie', alice).expect(200, '2')
  await one.get('/profile').set('Cookie', start).expect(401)
  await one.post('/logout').set('Cookie', alice).expect(200)
  await two.get('/profile').set('Cookie', alice).expect(401)
})

test('engine.save over Redis keeps the load\'s epoch: a write made meanwhile by another engine wins, the stale save is dropped', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const a = redisEngine(redis)
  // The key as 32 bytes is the same key as its 64 hex digits.
  const b = redisEngine(redis, { storeKey: Buffer.from(KEY, 'hex') })
  const { token } = a.create()
  const seenA = a.load(token)
  const seenB = b.load(token)
  assert.deepEqual([seenA.session.handle, seenA.session.epoch], [seenB.session.handle, seenB.session.epoch])
  assert.equal(b.save(seenB.session.handle, seenB.session.epoch, '{"by":"b"}'), 'written')
  assert.equal(a.save(seenA.session.handle, seenA.session.epoch, '{"by":"a"}'), 'dropped')
  assert.equal(a.load(token).data, '{"by":"b"}')
  const again = a.load(token)
  assert.equal(a.save(again.session.handle, again.session.epoch, '{"by":"b"}'), 'unchanged')
  assert.equal(a.save(again.session.handle, again.session.epoch, '{"by":"a"}'), 'written')
  b.logout(token)
  const gone = a.save(again.session.handle, again.session.epoch + 1, '{"late":true}')
  assert.equal(gone, 'dropped', 'never onto a logged-out session')
  assert.throws(() => a.validate(token), { code: 'SESSILE_SESSION_INVALID', reason: 'logged_out' })
})

// Two requests on one session made to overlap: both load, then both change it.
async function overlap(appA, appB, cookie) {
  let release
  const both = new Promise((resolve) => (release = resolve))
  let waiting = 0
  const gate = () => {
    if (++waiting === 2) release()
    return both
  }
  const a = request(appA(gate)).get('/slow-inc').set('Cookie', cookie)
  const b = request(appB(gate)).get('/slow-inc').set('Cookie', cookie)
  return Promise.all([a, b])
}

test('two workers racing on one session lose no update silently: one lands, the other answers 409', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const e1 = redisEngine(redis)
  const e2 = redisEngine(redis)
  const cookie = cookieOf(await request(app(e1, async () => {})).get('/').expect(200, '1'))
  const [a, b] = await overlap(
    (gate) => app(e1, gate),
    (gate) => app(e2, gate),
    cookie,
  )
  const answers = [a, b].map((r) => [r.status, r.text]).sort()
  assert.deepEqual(answers, [
    [200, '2'],
    [409, 'session changed by another request: try again\n'],
  ])
  assert.equal(cookieOf(a.status === 409 ? a : b), undefined, 'no cookie with the 409')
  // What was kept is what the 200 said; the client of the 409 retries and counts on.
  const read = request(app(e2, async () => {}))
  await read.get('/read').set('Cookie', cookie).expect(200, '2')
  await read.get('/').set('Cookie', cookie).expect(200, '3')
})

for (const kind of ['memory', 'redis']) {
  test(`${kind}: a save after a logout elsewhere is dropped: the session stays dead`, async (t) => {
    let engines
    if (kind === 'redis') {
      const redis = await startRedis()
      t.after(() => redis.close())
      engines = [redisEngine(redis), redisEngine(redis)]
    } else {
      const e = new Engine()
      engines = [e, e]
    }
    const plain = request(app(engines[0], async () => {}))
    const anon = cookieOf(await plain.get('/').expect(200, '1'))
    const alice = cookieOf(await plain.post('/login/alice').set('Cookie', anon).expect(200))
    let release
    const loaded = new Promise((resolve) => (release = resolve))
    let go
    const logoutDone = new Promise((resolve) => (go = resolve))
    // Request A loads alice's session and waits; meanwhile B logs it out.
    const a = request(
      app(engines[0], () => {
        release()
        return logoutDone
      }),
    )
      .get('/slow-inc')
      .set('Cookie', alice)
    const pending = a.then((r) => r)
    await loaded
    await request(app(engines[1], async () => {}))
      .post('/logout')
      .set('Cookie', alice)
      .expect(200)
    go()
    const r = await pending
    assert.equal(r.status, 409)
    assert.equal(cookieOf(r), undefined)
    await plain.get('/profile').set('Cookie', alice).expect(401)
    await plain.get('/read').set('Cookie', alice).expect(200, 'none')
  })
}

test('redis stopped mid-run: 503 with a short text, no cookie, then recovery when it is back', async (t) => {
  const redis = await startRedis({ aof: true })
  t.after(() => redis.close())
  const engine = redisEngine(redis, { storeConnectTimeoutMs: 100, storeResponseTimeoutMs: 100 })
  const a = request(app(engine, async () => {}))
  const anon = cookieOf(await a.get('/').expect(200, '1'))
  const alice = cookieOf(await a.post('/login/alice').set('Cookie', anon).expect(200))
  await a.get('/profile').set('Cookie', alice).expect(200, 'profile of alice')

  await redis.stop()
  for (const [method, route, cookie] of [
    ['get', '/profile', alice],
    ['get', '/', alice],
    ['get', '/', undefined],
    ['post', '/login/bob', undefined],
    ['post', '/logout', alice],
  ]) {
    const req = a[method](route)
    if (cookie) req.set('Cookie', cookie)
    const r = await req
    assert.equal(r.status, 503, `${method} ${route}: ${r.status} ${r.text}`)
    assert.equal(r.text, 'session store unavailable: try again\n')
    assert.match(r.headers['content-type'], /^text\/plain/)
    assert.equal(r.headers['set-cookie'], undefined)
  }

  await redis.start()
  await a.get('/profile').set('Cookie', alice).expect(200, 'profile of alice')
  await a.get('/').set('Cookie', alice).expect(200, '2')
  await a.post('/logout').set('Cookie', alice).expect(200)
  await a.get('/profile').set('Cookie', alice).expect(401)
})

test('redis too slow (paused): store_timeout, 503, then recovery when it answers again', async (t) => {
  const redis = await startRedis()
  t.after(async () => {
    if (redis.pid) process.kill(redis.pid, 'SIGCONT')
    await redis.close()
  })
  const engine = redisEngine(redis, { storeConnectTimeoutMs: 100, storeResponseTimeoutMs: 50 })
  const a = request(app(engine, async () => {}))
  const anon = cookieOf(await a.get('/').expect(200, '1'))
  const alice = cookieOf(await a.post('/login/alice').set('Cookie', anon).expect(200))
  const { token } = engine.create()
  process.kill(redis.pid, 'SIGSTOP')
  assert.throws(() => engine.validate(token), { code: 'SESSILE_STORE', reason: 'store_timeout' })
  const r = await a.get('/profile').set('Cookie', alice)
  assert.equal(r.status, 503, r.text)
  assert.equal(r.headers['set-cookie'], undefined)
  process.kill(redis.pid, 'SIGCONT')
  await a.get('/profile').set('Cookie', alice).expect(200, 'profile of alice')
  engine.validate(token)
})

// An HTTP server of `expressApp` on a free port; closed after the test.
async function listen(t, expressApp) {
  const server = http.createServer(expressApp)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return server.address().port
}

function get(port, route, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: route, headers: cookie ? { cookie } : {} }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode, text: body, cookie: cookieOf(res) }))
    })
    req.on('error', reject)
  })
}

test('sessile/express does not block the event loop on Redis: other requests are served while one waits', async (t) => {
  const redis = await startRedis()
  t.after(async () => {
    if (redis.pid) process.kill(redis.pid, 'SIGCONT')
    await redis.close()
  })
  const a = express()
  a.get('/plain', (req, res) => res.send('plain'))
  a.use(session({ secret: SECRET, engine: redisEngine(redis, { storeResponseTimeoutMs: 5000 }) }))
  a.get('/', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    res.send(String(req.session.n))
  })
  const port = await listen(t, a)
  const cookie = (await get(port, '/')).cookie
  assert.equal((await get(port, '/', cookie)).text, '2')
  process.kill(redis.pid, 'SIGSTOP')
  let sessionDone = false
  const waiting = get(port, '/', cookie).then((r) => {
    sessionDone = true
    return r
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
  // Served while the session request waits on the paused Redis (the synchronous client
  // would hold the event loop for the whole response timeout).
  const plain = await get(port, '/plain')
  assert.equal(plain.text, 'plain')
  assert.equal(sessionDone, false, 'the session request still waits on Redis')
  process.kill(redis.pid, 'SIGCONT')
  const r = await waiting
  assert.deepEqual([r.status, r.text], [200, '3'])
})

test('many requests in flight on one connection to Redis: each gets its own session, every counter exact', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const engine = redisEngine(redis)
  const a = express()
  a.use(session({ secret: SECRET, engine }))
  a.get('/inc', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    setImmediate(() => res.send(String(req.session.n)))
  })
  a.get('/n', (req, res) => res.send(String(req.session.n ?? 'none')))
  const port = await listen(t, a)
  const clients = 30
  const rounds = 8
  const cookies = []
  for (let i = 0; i < clients; i++) cookies.push((await get(port, '/inc')).cookie)
  // Every client's session holds a different count before they all run at once.
  for (let i = 0; i < clients; i++) for (let k = 0; k < i % 5; k++) await get(port, '/inc', cookies[i])
  const stats = () => spawnSync('redis-cli', ['-s', redis.url.slice('unix://'.length), 'INFO', 'stats'], { encoding: 'utf8' }).stdout
  const connections = () => Number(/total_connections_received:(\d+)/.exec(stats())[1])
  const before = connections()
  const finals = await Promise.all(
    cookies.map(async (cookie, i) => {
      const start = 1 + (i % 5)
      for (let k = 1; k <= rounds; k++) {
        const r = await get(port, '/inc', cookie)
        assert.deepEqual([r.status, r.text], [200, String(start + k)], 'its own session, no increment lost')
      }
      return (await get(port, '/n', cookie)).text
    }),
  )
  assert.deepEqual(
    finals,
    cookies.map((_, i) => String(1 + (i % 5) + rounds)),
  )
  // One connection carried them all: none was made for this burst but the second
  // reading's own (redis-cli).
  assert.equal(connections() - before, 1)
})

test('two workers incrementing one session at once over Redis: every 200 counted, none lost', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const ports = []
  for (let w = 0; w < 2; w++) {
    const a = express()
    a.use(session({ secret: SECRET, engine: redisEngine(redis) }))
    a.get('/inc', (req, res) => {
      req.session.n = (req.session.n || 0) + 1
      setImmediate(() => res.send(String(req.session.n)))
    })
    a.get('/n', (req, res) => res.send(String(req.session.n ?? 0)))
    ports.push(await listen(t, a))
  }
  const cookie = (await get(ports[0], '/inc')).cookie
  let landed = 1
  let conflicts = 0
  await Promise.all(
    Array.from({ length: 8 }, async (_, c) => {
      for (let k = 0; k < 6; k++) {
        // A 409 (another request wrote first) is retried, as a client would.
        for (;;) {
          const r = await get(ports[c % 2], '/inc', cookie)
          if (r.status === 200) break
          assert.equal(r.status, 409, r.text)
          conflicts++
        }
        landed++
      }
    }),
  )
  assert.equal((await get(ports[1], '/n', cookie)).text, String(landed))
  assert.ok(conflicts > 0, 'the requests did overlap')
})

test('a script flushed from Redis (NOSCRIPT) is loaded again: requests go on', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const a = express()
  a.use(session({ secret: SECRET, engine: redisEngine(redis) }))
  a.get('/', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    res.send(String(req.session.n))
  })
  a.get('/read', (req, res) => res.send(String(req.session.n ?? 'none')))
  const port = await listen(t, a)
  const cookie = (await get(port, '/')).cookie
  for (const route of ['/read', '/']) {
    const flushed = spawnSync('redis-cli', ['-s', redis.url.slice('unix://'.length), 'SCRIPT', 'FLUSH'], { encoding: 'utf8' })
    assert.equal(flushed.stdout.trim(), 'OK')
    const r = await get(port, route, cookie)
    assert.deepEqual([r.status, r.text], [200, route === '/' ? '2' : '1'])
  }
  assert.equal((await get(port, '/read', cookie)).text, '2')
})

test('the URL\'s database and password reach the carried connection too: sessions land in that database; a refused login is a 503', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.close())
  const sock = redis.url.slice('unix://'.length)
  const cli = (...args) => spawnSync('redis-cli', ['-s', sock, ...args], { encoding: 'utf8' }).stdout.trim()
  const withDb = express()
  withDb.use(session({ secret: SECRET, engine: new Engine({ store: `${redis.url}?db=3`, storeKey: KEY }) }))
  withDb.get('/', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    res.send(String(req.session.n))
  })
  const port = await listen(t, withDb)
  const cookie = (await get(port, '/')).cookie
  assert.equal((await get(port, '/', cookie)).text, '2')
  assert.equal((await get(port, '/', cookie)).text, '3')
  assert.ok(Number(cli('-n', '3', 'DBSIZE')) > 0, 'keys in database 3')
  assert.equal(cli('-n', '0', 'DBSIZE'), '0', 'none in database 0')
  // A password the server does not take: every request of that engine is a 503 with the
  // short text (the server has no password set: AUTH is refused).
  const wrong = express()
  wrong.use(session({ secret: SECRET, engine: new Engine({ store: `${redis.url}?db=3&pass=nope`, storeKey: KEY }) }))
  wrong.get('/', (req, res) => res.send('served'))
  const wrongPort = await listen(t, wrong)
  for (let i = 0; i < 2; i++) {
    const r = await get(wrongPort, '/', cookie)
    assert.deepEqual([r.status, r.text], [503, 'session store unavailable: try again\n'])
  }
})

test('SessileStore (IDs kept in this process) refuses a shared store rather than lose sessions between workers', () => {
  const { SessileStore } = session
  assert.throws(() => new SessileStore({ store: 'redis://127.0.0.1:1', storeKey: KEY }), /use sessile\/express/)
})
