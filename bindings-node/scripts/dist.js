'use strict'
// `make dist`: the layout napi-rs packages publish. One npm package per platform,
// `sessile-<platform>`, holding that platform's addon (`os`, `cpu`, `libc` fields let npm
// install only the matching one), and the main package `sessile`, without any addon,
// naming them all in `optionalDependencies`; binding.js loads whichever is installed.
//
//   node scripts/dist.js <out> <platform>=<addon file> ...
//
// writes <out>/npm/<platform>/ and <out>/sessile/ (the folders to publish), packs each
// into <out>/tarballs/, and <out>/NOT-BUILT.txt listing the platforms binding.js knows
// that were not built here. Only the platforms given are named in optionalDependencies.
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const pkgDir = path.resolve(__dirname, '..')
const root = path.resolve(pkgDir, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))

// The platforms binding.js tries (its `sessile-<platform>` names), with npm's fields.
const PLATFORMS = {
  'linux-x64-gnu': { os: 'linux', cpu: 'x64', libc: 'glibc', triple: 'x86_64-unknown-linux-gnu' },
  'linux-arm64-gnu': { os: 'linux', cpu: 'arm64', libc: 'glibc', triple: 'aarch64-unknown-linux-gnu' },
  'linux-x64-musl': { os: 'linux', cpu: 'x64', libc: 'musl', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64-musl': { os: 'linux', cpu: 'arm64', libc: 'musl', triple: 'aarch64-unknown-linux-musl' },
  'linux-arm-gnueabihf': { os: 'linux', cpu: 'arm', libc: 'glibc', triple: 'armv7-unknown-linux-gnueabihf' },
  'linux-riscv64-gnu': { os: 'linux', cpu: 'riscv64', libc: 'glibc', triple: 'riscv64gc-unknown-linux-gnu' },
  'darwin-x64': { os: 'darwin', cpu: 'x64', triple: 'x86_64-apple-darwin' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64', triple: 'aarch64-apple-darwin' },
  'win32-x64-msvc': { os: 'win32', cpu: 'x64', triple: 'x86_64-pc-windows-msvc' },
  'win32-arm64-msvc': { os: 'win32', cpu: 'arm64', triple: 'aarch64-pc-windows-msvc' },
  'win32-ia32-msvc': { os: 'win32', cpu: 'ia32', triple: 'i686-pc-windows-msvc' },
  'freebsd-x64': { os: 'freebsd', cpu: 'x64', triple: 'x86_64-unknown-freebsd' },
  'android-arm64': { os: 'android', cpu: 'arm64', triple: 'aarch64-linux-android' },
}
const SHIPPED = ['LICENSE-MIT', 'LICENSE-APACHE']

function main(argv) {
  const [out, ...specs] = argv
  if (!out || specs.length === 0) throw new Error('usage: dist.js <out> <platform>=<addon> ...')
  const built = specs.map((s) => {
    const [platform, file] = s.split('=')
    if (!PLATFORMS[platform]) throw new Error(`unknown platform ${platform}`)
    if (!fs.existsSync(file)) throw new Error(`${platform}: no addon at ${file}`)
    return { platform, file }
  })
  fs.rmSync(out, { recursive: true, force: true })
  const tarballs = path.join(out, 'tarballs')
  fs.mkdirSync(tarballs, { recursive: true })
  const common = {
    version: pkg.version,
    license: pkg.license,
    homepage: pkg.homepage,
    repository: pkg.repository,
    bugs: pkg.bugs,
    engines: pkg.engines,
  }

  for (const { platform, file } of built) {
    const meta = PLATFORMS[platform]
    const dir = path.join(out, 'npm', platform)
    fs.mkdirSync(dir, { recursive: true })
    const node = `sessile.${platform}.node`
    fs.copyFileSync(file, path.join(dir, node))
    for (const f of SHIPPED) fs.copyFileSync(path.join(root, f), path.join(dir, f))
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      `# sessile-${platform}\n\nThe \`${meta.triple}\` addon of [sessile](${pkg.homepage}); ` +
        'installed by npm as an optional dependency of `sessile`, never on its own.\n',
    )
    const manifest = {
      name: `sessile-${platform}`,
      ...common,
      description: `sessile's native addon for ${meta.triple}`,
      main: node,
      files: [node, ...SHIPPED, 'README.md'],
      os: [meta.os],
      cpu: [meta.cpu],
      ...(meta.libc ? { libc: [meta.libc] } : {}),
    }
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    pack(dir, tarballs)
  }

  // The main package: its own files less any addon, plus the optional dependencies.
  const main = path.join(out, 'sessile')
  fs.mkdirSync(main, { recursive: true })
  for (const entry of pkg.files) {
    if (entry.endsWith('.node')) continue
    const from = entry === 'LICENSE-MIT' || entry === 'LICENSE-APACHE' || entry === 'CHANGELOG.md'
      ? path.join(root, entry)
      : path.join(pkgDir, entry)
    fs.cpSync(from, path.join(main, entry), { recursive: true })
  }
  const manifest = { ...pkg }
  delete manifest.devDependencies
  manifest.scripts = { install: pkg.scripts.install }
  manifest.optionalDependencies = Object.fromEntries(built.map(({ platform }) => [`sessile-${platform}`, pkg.version]))
  fs.writeFileSync(path.join(main, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  pack(main, tarballs)

  const missing = Object.keys(PLATFORMS).filter((p) => !built.some((b) => b.platform === p))
  fs.writeFileSync(
    path.join(out, 'NOT-BUILT.txt'),
    'Platforms binding.js knows with no package built here (publish them from CI machines\n' +
      'of those platforms, or install from source: npm install <checkout>/bindings-node):\n' +
      missing.map((p) => `  sessile-${p} (${PLATFORMS[p].triple})\n`).join(''),
  )
  console.log(`built: ${built.map((b) => b.platform).join(', ')}`)
  console.log(`not built here: ${missing.join(', ')}`)
}

function pack(dir, into) {
  execFileSync('npm', ['pack', '--silent', '--pack-destination', into], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] })
}

main(process.argv.slice(2))
