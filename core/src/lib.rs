//! # sessile
//!
//! One audited web-session engine: a `no_std`, allocation-bounded session table with
//! ChaCha20 session IDs, exact idle and absolute timeouts, rotation at login, server-side
//! logout with reuse detection, per-principal listing and revocation, client-change
//! detection and secure cookies. Python, Node and C bindings wrap this crate.
//!
//! ```
//! use sessile::{Client, Config, Engine, Store};
//!
//! let mut engine = Engine::from_os(Config::default()).unwrap(); // OS entropy, fork guard
//! let now = 0;
//! let (token, session) = engine.create(now, &Client::NONE).unwrap();
//! engine.write(session.handle, br#"{"cart":[1,2]}"#, now).unwrap();
//! let cookie = engine.set_cookie(token.as_str(), session.handle, now).unwrap();
//! assert!(cookie.starts_with("__Host-sid="));
//!
//! // Next request: the browser sends the cookie back.
//! let header = format!("theme=dark; __Host-sid={}", token.as_str());
//! let (_, session) = engine.validate_cookie(header.as_bytes(), now + 1_000, &Client::NONE).unwrap().unwrap();
//! assert_eq!(session.payload_len, 14);
//! ```
//!
//! Features: none (caller-provided storage, no allocator), `alloc` (capacity chosen at
//! run time), `snapshot` (snapshot and restore, no allocator needed), `std` (default:
//! all of them, and [`shared`], a thread-safe engine seeded from the OS with a monotonic
//! clock, fork safety and snapshot files).
//!
//! ## Where the rules live
//!
//! Every session rule belongs here, once; a binding only converts types and maps its
//! framework's words. To change a rule, look in:
//!
//! - [`rules`] (`rules.rs`): the decisions over a session record: live or which deadline
//!   ended it, what a dead token's reuse means, whether a client change is tolerated,
//!   the per-principal cap, what is evicted for a new session, `Max-Age`, whether a save
//!   lands;
//! - [`Request`] (`request.rs`): one request's lifecycle, from its `Cookie` header to its
//!   `Set-Cookie`: when a session starts, when emptying it logs out, when the cookie is
//!   sent or cleared;
//! - [`Store`] (`store.rs`): the store seam, and the request seam over it (load, save,
//!   the duplicate-cookie rule, the cookie texts), the same for every store;
//! - [`vocabulary`] (`vocabulary.rs`, with [`config`]): the configuration keys, their
//!   spellings, defaults, limits and validation;
//! - [`cookie`] (`cookie.rs`): the cookie text: reading `Cookie`, writing `Set-Cookie`
//!   (`__Host-`, `SameSite`, `Partitioned`);
//! - [`Engine`] (`engine/`): the in-process table, one store: the bookkeeping that applies
//!   the rules, one concern a file (sessions, principals, client checks, capacity,
//!   payload, digests);
//! - `snapshot` (`snapshot.rs`, the file; `engine/snapshot.rs`, what it holds; feature
//!   `snapshot`): carrying the table across a restart, and when a restore refuses
//!   ([`SnapshotError`], docs/SNAPSHOT.md).
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

/// Built for an Arm core with only the Thumb-1 instructions (a Cortex-M0): no
/// 32 x 32 -> 64 bit multiply, no count of leading zeros, no unaligned loads. A few
/// spellings are chosen by it (the index's homes, widths and small sizes, the wheel's
/// level, the digests' key, the digest comparison), each checked by a host test against
/// the one every other target keeps.
///
/// Told by the missing 32-bit atomic read-modify-write (ARMv6-M has none), not by the
/// `thumb2` target feature: stable Rust shows no Arm target feature to `cfg`, so that
/// test would take every Arm target, a Cortex-M4 or an Armv7 Linux server too, for one.
pub(crate) const THUMB1: bool = cfg!(all(target_arch = "arm", not(target_has_atomic = "32")));

mod chacha;
pub mod config;
pub mod cookie;
mod engine;
pub mod error;
pub mod event;
mod idgen;
mod index;
pub mod pool;
mod request;
pub mod rules;
mod slot;
#[cfg(feature = "snapshot")]
pub mod snapshot;
pub mod storage;
mod store;
mod token;
mod tombstone;
pub mod vocabulary;
pub mod wheel;

#[cfg(feature = "std")]
pub mod shared;

pub use config::{
    ClientPolicy, Config, ConfigError, PrincipalLimitPolicy, Profile, RotatedReusePolicy,
};
pub use cookie::{CookieConfig, CookieConfigError, CookieError, CookieStyle, SameSite};
pub use engine::{
    Client, Engine, ForkGuard, Loaded, Principal, Saved, Session, SessionRef, SessionsOf, Stats,
};
pub use error::{Error, Expiry, Invalid, SnapshotError, StoreError};
pub use event::{Event, EventKind};
pub use idgen::IdGen;
pub use index::Cell;
pub use pool::{BLOCK as POOL_BLOCK, Chunks};
pub use request::{Request, SetCookie};
pub use slot::{Addresses, ClientDigests, Ix, NIL_IX, Slot};
pub use storage::{Layout, Parts, SliceStorage, Storage};
pub use store::Store;
#[doc(hidden)]
pub use token::digest_of;
pub use token::{MAX_TOKEN_CHARS, Token};
pub use tombstone::Tombstone;
pub use wheel::Link;

#[cfg(feature = "alloc")]
pub use storage::HeapStorage;

/// The README's Rust quickstart, compiled and run as a doc test.
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
