'use strict'
// A redis-server of our own, on a unix socket in a fresh temporary folder: what the demo
// starts when no SESSILE_STORE is given, and what the Node tests run against. Only the
// process started here is ever stopped (by its pid, never by name).
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const MISSING = 'redis-server not found: install it with `make tools-redis` (Debian: apt-get install redis-server)'

// Resolves once `sock` accepts a connection; rejects when `child` exits first or after
// ~10 s.
function ready(sock, child) {
  return new Promise((resolve, reject) => {
    let tries = 0
    let exited = null
    child.once('exit', (code, signal) => (exited = `exited (${signal || code})`))
    const attempt = () => {
      if (exited) return reject(new Error(`redis-server ${exited}`))
      const c = net.connect(sock)
      c.once('connect', () => {
        c.destroy()
        resolve()
      })
      c.once('error', () => {
        c.destroy()
        if (++tries > 500) return reject(new Error('redis-server did not start within 10 s'))
        setTimeout(attempt, 20)
      })
    }
    attempt()
  })
}

/**
 * Start a redis-server on `<tmp>/redis.sock`. `aof`: append-only file on, fsync at every
 * write (a restart then brings the data back). Returns `{ url, dir, pid, stop, start }`:
 * `stop()` ends the server (the folder stays, for `start()` to bring it back with its
 * data); `close()` stops it and removes the folder.
 */
async function startRedis({ aof = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessile-redis-'))
  const sock = path.join(dir, 'redis.sock')
  const args = ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--dir', dir, '--save', '']
  args.push('--appendonly', aof ? 'yes' : 'no', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction')
  args.push('--daemonize', 'no', '--loglevel', 'warning')
  let child = null
  const server = {
    url: `unix://${sock}`,
    dir,
    get pid() {
      return child ? child.pid : null
    },
    async start() {
      child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] })
      const spawned = new Promise((resolve, reject) => {
        child.once('spawn', resolve)
        child.once('error', (err) => reject(err.code === 'ENOENT' ? new Error(MISSING) : err))
      })
      await spawned
      await ready(sock, child)
    },
    async stop() {
      if (child === null) return
      const c = child
      child = null
      if (c.exitCode !== null || c.signalCode !== null) return
      const gone = new Promise((resolve) => c.once('exit', resolve))
      c.kill('SIGTERM')
      await gone
    },
    async close() {
      await server.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await server.start()
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return server
}

module.exports = { startRedis }
