'use strict'
// make bench-node (after bench.js): Express over one Redis, sessile/express with sessile's
// Redis store against express-session + connect-redis, in one run on one redis-server that
// this script starts on a unix socket in a temporary folder (no persistence) and stops.
//
// Per session layer and request kind (read-only: GET /r reads the session; read-modify-
// write: GET / increments a counter), measured as bench.js measures (servers take turns in
// bursts, all but the one under load paused, server CPU per request summed over the
// bursts), with the no-session app as the floor. Then, for a fixed number of sequential
// requests of each kind, the Redis server's counters: round trips (`total_reads_processed`:
// one read event per request a client sent and waited on) and bytes sent to and received
// from Redis per request; and memory per session in Redis (`used_memory` delta over many
// sessions, each with the same small payload).
//
// Targets (issue 14): at most one round trip for a read-only request; sessile's overhead at
// most half of express-session + connect-redis's. Also reported: the level field (below).
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startServer, only, burst, CONNECTIONS } = require('./bench')

const ROUNDS = Number(process.env.BENCH_ROUNDS || 8)
const WARMUP = Number(process.env.BENCH_WARMUP || 2)
const SEQUENTIAL = Number(process.env.BENCH_REDIS_REQUESTS || 500)
const SESSIONS = Number(process.env.BENCH_REDIS_SESSIONS || 5000)
const KEY = 'c4'.repeat(32) // a fixed deployment key: this server lives for this run only
const VARIANTS = [
  ['none', 'no sessions (floor)'],
  ['sessile-redis', 'sessile/express (Redis store)'],
  ['connect-redis', 'express-session + connect-redis'],
  ['none+dict', 'no sessions, req/res as dictionaries (level floor)'],
  ['connect-redis+dict', 'express-session + connect-redis, req/res as dictionaries'],
]
// The level field (as bench.js's): sessile/express turns req and res into dictionaries,
// which makes the rest of Express's work cheaper too (bindings-node/README.md); these two
// take the same conversion, so sessile's session work alone is compared with
// connect-redis's. Reported beside the target's ratio, which is against the plain floor.
const LEVEL = new Set(['none+dict', 'connect-redis+dict'])

function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessile-bench-redis-'))
  const sock = path.join(dir, 'redis.sock')
  const child = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 200 && !fs.existsSync(sock); i++) spawnSync('sleep', ['0.05'])
  if (!fs.existsSync(sock)) throw new Error('redis-server did not start')
  const info = (section) => {
    const out = spawnSync('redis-cli', ['-s', sock, 'INFO', section], { encoding: 'utf8' }).stdout
    return Object.fromEntries(out.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(':')))
  }
  const stop = () => {
    child.kill('SIGTERM')
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return { sock, info, stop }
}

function env(redis, variant, tag) {
  return Object.assign({}, process.env, {
    SESSILE_STORE: `unix://${redis.sock}`,
    SESSILE_STORE_KEY: KEY,
    SESSILE_STORE_PREFIX: `bench-${variant}-${tag}`,
    BENCH_REDIS_SOCKET: redis.sock,
  })
}

// Each of the load's connections gets a session of its own, as each browser has: the
// requests of one session are not in flight together. (When they are, sessile's versioned
// saves let one of them land and answer the others 409, no update lost, where
// connect-redis lets the last write win; a load of concurrent writes to one session would
// measure conflicts, not session work.)
async function prepare(redis, variant, tag) {
  const server = await startServer(variant, env(redis, variant, tag))
  server.cookies = []
  for (let i = 0; i < CONNECTIONS; i++) {
    const first = await fetch(server.url)
    const set = first.headers.getSetCookie()[0]
    await first.text()
    if (set) server.cookies.push(set.split(';')[0])
  }
  if (server.cookies.length === 0) delete server.cookies
  server.headers = server.cookies ? { cookie: server.cookies[0] } : {}
  return server
}

// Redis's counters over `n` sequential requests to `url`, per request. Reading them
// (a redis-cli run) is read events and bytes of its own: measured by two readings with
// nothing between, and taken off.
async function traffic(redis, server, url, n) {
  const stats = () => {
    const s = redis.info('stats')
    return { reads: Number(s.total_reads_processed), in: Number(s.total_net_input_bytes), out: Number(s.total_net_output_bytes) }
  }
  const a = stats()
  const b = stats()
  const cost = { reads: b.reads - a.reads, in: b.in - a.in, out: b.out - a.out }
  const before = stats()
  for (let i = 0; i < n; i++) {
    const r = await fetch(url, { headers: server.headers })
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`)
    await r.text()
  }
  const after = stats()
  const per = (k) => (after[k] - before[k] - cost[k]) / n
  return { reads: per('reads'), in: per('in'), out: per('out') }
}

async function memoryPerSession(redis, server) {
  const used = () => Number(redis.info('memory').used_memory)
  const before = used()
  for (let i = 0; i < SESSIONS; i++) {
    const r = await fetch(server.url) // no cookie: a new session holding n=1
    if (r.status !== 200) throw new Error(`${r.status}`)
    await r.text()
  }
  return (used() - before) / SESSIONS
}

async function main() {
  const redis = startRedis()
  const servers = {}
  const verdicts = []
  const levels = []
  try {
    for (const [v] of VARIANTS) servers[v] = await prepare(redis, v, 'load')
    console.log(`\nNode: Express 4 over one Redis (redis-server on a unix socket), ${ROUNDS} rounds of bursts after ${WARMUP} warm-up rounds, taking turns; server CPU µs per request, sums over the bursts.\n`)
    console.log('| request | session layer | server CPU µs/req | overhead | round trips | bytes to Redis | bytes from Redis |')
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
    for (const [route, kind] of [['r', 'read-only'], ['', 'read-modify-write']]) {
      const sum = {}
      for (const [v] of VARIANTS) sum[v] = { requests: 0, cpu: 0 }
      for (let round = -WARMUP; round < ROUNDS; round++) {
        for (let k = 0; k < VARIANTS.length; k++) {
          const v = VARIANTS[(k + round + WARMUP) % VARIANTS.length][0]
          await only(Object.values(servers), servers[v])
          const b = await burst(v, servers[v], servers[v].url + route)
          if (round < 0) continue
          sum[v].requests += b.requests
          sum[v].cpu += b.cpu
        }
      }
      for (const s of Object.values(servers)) s.child.kill('SIGCONT')
      const cpu = (v) => sum[v].cpu / sum[v].requests
      const over = (v) => cpu(v) - cpu('none')
      const level = (v) => cpu(v) - cpu('none+dict')
      for (const [v, label] of VARIANTS) {
        const t = v === 'none' || LEVEL.has(v) ? null : await traffic(redis, servers[v], servers[v].url + route, SEQUENTIAL)
        const overhead = v === 'none' || v === 'none+dict' ? '—' : v === 'connect-redis+dict' ? `(level) ${level(v).toFixed(1)}` : over(v).toFixed(1)
        const cells = [kind, label, cpu(v).toFixed(1), overhead]
        cells.push(t ? t.reads.toFixed(2) : '—', t ? t.in.toFixed(0) : '—', t ? t.out.toFixed(0) : '—')
        console.log(`| ${cells.join(' | ')} |`)
        if (v === 'sessile-redis' && route === 'r') verdicts.push(['read-only round trips <= 1', t.reads, t.reads <= 1])
      }
      const ratio = over('sessile-redis') / over('connect-redis')
      verdicts.push([`sessile overhead <= 0.5 x connect-redis's (${kind})`, ratio, ratio <= 0.5])
      const levelRatio = level('sessile-redis') / level('connect-redis+dict')
      console.log(`| ${kind} | level field: sessile's session work (over the level floor) / connect-redis's with the same conversion | | ${levelRatio.toFixed(2)} | | | |`)
      levels.push([kind, levelRatio])
    }
    console.log(`\nMemory per session in Redis (${SESSIONS} sessions, payload {n: 1}; used_memory delta):`)
    for (const [v, label] of VARIANTS.slice(1, 3)) {
      const server = await prepare(redis, v, 'memory')
      try {
        console.log(`  ${label}: ${(await memoryPerSession(redis, server)).toFixed(0)} B`)
      } finally {
        server.child.removeAllListeners('exit')
        server.child.kill('SIGTERM')
      }
    }
    console.log('\nTargets:')
    for (const [what, value, met] of verdicts) console.log(`  ${what}: ${value.toFixed(2)} -> ${met ? 'MET' : 'NOT MET'}`)
    console.log('Level field (report only; both layers behind the req/res conversion):')
    for (const [kind, value] of levels) console.log(`  sessile's session work / connect-redis's (${kind}): ${value.toFixed(2)}`)
  } finally {
    for (const s of Object.values(servers)) {
      s.child.removeAllListeners('exit')
      s.child.kill('SIGCONT')
      s.child.kill('SIGTERM')
    }
    redis.stop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
