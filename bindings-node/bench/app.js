'use strict'
// One benchmark server (run as a child process by bench.js): the same Express 4 app that
// reads, modifies and writes the session on every request, with the session layer
// named in argv[2]. Prints the port once listening.
const express = require('express4')

const variant = process.argv[2]
const app = express()
app.disable('x-powered-by')
app.disable('etag')

// CPU time this process has used (µs: user, then system), read before and after a
// measurement; registered before the session middleware so it costs the same in every
// variant.
app.get('/__cpu', (req, res) => {
  const u = process.cpuUsage()
  res.send(`${u.user} ${u.system}`)
})

// The level field: the dictionary conversion sessile/express makes (see express.js,
// toDictionary) speeds up the rest of Express's handling of a request, so the bench also
// runs the no-session app and express-session behind the same conversion.
function toDictionary(obj, key) {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return
  const value = obj[key]
  if (Reflect.deleteProperty(obj, key)) obj[key] = value
}
if (variant.endsWith('+dict')) {
  app.use((req, res, next) => {
    toDictionary(req, 'res')
    toDictionary(res, 'req')
    next()
  })
}

if (variant === 'none+dict') {
  // the conversion alone
} else if (variant !== 'none') {
  const common = { secret: 'bench secret', resave: false, saveUninitialized: false }
  let mw
  if (variant === 'sessile' || variant === 'sessile+dict') {
    mw = require('../express')(Object.assign(common, { engineOptions: { capacity: 100_000, poolBytes: 64 << 20 } }))
  } else if (variant === 'sessile-redis') {
    // bench-redis.js: the same middleware over the Redis store it started.
    const engineOptions = {
      capacity: 100_000,
      poolBytes: 64 << 20,
      store: process.env.SESSILE_STORE,
      storeKey: process.env.SESSILE_STORE_KEY,
      storePrefix: process.env.SESSILE_STORE_PREFIX,
    }
    mw = require('../express')(Object.assign(common, { engineOptions }))
  } else if (variant === 'connect-redis' || variant === 'connect-redis+dict') {
    // express-session with connect-redis over the same Redis (node-redis client).
    const session = require('express-session')
    const { RedisStore } = require('connect-redis')
    const client = require('redis').createClient({ socket: { path: process.env.BENCH_REDIS_SOCKET } })
    client.connect().catch((err) => {
      console.error(err)
      process.exit(1)
    })
    mw = session(Object.assign(common, { store: new RedisStore({ client, prefix: `${process.env.SESSILE_STORE_PREFIX}:` }) }))
  } else {
    const session = require('express-session')
    let store
    if (variant === 'express-session' || variant === 'express-session+dict') store = new session.MemoryStore()
    else if (variant === 'memorystore') store = new (require('memorystore')(session))({ checkPeriod: 3_600_000 })
    else if (variant === 'sessile-store') store = new (require('../express').SessileStore)({ capacity: 100_000 })
    else throw new Error('unknown variant ' + variant)
    mw = session(Object.assign(common, { store }))
  }
  app.use(mw)
}

app.get('/', (req, res) => {
  if (req.session) req.session.n = (req.session.n || 0) + 1
  res.send('n=' + (req.session ? req.session.n : 0))
})

// Read-only: reads the session, changes nothing (bench-redis.js).
app.get('/r', (req, res) => {
  res.send('n=' + (req.session ? req.session.n || 0 : 0))
})

const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`))
process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
