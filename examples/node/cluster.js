'use strict'
// The demo as a Node cluster (node:cluster): SESSILE_WORKERS workers (default 4), each
// running server.js with its own engine, all over one Redis/Valkey store, so a login on
// one worker is seen by every other and a logout on one ends the session on all. No
// sticky sessions: the primary hands connections to workers round-robin.
//
// SESSILE_STORE names the store; without it this starts a redis-server of its own on a
// unix socket in a temporary folder, and stops it on exit. SESSILE_STORE_KEY (64 hex
// digits) is the deployment's store key, and SESSILE_SECRET the cookie's signing secret;
// without them, each is made for this run (every worker gets the same). PORT and the
// other SESSILE_* variables are server.js's.
//
// Prints `listening on 127.0.0.1:<port>` once every worker accepts connections; stops
// its workers (and its redis-server) on SIGTERM or SIGINT.
// Run: make demo DEMO=node STORE=redis [PORT=8080]
const cluster = require('node:cluster')
const crypto = require('node:crypto')
const path = require('node:path')
const { startRedis } = require('./redis')

const count = Number(process.env.SESSILE_WORKERS || 4)
if (!Number.isInteger(count) || count < 1) throw new Error('SESSILE_WORKERS must be an integer >= 1')

async function main() {
  const env = {}
  let redis = null
  if (!process.env.SESSILE_STORE) {
    redis = await startRedis()
    env.SESSILE_STORE = redis.url
    process.stderr.write(`cluster: redis-server (pid ${redis.pid}) at ${redis.url}\n`)
  }
  if (!process.env.SESSILE_STORE_KEY) env.SESSILE_STORE_KEY = crypto.randomBytes(32).toString('hex')
  // The cookie's signing secret, the same in every worker (server.js makes one per process).
  if (!process.env.SESSILE_SECRET) env.SESSILE_SECRET = crypto.randomBytes(32).toString('hex')

  cluster.setupPrimary({ exec: path.join(__dirname, 'server.js') })
  const workers = []
  let listening = 0
  let stopping = false
  let port = null

  const stop = async (code) => {
    if (stopping) return
    stopping = true
    const exits = workers
      .filter((w) => w.process.exitCode === null && w.process.signalCode === null)
      .map((w) => new Promise((resolve) => w.process.once('exit', resolve)))
    for (const w of workers) w.process.kill('SIGTERM')
    await Promise.all(exits)
    if (redis) await redis.close()
    process.exit(code)
  }
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => stop(0))

  for (let i = 0; i < count; i++) {
    const w = cluster.fork(env)
    workers.push(w)
    w.once('listening', (address) => {
      // One listening socket, held by the primary, for every worker (PORT=0 too).
      if (port !== null && address.port !== port) {
        process.stderr.write(`cluster: workers listen on ports ${port} and ${address.port}: stopping\n`)
        return stop(1)
      }
      port = address.port
      if (++listening === count) process.stdout.write(`listening on 127.0.0.1:${port}\n`)
    })
    w.once('exit', (code, signal) => {
      if (stopping) return
      // A worker that dies is not replaced: the demo stops, saying why.
      process.stderr.write(`cluster: worker ${w.process.pid} exited (${signal || code}): stopping\n`)
      stop(1)
    })
  }
}

main().catch((err) => {
  process.stderr.write(`cluster: ${err.message}\n`)
  process.exit(1)
})
