'use strict'
// Restarts of a single process keep their sessions: the engine's table is restored from
// a snapshot file at start, and written to it at shutdown (SIGTERM, SIGINT, and the
// process's exit, whichever way it comes). The file, its encryption and every check
// (tampered, truncated, stale, wrong key: refused, and the engine starts empty) are the
// core's (`engine.snapshot`, `engine.restoreFrom`). For sessions in this process only: a
// shared store (Redis) keeps its sessions itself.

// 32 bytes, as a Buffer or 64 hex digits.
function keyOf(key) {
  if (Buffer.isBuffer(key) && key.length === 32) return key
  if (typeof key === 'string' && /^[0-9a-fA-F]{64}$/.test(key)) return Buffer.from(key, 'hex')
  throw new TypeError('snapshot.key must be 32 bytes: a Buffer, or 64 hex digits')
}

/**
 * Restore `engine` from `options.path` now (nothing there yet: it starts empty; a file
 * refused: a warning, and it starts empty), and write its snapshot there at SIGTERM,
 * SIGINT and exit. `options`: `{ path, key, maxAgeMs }` (`key`: 32 bytes, Buffer or hex;
 * `maxAgeMs`: the oldest snapshot accepted, default the engine's). Returns what the
 * restore brought back, or null.
 */
function snapshotOnShutdown(engine, options) {
  const o = options || {}
  if (typeof o.path !== 'string' || o.path === '') throw new TypeError('snapshot.path must be a file path')
  const key = keyOf(o.key)
  if (engine.shared) {
    throw new TypeError('snapshot is for sessions in this process: a shared store (store: a Redis URL) keeps its sessions itself')
  }
  let restored = null
  try {
    restored = engine.restoreFrom(o.path, key, o.maxAgeMs === undefined ? undefined : { maxAgeMs: o.maxAgeMs })
  } catch (err) {
    if (err.code !== 'ENOENT') {
      // Refused (tampered, truncated, stale, another key, ...): the engine starts empty.
      process.emitWarning(`sessile: snapshot ${o.path} not restored (${err.reason || err.code}): ${err.message}`, 'SessileSnapshotWarning')
    }
  }
  let written = false
  const write = () => {
    try {
      engine.snapshot(o.path, key)
      written = true
    } catch (err) {
      process.stderr.write(`sessile: snapshot ${o.path} not written: ${err.message}\n`)
    }
  }
  const onSignal = (signal) => {
    write()
    // Alone on this signal, this listener took Node's default (exit) away: give it back.
    if (process.listenerCount(signal) === 1) {
      process.removeListener(signal, onSignal)
      process.kill(process.pid, signal)
    }
  }
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, onSignal)
  // Whatever happened between the signal and the exit (requests being drained) too.
  process.on('exit', write)
  return { restored, written: () => written }
}

module.exports = { snapshotOnShutdown }
