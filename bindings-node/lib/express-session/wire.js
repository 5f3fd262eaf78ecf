'use strict'
// The connection to Redis that sessile/express carries its per-request commands on, so
// that a request waiting on Redis does not block the event loop (the engine's own client is
// synchronous: Python, C and Rust, and forks, need it so). The engine builds every command's
// bytes and decides from every reply's bytes (link.loadCommand / loadReply, saveCommand /
// saveReply): this module only moves bytes. One socket per link; the commands of the
// requests of one turn of the event loop go out in one write, and replies are matched to
// commands in order (Redis answers one connection's commands in the order sent).
//
// Failures give the engine's typed SESSILE_STORE errors (link.storeError): no answer within
// the response timeout ('timeout'), a socket that could not connect or broke
// ('unavailable'), a refused hello (AUTH, SELECT, SCRIPT LOAD: 'refused'). A timeout or a
// broken socket fails every command on it (their replies, if any come, would be out of
// step) and drops it; the next command connects anew, so a Redis that comes back is used
// again without a restart.
const net = require('node:net')

// Where the reply that starts at `at` in `buf` ends (RESP2), or -1 when not all of it is
// there yet. Reads the bytes once, without strings (the lookup's reply is an array of
// about twenty); throws on what is not RESP. The engine checks each reply whole.
function replyEnd(buf, at) {
  const len = buf.length
  let p = at
  let pending = 1 // values still to skip
  while (pending > 0) {
    if (p >= len) return -1
    const type = buf[p++]
    let n = 0
    let negative = false
    if (type === 36 || type === 42) {
      // $ and *: a count
      if (p < len && buf[p] === 45) {
        negative = true
        p++
      }
      let digits = 0
      while (p < len && buf[p] !== 13) {
        const d = buf[p++] - 48
        if (d < 0 || d > 9 || ++digits > 15) throw new Error('sessile: not a RESP reply')
        n = n * 10 + d
      }
      if (digits === 0 && p < len) throw new Error('sessile: not a RESP reply')
    } else if (type === 43 || type === 45 || type === 58) {
      // + - :
      while (p < len && buf[p] !== 13) p++
    } else {
      throw new Error('sessile: not a RESP reply')
    }
    if (p + 1 >= len) return -1
    if (buf[p + 1] !== 10) throw new Error('sessile: not a RESP reply')
    p += 2
    pending--
    if (negative) continue
    if (type === 36) {
      p += n + 2
      if (p > len) return -1
    } else if (type === 42) {
      pending += n
    }
  }
  return p
}

class Wire {
  constructor(link) {
    this.link = link
    this.info = link.wire
    this.socket = null
    this.ready = false // the hello's replies are all in
    this.helloLeft = 0
    // Commands sent or to send, in order: { cb, at }.
    this.queue = []
    this.head = 0
    this.out = [] // bytes waiting for the end of this turn
    this.flushing = false
    this.input = null
    this.timer = null
    this.flush = () => this.flushNow()
    this.check = () => this.checkTimeout()
  }

  // The engine's SESSILE_STORE error of `kind`.
  error(kind) {
    try {
      this.link.storeError(kind)
    } catch (err) {
      return err
    }
    return new Error('sessile: store ' + kind)
  }

  connect() {
    const info = this.info
    const socket = info.path !== undefined ? net.createConnection({ path: info.path }) : net.createConnection({ host: info.host, port: info.port })
    socket.setNoDelay(true)
    // Requests in flight keep the process alive by their own sockets; an idle connection
    // to Redis does not.
    socket.unref()
    this.socket = socket
    this.ready = false
    this.helloLeft = info.helloReplies
    this.input = null
    socket.write(info.hello)
    socket.on('data', (chunk) => this.onData(socket, chunk))
    socket.on('error', () => this.fail(socket, 'unavailable'))
    socket.on('close', () => this.fail(socket, 'unavailable'))
  }

  // Send `command` (a Buffer); `cb(err, reply)` with the reply's bytes.
  send(command, cb) {
    if (this.socket === null) this.connect()
    this.queue.push({ cb, at: Date.now() })
    this.out.push(command)
    if (!this.flushing) {
      this.flushing = true
      setImmediate(this.flush)
    }
    if (this.timer === null) this.arm(this.info.responseTimeoutMs)
  }

  flushNow() {
    this.flushing = false
    const out = this.out
    this.out = []
    if (this.socket === null || out.length === 0) return
    this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out))
  }

  arm(ms) {
    this.timer = setTimeout(this.check, Math.max(1, ms))
    this.timer.unref()
  }

  checkTimeout() {
    this.timer = null
    if (this.head >= this.queue.length) return
    const waited = Date.now() - this.queue[this.head].at
    const limit = this.info.responseTimeoutMs
    if (waited >= limit) return this.fail(this.socket, 'timeout')
    this.arm(limit - waited)
  }

  onData(socket, chunk) {
    if (socket !== this.socket) return
    let buf = this.input === null ? chunk : Buffer.concat([this.input, chunk])
    let at = 0
    for (;;) {
      let end
      try {
        end = replyEnd(buf, at)
      } catch {
        return this.fail(socket, 'corrupt')
      }
      if (end < 0) break
      const reply = buf.subarray(at, end)
      at = end
      if (this.helloLeft > 0) {
        this.helloLeft--
        if (reply[0] === 45) return this.fail(socket, 'refused') // '-'
        continue
      }
      if (this.head >= this.queue.length) return this.fail(socket, 'corrupt')
      const entry = this.queue[this.head]
      this.queue[this.head++] = undefined
      try {
        entry.cb(null, reply)
      } catch (err) {
        // The next replies still go to their requests; the error surfaces as any
        // uncaught one would.
        process.nextTick(() => {
          throw err
        })
      }
    }
    this.input = at < buf.length ? buf.subarray(at) : null
    if (this.head >= this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  // Fail every command on `socket` with `kind` and drop it.
  fail(socket, kind) {
    if (socket !== this.socket || socket === null) return
    this.socket = null
    this.input = null
    socket.destroy()
    const queue = this.queue
    const head = this.head
    this.queue = []
    this.head = 0
    this.out = []
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    const err = this.error(kind)
    for (let i = head; i < queue.length; i++) queue[i].cb(err)
  }

  close() {
    if (this.socket !== null) this.fail(this.socket, 'unavailable')
  }
}

module.exports = { Wire, replyEnd }
