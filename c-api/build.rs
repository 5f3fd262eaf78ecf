//! Names the shared library by its ABI, not by its file: `libsessile.so.0` (SONAME) on ELF
//! systems, `@rpath/libsessile.0.dylib` (install name) on macOS. A program linked against
//! it records that name, so an install of a later version with the same ABI (0) replaces
//! the library under it, and one with another ABI installs beside it.
//!
//! `ABI` changes only when a compiled C program could break: a function removed or its
//! signature changed, a struct's layout changed other than as `sessile_config`'s growth
//! rule allows (docs/C-API.md, "ABI"), a result code renumbered. Adding functions,
//! result codes or `sessile_config` fields at its end does not.

/// The ABI version in the SONAME. `make install` reads it back from the built library.
const ABI: u32 = 0;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match os.as_str() {
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" | "solaris"
        | "illumos" => {
            println!("cargo::rustc-cdylib-link-arg=-Wl,-soname,libsessile.so.{ABI}");
        }
        "macos" | "ios" => {
            println!(
                "cargo::rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libsessile.{ABI}.dylib"
            );
        }
        // Windows names a DLL by its file; bare-metal targets build the static library only.
        _ => {}
    }
}
