'use strict'
// sessile demo (Express + sessile/express), the contract in tests/e2e/README.md.
// Run: make demo DEMO=node [PORT=8080]; over Redis with 4 workers: make demo DEMO=node
// STORE=redis (cluster.js, which runs this file in each worker).
//
// Sessions live in this process unless SESSILE_STORE names a Redis/Valkey server
// (`redis://...`, `unix:///.../redis.sock`); SESSILE_STORE_KEY (64 hex digits) and
// SESSILE_STORE_PREFIX go with it. SESSILE_SNAPSHOT_PATH and SESSILE_SNAPSHOT_KEY (64 hex
// digits), for sessions in this process: restored at start, written at SIGTERM / SIGINT.
const cluster = require('node:cluster')
const express = require('express')
const session = require('sessile/express')
const { Engine } = require('sessile')

const env = (name, fallback, min = 1) => {
  const v = process.env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`)
  return n
}

const text = (name) => (process.env[name] === undefined || process.env[name] === '' ? undefined : process.env[name])

// Tests only (tests/e2e/README.md): the engine's clock plus the milliseconds in the file
// SESSILE_CLOCK_OFFSET_FILE names, read at each reading, so a test moves time on without
// waiting. Unix milliseconds that never go backwards (what a shared store needs too).
const offsetFile = text('SESSILE_CLOCK_OFFSET_FILE')
const clock = () => performance.timeOrigin + performance.now() + Number(require('node:fs').readFileSync(offsetFile, 'utf8'))

const engine = new Engine({
  capacity: env('SESSILE_CAPACITY', 10000),
  idleTimeoutMs: env('SESSILE_IDLE_MS', 1_800_000),
  absoluteTimeoutMs: env('SESSILE_ABSOLUTE_MS', 28_800_000),
  tombstones: 1024,
  store: text('SESSILE_STORE'),
  storeKey: text('SESSILE_STORE_KEY'),
  storePrefix: text('SESSILE_STORE_PREFIX'),
  ...(offsetFile && { clock }),
})
const snapshot =
  text('SESSILE_SNAPSHOT_PATH') === undefined ? undefined : { path: text('SESSILE_SNAPSHOT_PATH'), key: text('SESSILE_SNAPSHOT_KEY') }
engine.on('event', (e) => process.stderr.write(`sessile-event ${e.kind} session=${e.session}\n`))

const USERS = { admin: 'admin', alice: 'alice', bob: 'bob' }
const app = express()
app.disable('x-powered-by')

// Loopback is a secure context (browsers and curl keep Secure cookies for it), so the
// demo can use the secure cookie defaults over plain HTTP on 127.0.0.1.
app.use((req, res, next) => {
  Object.defineProperty(req, 'secure', { value: true })
  res.on('finish', () => engine.emitEvents())
  next()
})
app.use(
  session({
    secret: process.env.SESSILE_SECRET || require('node:crypto').randomBytes(32),
    name: '__Host-sid',
    engine,
    snapshot,
    cookie: { secure: true, httpOnly: true, sameSite: 'lax', path: '/' },
  }),
)
app.use(express.urlencoded({ extended: false, limit: '4kb' }))

app.get('/', (req, res) => {
  if (!req.session.started) req.session.started = Date.now()
  res.type('text').send('Welcome to the sessile demo. POST /login with username and password.\n')
})

app.post('/login', (req, res, next) => {
  const { username, password } = req.body || {}
  if (typeof username !== 'string' || typeof password !== 'string' || username === '') {
    return res.status(400).type('text').send('malformed form\n')
  }
  if (!Object.hasOwn(USERS, username) || USERS[username] !== password) {
    return res.status(401).type('text').send('bad credentials\n')
  }
  req.session.login(username, (err) => (err ? next(err) : res.type('text').send(`logged in as ${username}\n`)))
})

function needUser(req, res, next) {
  if (!req.session || !req.session.userId) return res.status(401).type('text').send('not logged in\n')
  next()
}

app.get('/profile', needUser, (req, res) => res.type('text').send(`profile of ${req.session.userId}\n`))

app.post('/logout', (req, res, next) => {
  req.session.logout((err) => (err ? next(err) : res.type('text').send('logged out\n')))
})

app.post('/logout-everywhere', needUser, (req, res, next) => {
  req.session.logoutEverywhere((err, n) => (err ? next(err) : res.json({ count: n })))
})

app.get('/sessions', needUser, (req, res) => res.json({ count: engine.sessionsOf(req.session.userId).length }))

app.use((err, req, res, next) => {
  // The session store cannot answer (Redis down or slow): try again later.
  if (err.code === 'SESSILE_STORE') return res.status(503).type('text').send('session store unavailable\n')
  const status = err.status || err.statusCode
  if (status >= 400 && status < 500) return res.status(status).type('text').send('bad request\n')
  process.stderr.write(`error: ${err.stack || err}\n`)
  res.status(500).type('text').send('internal error\n')
})

const port = env('PORT', 8080, 0) // 0: any free port (printed below)
const server = app.listen(port, '127.0.0.1', () => {
  // In a cluster the primary says it, once every worker listens (cluster.js).
  if (cluster.isPrimary) process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`)
})
// Keep-alive connections would hold close() open: end the idle ones now.
const stop = () => {
  server.close(() => process.exit(0))
  server.closeIdleConnections()
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, stop)
// A worker whose primary went away (disconnect) stops too.
if (cluster.isWorker) cluster.worker.on('disconnect', stop)
