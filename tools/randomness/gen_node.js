// Print N session tokens from the Node binding (0 = until stdout closes), one per line.
//   node gen_node.js N [path/to/bindings-node]
'use strict'
const fs = require('fs')
const path = require('path')

const n = Number(process.argv[2])
const where = process.argv[3] || path.join(__dirname, '..', '..', 'bindings-node')
const { Engine } = require(path.resolve(where))
const engine = new Engine({ capacity: 1024 }) // most creates evict: constant memory
const pause = new Int32Array(new SharedArrayBuffer(4))

// Node may leave a pipe non-blocking: a full pipe is EAGAIN, not a wait. Retry until all
// of `text` is written; false once the reader has gone (EPIPE).
function writeAll (text) {
  let buf = Buffer.from(text)
  while (buf.length > 0) {
    try {
      buf = buf.subarray(fs.writeSync(1, buf))
    } catch (e) {
      if (e.code === 'EPIPE') return false
      if (e.code !== 'EAGAIN') throw e
      Atomics.wait(pause, 0, 0, 1)
    }
  }
  return true
}

let batch = []
for (let i = 0; n === 0 || i < n; i++) {
  batch.push(engine.create().token)
  if (batch.length === 4096) {
    if (!writeAll(batch.join('\n') + '\n')) process.exit(0)
    batch = []
  }
}
if (batch.length > 0) writeAll(batch.join('\n') + '\n')
