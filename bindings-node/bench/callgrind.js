'use strict'
// Instructions per request of the bench's Express app (bench/app.js), by session layer,
// counted by callgrind: repeatable on a machine that other work shares, where CPU time is
// not. Not part of `make bench` (slow: the servers run under valgrind); used to decide
// what to change in sessile/express before the timed bench confirms it.
//
//   node bench/callgrind.js [variant ...]     (default: the level field's three layers)
//
// Each server runs under `valgrind --tool=callgrind`, takes WARM requests (the JIT settles),
// has its counters zeroed, takes COUNT requests from autocannon (10 connections, the
// bench's cookie), and is dumped: the dump's total over COUNT is the figure. With
// CALLGRIND_KEEP=dir the dump files are kept there (callgrind_annotate reads them; code the
// JIT wrote shows as addresses).
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const autocannon = require('autocannon')

const WARM = Number(process.env.CALLGRIND_WARM || 6000)
const COUNT = Number(process.env.CALLGRIND_COUNT || 4000)
const CONNECTIONS = 10

function start(variant, dir) {
  const out = path.join(dir, `callgrind.${variant}.%p`)
  const extra = process.env.CALLGRIND_PERFMAP ? ['--perf-basic-prof'] : []
  const sim = process.env.CALLGRIND_SIM ? ['--cache-sim=yes', '--branch-sim=yes'] : []
  const args = ['--tool=callgrind', ...sim, `--callgrind-out-file=${out}`, process.execPath, '--no-memory-reducer', ...extra, path.join(__dirname, 'app.js'), variant]
  const child = spawn('valgrind', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d) => {
    err += d
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`${variant} exited ${code}: ${err.slice(-2000)}`)))
    child.stdout.on('data', (d) => {
      const m = /port (\d+)/.exec(String(d))
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}/` })
    })
  })
}

function control(args) {
  const r = spawnSync('callgrind_control', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

async function load(url, headers, amount) {
  const r = await autocannon({ url, headers, connections: CONNECTIONS, amount, timeout: 60 })
  if (r.non2xx || r.errors || r.timeouts) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`)
}

// V8's garbage collector and optimising compiler (their instructions per request move by
// several thousand from run to run, with when a collection or a compile falls).
const NOISE = /compiler::|Scaveng|Marking|Sweeper|IterateObjectCache|heap::|Heap::|MemoryChunk|RootScavenge|BodyDescriptorBase::Iterate|Evacuat|Compact|GCTracer|MinorMC|RelocIterator|Zone|turboshaft|maglev|Maglev|Builtins_Baseline|baseline|interpreter::|Parser|Scanner|Compil/

// SHA-1 / SHA-256 block functions (OpenSSL's, for express-session's HMAC and its session
// hash; the sha2 crate's). Valgrind's CPU has no SHA extensions, so under it they run as
// AVX2 or portable code of many times the instructions of the SHA-NI code this machine
// runs natively (express-session: 14,400 instructions per request counted under valgrind;
// natively its SHA blocks took 0.7-0.8 µs per request by perf, where 14,400 of its other
// instructions take about 3.5 µs): callgrind counts them against the layer that hashes
// well above their native cost.
const SHA = /sha\d+_block_data_order|sha2::sha256::soft|sha1::compress/

// The instructions of a dump outside NOISE: each function's own cost lines (the line after
// `calls=` is a callee's inclusive cost, not the caller's own); and of those, SHA's.
function mutator(text) {
  const names = new Map()
  let fn = ''
  let skip = false
  let sum = 0
  let sha = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=') || line.startsWith('cfn=')) {
      const m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line)
      if (m && m[2] !== undefined) names.set(m[1], m[2])
      if (line.startsWith('fn=')) fn = m ? names.get(m[1]) || '' : line.slice(3)
      continue
    }
    if (line.startsWith('calls=')) {
      skip = true
      continue
    }
    const c = line.charCodeAt(0)
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {
      if (skip) {
        skip = false
        continue
      }
      const parts = line.split(' ')
      if (parts.length >= 2 && !NOISE.test(fn)) {
        sum += Number(parts[1])
        if (SHA.test(fn)) sha += Number(parts[1])
      }
    }
  }
  return { sum, sha }
}

async function measure(variant, dir) {
  const server = await start(variant, dir)
  try {
    const first = await fetch(server.url)
    const set = first.headers.getSetCookie()[0]
    await first.text()
    const headers = set ? { cookie: set.split(';')[0] } : {}
    await load(server.url, headers, WARM)
    const pid = String(server.child.pid)
    control(['-z', pid])
    await load(server.url, headers, COUNT)
    control(['-d', `counted`, pid])
    const file = fs.readdirSync(dir).filter((f) => f.startsWith(`callgrind.${variant}.`) && !f.endsWith('.0') && /\.\d+\.\d+$/.test(f))
    // The dump made just now: the highest part number.
    file.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
    const text = fs.readFileSync(path.join(dir, file[file.length - 1]), 'utf8')
    const m = /^(?:summary|totals): (\d+)/m.exec(text)
    if (!m) throw new Error(`no total in ${file}`)
    const mut = mutator(text)
    return { all: Number(m[1]) / COUNT, mutator: mut.sum / COUNT, noSha: (mut.sum - mut.sha) / COUNT }
  } finally {
    server.child.removeAllListeners('exit')
    server.child.kill('SIGTERM')
    await new Promise((resolve) => server.child.on('exit', resolve))
  }
}

async function main() {
  const variants = process.argv.slice(2)
  if (variants.length === 0) variants.push('none+dict', 'sessile+dict', 'express-session+dict')
  const keep = process.env.CALLGRIND_KEEP
  const dir = keep || fs.mkdtempSync(path.join(os.tmpdir(), 'sessile-callgrind-'))
  fs.mkdirSync(dir, { recursive: true })
  const ir = {}
  for (const v of variants) {
    ir[v] = await measure(v, dir)
    console.log(`${v}: ${Math.round(ir[v].all)} instructions per request, ${Math.round(ir[v].mutator)} outside the garbage collector and the compiler`)
  }
  // The level field as bench.js reads it: sessile behind the same conversion layer.
  const floor = ir['none+dict']
  const sessile = ir['sessile+dict']
  if (floor !== undefined && sessile !== undefined && ir['express-session+dict'] !== undefined) {
    const label = { all: 'all instructions', mutator: 'outside GC and compiler', noSha: 'outside GC, compiler and SHA blocks' }
    for (const k of ['all', 'mutator', 'noSha']) {
      const s = sessile[k] - floor[k]
      const e = ir['express-session+dict'][k] - floor[k]
      console.log(`level field (${label[k]}): sessile ${Math.round(s)}, express-session ${Math.round(e)} per request over the floor: ${(s / e).toFixed(3)}`)
    }
  }
  if (!keep) fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
