'use strict'
// Concurrent requests on one engine: no update the API promises to keep is lost, nothing
// crashes, and the engine's counts add up (issue 6, item 5).
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const session = require('../express')
const { Engine } = require('..')

const versions = { express4: require('express4'), express5: require('express5') }

function get(port, path, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: cookie ? { cookie } : {} }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode, body, setCookie: res.headers['set-cookie'] }))
    })
    req.on('error', reject)
  })
}

for (const [label, express] of Object.entries(versions)) {
  test(`${label}: many clients at once, each counter exact, counts consistent`, async () => {
    const engine = new Engine({ capacity: 1000 })
    const app = express()
    app.use(session({ secret: 'concurrency', engine }))
    app.get('/inc', (req, res) => {
      req.session.n = (req.session.n || 0) + 1
      // Yield to the event loop mid-request so other clients' requests interleave.
      setImmediate(() => res.send(String(req.session.n)))
    })
    app.get('/n', (req, res) => res.send(String(req.session.n ?? 'none')))
    const server = http.createServer(app)
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address()
    try {
      const clients = 40
      const rounds = 15
      const cookies = await Promise.all(
        Array.from({ length: clients }, async () => {
          const first = await get(port, '/inc')
          assert.equal(first.body, '1')
          return first.setCookie[0].split(';')[0]
        }),
      )
      // Every client issues its rounds one after another; all clients run at once.
      const finals = await Promise.all(
        cookies.map(async (cookie) => {
          let last
          for (let i = 2; i <= rounds; i++) {
            last = await get(port, '/inc', cookie)
            assert.equal(last.status, 200)
            assert.equal(last.body, String(i), 'no increment lost or duplicated')
          }
          return (await get(port, '/n', cookie)).body
        }),
      )
      assert.deepEqual(finals, Array(clients).fill(String(rounds)))
      const stats = engine.stats()
      assert.equal(stats.live, clients)
      assert.equal(stats.anonymous + stats.authenticated, stats.live)
      assert.equal(stats.created, clients)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
}
