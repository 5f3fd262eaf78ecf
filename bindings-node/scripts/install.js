'use strict'
// npm's `install` hook: after `npm install sessile` (or `npm install <path to bindings-node>`)
// `require('sessile')` must find a native addon. In order:
//   1. binding.js already loads one (a prebuilt `sessile.<platform>.node` in this folder,
//      or the `sessile-<platform>` package npm chose from optionalDependencies): done.
//   2. The Rust sources are here (this folder is bindings-node/ of a checkout, beside the
//      Cargo workspace): build the addon with cargo and put it where binding.js looks
//      first, `./sessile.<platform>.node`. Needs Rust (https://rustup.rs); nothing else
//      (the npm devDependencies are not installed for a dependency, so no napi CLI).
//   3. Neither: fail, naming the platform and the two ways out.
// Run in this package's own checkout (`npm ci` in bindings-node, INIT_CWD is this folder)
// it does nothing: there the addon is built by `make tools-node` or `npm run build`.
// SESSILE_SKIP_BUILD=1 skips it everywhere (a packager placing the addon itself).
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const pkg = path.resolve(__dirname, '..')

/** The platform suffix napi-rs gives this machine's addon (`linux-x64-gnu`, ...). */
function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const report = process.report && process.report.getReport ? process.report.getReport() : null
    const glibc = report && report.header && report.header.glibcVersionRuntime
    const libc = glibc ? 'gnu' : 'musl'
    return arch === 'arm' ? `linux-arm-${libc}eabihf` : `linux-${arch}-${libc}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function loads() {
  try {
    require(path.join(pkg, 'binding.js'))
    return true
  } catch {
    return false
  }
}

function sameDir(a, b) {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b)
  } catch {
    return false
  }
}

/** Build the cdylib with cargo; returns the path of the built library. */
function cargoBuild() {
  const cargo = process.env.CARGO || 'cargo'
  const result = spawnSync(
    cargo,
    ['build', '--release', '--locked', '-p', 'sessile-node', '--message-format=json-render-diagnostics'],
    {
      cwd: pkg,
      // Stripped of its symbol table, as `napi build --strip` makes it.
      env: { CARGO_PROFILE_RELEASE_STRIP: 'symbols', ...process.env },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  )
  if (result.error) {
    throw new Error(`could not run ${cargo} (${result.error.message}): install Rust from https://rustup.rs`)
  }
  if (result.status !== 0) {
    throw new Error(`${cargo} build -p sessile-node failed (exit ${result.status}); its messages are above`)
  }
  let built = null
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'sessile_node') {
      built = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || built
    }
  }
  if (!built) throw new Error(`${cargo} build reported no sessile_node library`)
  return built
}

function main() {
  if (process.env.SESSILE_SKIP_BUILD === '1') return
  if (process.env.INIT_CWD && sameDir(process.env.INIT_CWD, pkg)) return
  if (loads()) return
  const suffix = platformSuffix()
  const workspace = path.join(pkg, '..', 'Cargo.toml')
  if (!fs.existsSync(path.join(pkg, 'Cargo.toml')) || !fs.existsSync(workspace)) {
    throw new Error(
      `sessile: no prebuilt addon for ${suffix} and no Rust sources to build one from. ` +
        'Install from a checkout of the repository (npm install <path>/bindings-node, with Rust ' +
        'installed), or on a platform with a published sessile-' + suffix + ' package.',
    )
  }
  console.error(`sessile: no prebuilt addon for ${suffix}; building it from source with cargo (a few minutes)`)
  const built = cargoBuild()
  const dest = path.join(pkg, `sessile.${suffix}.node`)
  // By rename, never rewritten in place: a running process may have the old one mapped.
  fs.copyFileSync(built, `${dest}.tmp`)
  fs.renameSync(`${dest}.tmp`, dest)
  if (!loads()) {
    throw new Error(`sessile: built ${dest}, but binding.js still cannot load it`)
  }
  console.error(`sessile: built ${path.basename(dest)}`)
}

try {
  main()
} catch (err) {
  console.error(err.message)
  process.exit(1)
}
