//! The two calls `sessile/express` makes on every request (load at the start, save at the
//! end), as plain Node-API callbacks.
//!
//! napi-rs's generated glue (argument conversion into owned `String`s, the per-call borrow
//! registry of class instances, type-tag checks) costs more than the engine work itself
//! (figures: the README's performance notes). These two callbacks read
//! their arguments into stack buffers and allocate nothing on the common path. The engine
//! work is not here: they run the same functions as `Engine.load` and
//! `Engine.savePayload` (`calls.rs`), after checking the cookie signature (`load`'s
//! argument is the signed cookie value). `load` also takes every copy of a cookie sent
//! several times, for the engine to choose among (`Engine.validateAny`'s rule). `load`
//! hands out the session's handle and epoch, and `save` takes them back, so a save lands
//! only on the session the request loaded, unchanged since (`Engine.save`). They are
//! written into `link.state` (a `Uint32Array`: handle high, handle low, epoch, and the id
//! of a save on its way, below) rather
//! than returned: a BigInt and an array per request cost more than the engine's load. Both go
//! through the store seam: the in-process table or a shared store alike; a shared store
//! that cannot answer is a thrown `SESSILE_STORE`, never a missing or valid session.
//!
//! Over a Redis store (not TLS), `link.wire` says how to reach it, and the same two calls
//! come in two halves each, so that sessile/express carries the bytes to Redis itself on
//! the event loop (`lib/express-session/wire.js`) instead of the engine's synchronous
//! client blocking it for each round trip: `loadCommand` / `loadReply` and `saveCommand` /
//! `saveReply` (the store's `wire` module: the command's bytes are built, and the reply's
//! decided, by the same code as the synchronous calls).
//!
//! Every `unsafe` block here is a Node-API call made on the JS thread inside a callback,
//! with pointers to locals that outlive the call; statuses are checked, and a failed call
//! becomes a thrown JS error (or the pending one stays).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::Env;
use napi::sys;
use sessile::{Client as CoreClient, Saved, SessionRef, Store, StoreError};
use sessile_backend::{Backend, PendingSave, SaveStep, WireAddr};
use subtle::ConstantTimeEq;

use crate::calls::{self, PAYLOAD_STACK, PayloadCopy};
use crate::error::{arg_error, throw};
use crate::signer::Keys;

/// What both callbacks share: the engine, the cookie secrets, whether the engine has an
/// injected clock (then the caller passes the time), the signatures verified lately, and
/// where `load` writes the loaded session's handle and epoch (`link.state`).
pub(crate) struct Link {
    pub engine: Arc<Backend>,
    pub keys: Keys,
    pub clock: bool,
    pub verified: RefCell<Option<Verified>>,
    pub state: State,
    /// The buffer a call copies a payload into (load) or reads one into (save), kept from
    /// call to call: no zeroed or fresh buffer per request.
    pub scratch: RefCell<Vec<u8>>,
    /// Saves whose commit is on its way to Redis (`saveCommand` to `saveReply`), by id.
    pub pending: RefCell<HashMap<u32, PendingSave>>,
    pub next_pending: Cell<u32>,
}

/// The four `u32` of `link.state` (an ArrayBuffer's bytes, kept alive by a reference
/// the link holds): handle high, handle low, epoch of the session `load` last found, and
/// the id of the save `saveCommand` last sent on its way.
pub(crate) struct State {
    words: *mut u32,
    buffer: sys::napi_ref,
}

impl State {
    /// Before `link_object` fills it in.
    pub(crate) fn unset() -> State {
        State {
            words: ptr::null_mut(),
            buffer: ptr::null_mut(),
        }
    }

    /// The id of a save whose commit is on its way (`saveCommand`), in the fourth word.
    fn set_pending(&self, id: u32) {
        if self.words.is_null() {
            return;
        }
        // SAFETY: as in `set` (the buffer has four words).
        unsafe { self.words.add(3).write(id) };
    }

    fn set(&self, handle: u64, epoch: u32) {
        if self.words.is_null() {
            return;
        }
        // SAFETY: `words` points at the 16 bytes of an ArrayBuffer that `buffer` keeps
        // alive; only the JS thread runs these callbacks.
        unsafe {
            self.words.write((handle >> 32) as u32);
            self.words.add(1).write(handle as u32);
            self.words.add(2).write(epoch);
        }
    }
}

/// Signed cookie values whose signature verified lately, so that a returning cookie skips
/// the HMAC (a large part of sessile/express's work per request: the README's performance
/// notes). Each is held
/// as a 128-bit tag, two SipHash-2-4 under independent random keys, never as the cookie
/// itself (which carries the token). A value is accepted from here only when its whole
/// text has the tag of one that verified; a signature's validity depends on nothing else
/// (the secrets of a link never change), so entries need no expiry, and a value whose
/// session ended still fails at validation. Direct-mapped by the tag: a new entry
/// replaces whatever held its slot.
pub(crate) struct Verified {
    keys: [(u64, u64); 2],
    slots: Box<[[u64; 2]]>,
}

/// Entries of the cache (16 bytes each).
const VERIFIED_SLOTS: usize = 4096;

impl Verified {
    /// A cache under fresh keys from the operating system; none when it has no entropy.
    pub(crate) fn new() -> Option<Verified> {
        let seed = sessile::shared::os_seed().ok()?;
        let k =
            |i: usize| u64::from_le_bytes(seed[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        Some(Verified {
            keys: [(k(0), k(1)), (k(2), k(3))],
            slots: vec![[0u64; 2]; VERIFIED_SLOTS].into_boxed_slice(),
        })
    }

    #[allow(deprecated)] // std's SipHasher is SipHash-2-4, the keyed PRF wanted here
    fn tag(&self, signed: &[u8]) -> [u64; 2] {
        use std::hash::{Hasher, SipHasher};
        self.keys.map(|(k0, k1)| {
            let mut h = SipHasher::new_with_keys(k0, k1);
            h.write(signed);
            h.finish()
        })
    }

    fn slot(tag: &[u64; 2]) -> usize {
        tag[0] as usize % VERIFIED_SLOTS
    }

    /// The tag of `signed`, and whether a verified value with that tag is held.
    fn lookup(&self, signed: &[u8]) -> ([u64; 2], bool) {
        let tag = self.tag(signed);
        let held = &self.slots[Self::slot(&tag)];
        let same = held[0].ct_eq(&tag[0]) & held[1].ct_eq(&tag[1]);
        (tag, bool::from(same) && tag != [0, 0])
    }

    fn insert(&mut self, tag: [u64; 2]) {
        self.slots[Self::slot(&tag)] = tag;
    }
}

/// The value part of `signed` when its signature verifies, from the cache when it can
/// (the tag is computed once, for the lookup and for the entry a miss leaves).
fn verify<'s>(link: &Link, signed: &'s [u8]) -> Option<&'s [u8]> {
    let mut cache = link.verified.borrow_mut();
    let tag = match cache.as_ref().map(|c| c.lookup(signed)) {
        Some((_, true)) => {
            let dot = signed.iter().rposition(|&b| b == b'.')?;
            return Some(&signed[..dot]);
        }
        Some((tag, false)) => Some(tag),
        None => None,
    };
    let value = link.keys.verify_bytes(signed)?;
    if let (Some(c), Some(tag)) = (cache.as_mut(), tag) {
        c.insert(tag);
    }
    Some(value)
}

/// A signed cookie value longer than this cannot be `token.signature` (the longest token
/// plus a dot plus 43 signature characters), so it is not read whole.
const SIGNED_MAX: usize = sessile::MAX_TOKEN_CHARS + 1 + 43;
/// Room for a value of `n` bytes that `str_into` does not report as cut.
const fn room(n: usize) -> usize {
    n + 5
}
/// Client strings up to this many bytes are read on the stack; longer ones on the heap.
const CLIENT_STACK: usize = 256;

fn ok(status: sys::napi_status) -> Option<()> {
    (status == sys::Status::napi_ok).then_some(())
}

/// Create the two callbacks over `link` as an object `{ load, save, state }`.
pub(crate) fn link_object(env: &Env, mut link: Link) -> napi::Result<sys::napi_value> {
    let raw = env.raw();
    let mut obj = ptr::null_mut();
    // SAFETY: Node-API calls on the JS thread with valid out-pointers; the buffer is
    // referenced (never collected while the link lives); each function takes ownership of
    // one Rc (a leaked Box) that its finalizer gives back, the last one deleting the
    // reference.
    unsafe {
        check(sys::napi_create_object(raw, &mut obj))?;
        let mut data = ptr::null_mut();
        let mut buffer = ptr::null_mut();
        check(sys::napi_create_arraybuffer(
            raw,
            16,
            &mut data,
            &mut buffer,
        ))?;
        let mut words = ptr::null_mut();
        check(sys::napi_create_typedarray(
            raw,
            sys::TypedarrayType::uint32_array,
            4,
            buffer,
            0,
            &mut words,
        ))?;
        check(sys::napi_create_reference(
            raw,
            buffer,
            1,
            &mut link.state.buffer,
        ))?;
        link.state.words = data as *mut u32;
        check(sys::napi_set_named_property(
            raw,
            obj,
            c"state".as_ptr(),
            words,
        ))?;
    }
    let link = Rc::new(link);
    // SAFETY: as above.
    unsafe {
        for (name, cb) in [
            (c"load", load as unsafe extern "C" fn(_, _) -> _),
            (c"save", save as unsafe extern "C" fn(_, _) -> _),
            (
                c"loadCommand",
                load_command as unsafe extern "C" fn(_, _) -> _,
            ),
            (c"loadReply", load_reply as unsafe extern "C" fn(_, _) -> _),
            (
                c"saveCommand",
                save_command as unsafe extern "C" fn(_, _) -> _,
            ),
            (c"saveReply", save_reply as unsafe extern "C" fn(_, _) -> _),
            (c"saveAbort", save_abort as unsafe extern "C" fn(_, _) -> _),
            (
                c"storeError",
                store_error as unsafe extern "C" fn(_, _) -> _,
            ),
        ] {
            let data = Box::into_raw(Box::new(Rc::clone(&link))) as *mut c_void;
            let mut f = ptr::null_mut();
            let created = sys::napi_create_function(raw, name.as_ptr(), -1, Some(cb), data, &mut f);
            if created != sys::Status::napi_ok {
                drop(Box::from_raw(data as *mut Rc<Link>));
                return Err(status_error(created));
            }
            let added = sys::napi_add_finalizer(
                raw,
                f,
                data,
                Some(finalize),
                ptr::null_mut(),
                ptr::null_mut(),
            );
            if added != sys::Status::napi_ok {
                // The function exists but nothing will free its data: leak one Rc
                // rather than free memory a live function points to.
                return Err(status_error(added));
            }
            check(sys::napi_set_named_property(raw, obj, name.as_ptr(), f))?;
        }
    }
    wire_object(raw, obj, &link)?;
    Ok(obj)
}

/// `link.wire`: how to reach the Redis server the engine uses, for sessile/express to
/// carry the per-request commands itself (`{ path }` or `{ host, port }`, `hello`: the
/// bytes every new connection starts with, `helloReplies`, `connectTimeoutMs`,
/// `responseTimeoutMs`); absent for the in-process table and for a TLS server (the
/// synchronous calls serve those).
fn wire_object(raw: sys::napi_env, obj: sys::napi_value, link: &Link) -> napi::Result<()> {
    let Some(Some(wire)) = link.engine.redis(|s| s.wire()) else {
        return Ok(());
    };
    // SAFETY: Node-API calls on the JS thread with valid pointers to locals and to
    // `wire`'s bytes, which outlive the calls.
    unsafe {
        let mut w = ptr::null_mut();
        check(sys::napi_create_object(raw, &mut w))?;
        let set_str = |name: &std::ffi::CStr, text: &str| -> napi::Result<()> {
            let mut v = ptr::null_mut();
            check(sys::napi_create_string_utf8(
                raw,
                text.as_ptr().cast(),
                text.len() as isize,
                &mut v,
            ))?;
            check(sys::napi_set_named_property(raw, w, name.as_ptr(), v))
        };
        let set_num = |name: &std::ffi::CStr, n: f64| -> napi::Result<()> {
            let mut v = ptr::null_mut();
            check(sys::napi_create_double(raw, n, &mut v))?;
            check(sys::napi_set_named_property(raw, w, name.as_ptr(), v))
        };
        match &wire.addr {
            WireAddr::Unix(path) => {
                let Some(p) = path.to_str() else {
                    return Ok(());
                };
                set_str(c"path", p)?;
            }
            WireAddr::Tcp(host, port) => {
                set_str(c"host", host)?;
                set_num(c"port", f64::from(*port))?;
            }
        }
        set_num(c"helloReplies", f64::from(wire.hello_replies))?;
        set_num(c"connectTimeoutMs", wire.connect_timeout.as_millis() as f64)?;
        set_num(
            c"responseTimeoutMs",
            wire.response_timeout.as_millis() as f64,
        )?;
        let mut data = ptr::null_mut();
        let mut hello = ptr::null_mut();
        check(sys::napi_create_buffer_copy(
            raw,
            wire.hello.len(),
            wire.hello.as_ptr().cast(),
            &mut data,
            &mut hello,
        ))?;
        check(sys::napi_set_named_property(
            raw,
            w,
            c"hello".as_ptr(),
            hello,
        ))?;
        check(sys::napi_set_named_property(raw, obj, c"wire".as_ptr(), w))?;
    }
    Ok(())
}

fn status_error(status: sys::napi_status) -> napi::Error {
    napi::Error::new(
        napi::Status::from(status),
        "Node-API call failed".to_owned(),
    )
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(status_error(status))
    }
}

unsafe extern "C" fn finalize(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box made in link_object for this function, freed only here.
    let link = unsafe { Box::from_raw(data as *mut Rc<Link>) };
    if Rc::strong_count(&link) == 1 && !link.state.buffer.is_null() {
        // The last function of the link: its state buffer may be collected now.
        // SAFETY: a reference made in link_object, deleted once, here.
        unsafe { sys::napi_delete_reference(env, link.state.buffer) };
    }
}

/// The arguments of one call and its link.
struct Call<'a> {
    env: sys::napi_env,
    argv: [sys::napi_value; 8],
    argc: usize,
    link: &'a Link,
}

impl Call<'_> {
    /// SAFETY: `info` is the callback info of a call to a function made by link_object.
    unsafe fn new<'a>(env: sys::napi_env, info: sys::napi_callback_info) -> Option<Call<'a>> {
        let mut argv = [ptr::null_mut(); 8];
        let mut argc = argv.len();
        let mut data = ptr::null_mut();
        ok(unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                &mut data,
            )
        })?;
        // SAFETY: the data of these functions is a live Box<Rc<Link>> (see finalize).
        let link: &'a Link = unsafe { &*(data as *const Rc<Link>) };
        Some(Call {
            env,
            argv,
            argc: argc.min(8),
            link,
        })
    }

    fn arg(&self, i: usize) -> sys::napi_value {
        if i < self.argc {
            self.argv[i]
        } else {
            ptr::null_mut()
        }
    }

    fn type_of(&self, i: usize) -> i32 {
        let v = self.arg(i);
        if v.is_null() {
            return sys::ValueType::napi_undefined;
        }
        let mut t = sys::ValueType::napi_undefined;
        // SAFETY: v is an argument of this call.
        unsafe { sys::napi_typeof(self.env, v, &mut t) };
        t
    }

    /// Copy string argument `i` into `buf` (NUL-terminated by Node-API); the bytes copied,
    /// and whether the string may have been cut short (Node-API stops before a character
    /// that does not fit whole, so within 4 bytes of the end it cannot tell).
    fn str_into<'b>(&self, i: usize, buf: &'b mut [u8]) -> Option<(&'b [u8], bool)> {
        let mut len = 0usize;
        // SAFETY: buf is writable for buf.len() bytes; Node-API writes at most that many.
        ok(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                self.arg(i),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
            )
        })?;
        Some((&buf[..len], len + 4 >= buf.len()))
    }

    /// String argument `i` whole into `buf` (its contents replaced, its capacity reused:
    /// at least [`PAYLOAD_STACK`] bytes are read without asking the length first).
    fn str_vec(&self, i: usize, buf: &mut Vec<u8>) -> Option<()> {
        buf.clear();
        buf.reserve(PAYLOAD_STACK);
        let cap = buf.capacity();
        let mut len = 0usize;
        // SAFETY: buf's spare capacity is writable for `cap` bytes and Node-API writes at
        // most that many (its NUL included); only the `len` bytes it wrote are then
        // taken as the vector's contents.
        ok(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                self.arg(i),
                buf.as_mut_ptr().cast(),
                cap,
                &mut len,
            )
        })?;
        if len + 4 < cap {
            // SAFETY: Node-API wrote `len` bytes (len < cap).
            unsafe { buf.set_len(len) };
            return Some(());
        }
        // It may have been cut short: read it whole.
        *buf = self.str_heap(i)?;
        Some(())
    }

    /// String argument `i` whole, on the heap.
    fn str_heap(&self, i: usize) -> Option<Vec<u8>> {
        self.string_of(self.arg(i), usize::MAX)
    }

    /// The UTF-8 bytes of string `v`, on the heap; none when it is longer than `max` bytes
    /// (not read) or not a string.
    fn string_of(&self, v: sys::napi_value, max: usize) -> Option<Vec<u8>> {
        let mut len = 0usize;
        // SAFETY: a null buffer asks for the length only.
        ok(unsafe { sys::napi_get_value_string_utf8(self.env, v, ptr::null_mut(), 0, &mut len) })?;
        if len > max {
            return None;
        }
        // Room for the terminating NUL: the whole string fits.
        let mut buf = vec![0u8; len + 1];
        let mut got = 0usize;
        // SAFETY: buf is writable for buf.len() bytes; Node-API writes at most that many.
        ok(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                v,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut got,
            )
        })?;
        buf.truncate(got);
        Some(buf)
    }

    fn is_array(&self, i: usize) -> bool {
        let v = self.arg(i);
        let mut yes = false;
        // SAFETY: v is an argument of this call (or null, which Node-API rejects).
        !v.is_null() && ok(unsafe { sys::napi_is_array(self.env, v, &mut yes) }).is_some() && yes
    }

    /// The engine time: the caller's argument `i` when the engine has an injected clock.
    fn now(&self, i: usize) -> Result<u64, ()> {
        if !self.link.clock {
            return Ok(self.link.engine.now_ms());
        }
        let mut t = f64::NAN;
        if self.type_of(i) == sys::ValueType::napi_number {
            // SAFETY: argument i is a number.
            unsafe { sys::napi_get_value_double(self.env, self.arg(i), &mut t) };
        }
        if t.is_finite() && t >= 0.0 {
            Ok(t as u64)
        } else {
            let _ = arg_error(
                &self.env(),
                "clock",
                "the engine has an injected clock: pass its time (non-negative, finite)",
            );
            Err(())
        }
    }

    fn env(&self) -> Env {
        Env::from_raw(self.env)
    }

    fn null(&self) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        unsafe { sys::napi_get_null(self.env, &mut v) };
        v
    }

    fn boolean(&self, b: bool) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        unsafe { sys::napi_get_boolean(self.env, b, &mut v) };
        v
    }

    /// Number argument `i` as a u32: none for anything else.
    fn u32_arg(&self, i: usize) -> Option<u32> {
        if self.type_of(i) != sys::ValueType::napi_number {
            return None;
        }
        let mut x = f64::NAN;
        // SAFETY: argument i is a number; out-pointer to a local.
        ok(unsafe { sys::napi_get_value_double(self.env, self.arg(i), &mut x) })?;
        (x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x)).then_some(x as u32)
    }

    /// A JS array of `values`.
    fn array(&self, values: &[sys::napi_value]) -> sys::napi_value {
        let mut arr = ptr::null_mut();
        // SAFETY: out-pointer to a local; arr is the array just made.
        unsafe {
            sys::napi_create_array_with_length(self.env, values.len(), &mut arr);
            for (i, v) in values.iter().enumerate() {
                sys::napi_set_element(self.env, arr, i as u32, *v);
            }
        }
        arr
    }

    /// Throw a store's failure (`SESSILE_STORE`), or answer `null` for a token that
    /// names no live session.
    fn not_loaded(&self, e: sessile::Error) -> sys::napi_value {
        if e.is_store() {
            let _ = throw(&self.env(), e);
            return ptr::null_mut();
        }
        self.null()
    }

    fn number(&self, n: u32) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        unsafe { sys::napi_create_uint32(self.env, n, &mut v) };
        v
    }

    /// A JS string of UTF-8 `bytes` (invalid sequences replaced, as `Engine.load` does).
    fn string(&self, bytes: &[u8]) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: bytes is readable for its length; out-pointer to a local.
        unsafe {
            if bytes.is_ascii() {
                sys::napi_create_string_latin1(
                    self.env,
                    bytes.as_ptr().cast(),
                    bytes.len() as isize,
                    &mut v,
                );
            } else {
                let text = String::from_utf8_lossy(bytes);
                sys::napi_create_string_utf8(
                    self.env,
                    text.as_ptr().cast(),
                    text.len() as isize,
                    &mut v,
                );
            }
        }
        v
    }

    /// Buffer argument `i`'s bytes (valid during the call); none for anything else.
    fn buffer_arg(&self, i: usize) -> Option<&[u8]> {
        let v = self.arg(i);
        let mut yes = false;
        // SAFETY: v is an argument of this call; out-pointer to a local.
        if v.is_null()
            || ok(unsafe { sys::napi_is_buffer(self.env, v, &mut yes) }).is_none()
            || !yes
        {
            return None;
        }
        let mut data = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: v is a Buffer; its bytes stay alive (an argument) during this call.
        ok(unsafe { sys::napi_get_buffer_info(self.env, v, &mut data, &mut len) })?;
        if len == 0 {
            return Some(&[]);
        }
        // SAFETY: Node-API gave a pointer to `len` readable bytes.
        Some(unsafe { std::slice::from_raw_parts(data as *const u8, len) })
    }

    /// A new Buffer holding a copy of `bytes`.
    fn buffer(&self, bytes: &[u8]) -> sys::napi_value {
        let mut data = ptr::null_mut();
        let mut v = ptr::null_mut();
        // SAFETY: bytes is readable for its length; out-pointers to locals.
        unsafe {
            sys::napi_create_buffer_copy(
                self.env,
                bytes.len(),
                bytes.as_ptr().cast(),
                &mut data,
                &mut v,
            )
        };
        v
    }

    fn undefined(&self) -> sys::napi_value {
        let mut v = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        unsafe { sys::napi_get_undefined(self.env, &mut v) };
        v
    }

    /// A bug in this module: thrown as a plain Error rather than taking the process down.
    fn panicked(&self) -> sys::napi_value {
        // SAFETY: NUL-terminated literals.
        unsafe {
            sys::napi_throw_error(self.env, ptr::null(), c"sessile: internal error".as_ptr())
        };
        ptr::null_mut()
    }

    fn throw_type(&self, what: &str) -> sys::napi_value {
        let _ = arg_error(&self.env(), what, "must be a string");
        ptr::null_mut()
    }
}

/// A client string argument: absent for anything but a string.
enum ClientStr {
    None,
    Stack(usize),
    Heap(Vec<u8>),
}

fn client_arg(call: &Call<'_>, i: usize, buf: &mut [u8; CLIENT_STACK]) -> ClientStr {
    if call.type_of(i) != sys::ValueType::napi_string {
        return ClientStr::None;
    }
    match call.str_into(i, buf) {
        Some((s, false)) => ClientStr::Stack(s.len()),
        Some((_, true)) => call.str_heap(i).map_or(ClientStr::None, ClientStr::Heap),
        None => ClientStr::None,
    }
}

fn client_bytes<'a>(c: &'a ClientStr, buf: &'a [u8]) -> Option<&'a [u8]> {
    match c {
        ClientStr::None => None,
        ClientStr::Stack(n) => Some(&buf[..*n]),
        ClientStr::Heap(v) => Some(v),
    }
}

/// The client of a load call (arguments 1 and 2: address and user agent), read into
/// stack buffers once.
struct RequestClient {
    ip_buf: [u8; CLIENT_STACK],
    ua_buf: [u8; CLIENT_STACK],
    ip: ClientStr,
    ua: ClientStr,
}

impl RequestClient {
    fn read(call: &Call<'_>) -> RequestClient {
        let mut ip_buf = [0u8; CLIENT_STACK];
        let mut ua_buf = [0u8; CLIENT_STACK];
        let ip = client_arg(call, 1, &mut ip_buf);
        let ua = client_arg(call, 2, &mut ua_buf);
        RequestClient {
            ip_buf,
            ua_buf,
            ip,
            ua,
        }
    }

    fn core(&self) -> CoreClient<'_> {
        CoreClient {
            ip: client_bytes(&self.ip, &self.ip_buf),
            user_agent: client_bytes(&self.ua, &self.ua_buf),
        }
    }
}

/// Run `body` for one call; a panic becomes a thrown Error instead of an abort.
///
/// SAFETY: `env` and `info` are those Node-API passed to a function made by link_object.
unsafe fn enter(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    body: fn(&Call<'_>) -> sys::napi_value,
) -> sys::napi_value {
    let Some(call) = (unsafe { Call::new(env, info) }) else {
        return ptr::null_mut();
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&call)))
        .unwrap_or_else(|_| call.panicked())
}

/// `load(signed, ip, userAgent, now)`: `signed` is the cookie value after `s:`
/// (`token.signature`). `false` when no secret's signature matches, `null` when the token
/// names no live session, else the payload text, or `[payload, principal]` for a
/// logged-in session (what `Engine.load` reads, through `calls::load`), its handle and
/// epoch in `link.state`. Throws `SESSILE_STORE` when a shared store cannot answer.
unsafe extern "C" fn load(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, load_in) }
}

fn load_in(call: &Call<'_>) -> sys::napi_value {
    if call.is_array(0) {
        return load_copies(call);
    }
    if call.type_of(0) != sys::ValueType::napi_string {
        return call.throw_type("signed");
    }
    let mut signed_buf = [0u8; room(SIGNED_MAX)];
    let Some((signed, cut)) = call.str_into(0, &mut signed_buf) else {
        return ptr::null_mut();
    };
    if cut {
        return call.boolean(false);
    }
    let Some(token) = verify(call.link, signed) else {
        return call.boolean(false);
    };
    let request = RequestClient::read(call);
    let Ok(now) = call.now(3) else {
        return ptr::null_mut();
    };
    let client = request.core();
    let mut payload = PayloadCopy::reusing(call.link.scratch.take());
    // Copy out under the lock; build the JS values after.
    let found = call
        .link
        .engine
        .with(|e| calls::load(e, token, now, &client, &mut payload));
    let s = match found {
        Ok(s) => s,
        Err(e) => {
            call.link.scratch.replace(payload.into_buffer());
            return call.not_loaded(e);
        }
    };
    call.link.state.set(s.handle.to_u64(), s.epoch);
    let data = call.string(payload.bytes());
    call.link.scratch.replace(payload.into_buffer());
    match s.principal {
        None => data,
        Some(p) => call.array(&[data, call.string(p.as_bytes())]),
    }
}

/// `load([signed, ...], ip, userAgent, now)`: the request carried the session cookie
/// several times (a sibling domain can plant one: cookie tossing; or stale copies of
/// another path). Every copy whose signature verifies is a candidate, and the engine's
/// duplicate rule chooses among them (`Engine::validate_any`): a planted copy naming no
/// live session is passed over; several live ones are each ended. `false` when no copy's
/// signature verifies, `null` when no candidate is usable, else `[payload, principal or
/// null, index]`, `index` the chosen copy's place in the array (handle and epoch in
/// `link.state`).
fn load_copies(call: &Call<'_>) -> sys::napi_value {
    let array = call.arg(0);
    let mut n = 0u32;
    // SAFETY: argument 0 is an array; out-pointer to a local.
    if ok(unsafe { sys::napi_get_array_length(call.env, array, &mut n) }).is_none() {
        return ptr::null_mut();
    }
    // (place in the array, token) of each copy that verifies, in order.
    let mut candidates: Vec<(u32, Vec<u8>)> = Vec::new();
    for i in 0..n {
        let mut v = ptr::null_mut();
        let mut t = sys::ValueType::napi_undefined;
        // SAFETY: i is below the array's length; out-pointers to locals.
        let got = unsafe {
            ok(sys::napi_get_element(call.env, array, i, &mut v))
                .and_then(|()| ok(sys::napi_typeof(call.env, v, &mut t)))
        };
        if got.is_none() {
            return ptr::null_mut();
        }
        if t != sys::ValueType::napi_string {
            return call.throw_type("signed");
        }
        // A value too long to be `token.signature` is not read whole.
        let Some(signed) = call.string_of(v, SIGNED_MAX) else {
            continue;
        };
        if let Some(token) = verify(call.link, &signed) {
            candidates.push((i, token.to_vec()));
        }
    }
    if candidates.is_empty() {
        return call.boolean(false);
    }
    let request = RequestClient::read(call);
    let Ok(now) = call.now(3) else {
        return ptr::null_mut();
    };
    let client = request.core();
    let tokens: Vec<&[u8]> = candidates.iter().map(|(_, t)| t.as_slice()).collect();
    let mut payload = PayloadCopy::new();
    let found = call
        .link
        .engine
        .with(|e| calls::load_any(e, &tokens, now, &client, &mut payload));
    let (chosen, s) = match found {
        Ok(found) => found,
        Err(e) => return call.not_loaded(e),
    };
    let index = candidates[chosen].0;
    call.link.state.set(s.handle.to_u64(), s.epoch);
    call.array(&[
        call.string(payload.bytes()),
        s.principal
            .map_or_else(|| call.null(), |p| call.string(p.as_bytes())),
        call.number(index),
    ])
}

/// `save(handleHigh, handleLow, epoch, text, now)`: `Engine.save` with the handle and
/// epoch a `load` left in `link.state`; `true` when the text is stored (written or
/// unchanged), `false` when the save was dropped (the session ended, or changed since
/// that load: nothing written).
unsafe extern "C" fn save(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, save_in) }
}

fn save_in(call: &Call<'_>) -> sys::napi_value {
    let (Some(high), Some(low)) = (call.u32_arg(0), call.u32_arg(1)) else {
        let _ = arg_error(&call.env(), "handle", "not a session handle");
        return ptr::null_mut();
    };
    let Some(epoch) = call.u32_arg(2) else {
        let _ = arg_error(&call.env(), "epoch", "not a session epoch");
        return ptr::null_mut();
    };
    if call.type_of(3) != sys::ValueType::napi_string {
        return call.throw_type("data");
    }
    let mut text = call.link.scratch.take();
    if call.str_vec(3, &mut text).is_none() {
        return ptr::null_mut();
    }
    let Ok(now) = call.now(4) else {
        return ptr::null_mut();
    };
    let h = SessionRef::from_u64(u64::from(high) << 32 | u64::from(low));
    let r = call.link.engine.with(|e| e.save(h, epoch, &text, now));
    call.link.scratch.replace(text);
    match r {
        Ok(saved) => call.boolean(saved != Saved::Dropped),
        Err(err) => {
            let _ = throw(&call.env(), err);
            ptr::null_mut()
        }
    }
}

/// The signed cookie value of argument 0, verified: its token, or the answer to give
/// (`false` for a bad signature, or a thrown error).
fn verified_token<'b>(
    call: &Call<'_>,
    buf: &'b mut [u8; room(SIGNED_MAX)],
) -> Result<&'b [u8], sys::napi_value> {
    if call.type_of(0) != sys::ValueType::napi_string {
        return Err(call.throw_type("signed"));
    }
    let Some((signed, cut)) = call.str_into(0, buf) else {
        return Err(ptr::null_mut());
    };
    if cut {
        return Err(call.boolean(false));
    }
    verify(call.link, signed).ok_or_else(|| call.boolean(false))
}

/// `loadCommand(signed, ip, userAgent, now)`: the bytes of the command `load` would send
/// to Redis for this request (its lookup), for the caller to carry there itself; its
/// reply goes to `loadReply` with the same arguments. `false` when no secret's signature
/// matches; `undefined` when `load` needs no command (the in-process table, a malformed
/// token): call `load` then.
unsafe extern "C" fn load_command(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, load_command_in) }
}

fn load_command_in(call: &Call<'_>) -> sys::napi_value {
    let mut signed_buf = [0u8; room(SIGNED_MAX)];
    let token = match verified_token(call, &mut signed_buf) {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let request = RequestClient::read(call);
    let Ok(now) = call.now(3) else {
        return ptr::null_mut();
    };
    let client = request.core();
    match call
        .link
        .engine
        .redis(|s| s.validate_command(token, now, &client))
    {
        Some(Some(command)) => call.buffer(&command),
        _ => call.undefined(),
    }
}

/// `loadReply(signed, ip, userAgent, now, reply)`: `load`'s answer, with `reply` (a
/// Buffer holding one whole reply to `loadCommand`'s bytes) in place of its round trip.
unsafe extern "C" fn load_reply(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, load_reply_in) }
}

fn load_reply_in(call: &Call<'_>) -> sys::napi_value {
    let mut signed_buf = [0u8; room(SIGNED_MAX)];
    let token = match verified_token(call, &mut signed_buf) {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let Some(reply) = call.buffer_arg(4) else {
        let _ = arg_error(&call.env(), "reply", "must be a Buffer");
        return ptr::null_mut();
    };
    let request = RequestClient::read(call);
    let Ok(now) = call.now(3) else {
        return ptr::null_mut();
    };
    let client = request.core();
    let mut payload = PayloadCopy::reusing(call.link.scratch.take());
    let found = call
        .link
        .engine
        .redis(|s| calls::load_reply(s, token, now, &client, reply, &mut payload));
    let s = match found {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            call.link.scratch.replace(payload.into_buffer());
            return call.not_loaded(e);
        }
        None => {
            call.link.scratch.replace(payload.into_buffer());
            let _ = arg_error(&call.env(), "reply", "the engine has no shared store");
            return ptr::null_mut();
        }
    };
    call.link.state.set(s.handle.to_u64(), s.epoch);
    let data = call.string(payload.bytes());
    call.link.scratch.replace(payload.into_buffer());
    match s.principal {
        None => data,
        Some(p) => call.array(&[data, call.string(p.as_bytes())]),
    }
}

/// The arguments `save` and `saveCommand` share from `first` on: handle, epoch, text
/// (into `text`), now.
fn save_args(call: &Call<'_>, first: usize, text: &mut Vec<u8>) -> Option<(SessionRef, u32, u64)> {
    let (Some(high), Some(low)) = (call.u32_arg(first), call.u32_arg(first + 1)) else {
        let _ = arg_error(&call.env(), "handle", "not a session handle");
        return None;
    };
    let Some(epoch) = call.u32_arg(first + 2) else {
        let _ = arg_error(&call.env(), "epoch", "not a session epoch");
        return None;
    };
    if call.type_of(first + 3) != sys::ValueType::napi_string {
        call.throw_type("data");
        return None;
    }
    call.str_vec(first + 3, text)?;
    let now = call.now(first + 4).ok()?;
    Some((
        SessionRef::from_u64(u64::from(high) << 32 | u64::from(low)),
        epoch,
        now,
    ))
}

/// `saveCommand(handleHigh, handleLow, epoch, text, now)`: `save`'s first decision.
/// `true` / `false` as `save` answers when nothing is to be sent; else a Buffer, the
/// commit to carry to Redis, its id in `state[3]` for `saveReply` (or `saveAbort`).
/// `undefined` for the in-process table: call `save`.
unsafe extern "C" fn save_command(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, save_command_in) }
}

fn save_command_in(call: &Call<'_>) -> sys::napi_value {
    let mut text = call.link.scratch.take();
    let Some((h, epoch, now)) = save_args(call, 0, &mut text) else {
        call.link.scratch.replace(text);
        return ptr::null_mut();
    };
    let r = call
        .link
        .engine
        .redis(|s| s.save_command(h, epoch, &text, now));
    call.link.scratch.replace(text);
    match r {
        None => call.undefined(),
        Some(Ok(SaveStep::Done(saved))) => call.boolean(saved != Saved::Dropped),
        Some(Ok(SaveStep::Commit(pending))) => {
            let id = call.link.next_pending.get().wrapping_add(1);
            call.link.next_pending.set(id);
            let bytes = call.buffer(pending.command());
            call.link.pending.borrow_mut().insert(id, pending);
            call.link.state.set_pending(id);
            bytes
        }
        Some(Err(err)) => {
            let _ = throw(&call.env(), err);
            ptr::null_mut()
        }
    }
}

/// `saveReply(id, reply, handleHigh, handleLow, epoch, text, now)`: the save of
/// `saveCommand` (the same arguments after `id`) once `reply`, its commit's whole reply,
/// came back: `true` when stored, `false` when dropped, as `save`. A guard that failed
/// (another request wrote meanwhile) is decided anew, as `save` does.
unsafe extern "C" fn save_reply(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, save_reply_in) }
}

fn save_reply_in(call: &Call<'_>) -> sys::napi_value {
    let pending = call
        .u32_arg(0)
        .and_then(|id| call.link.pending.borrow_mut().remove(&id));
    let Some(pending) = pending else {
        let _ = arg_error(&call.env(), "id", "not a save on its way");
        return ptr::null_mut();
    };
    let Some(reply) = call.buffer_arg(1) else {
        let _ = arg_error(&call.env(), "reply", "must be a Buffer");
        return ptr::null_mut();
    };
    let mut text = call.link.scratch.take();
    let Some((h, epoch, now)) = save_args(call, 2, &mut text) else {
        call.link.scratch.replace(text);
        return ptr::null_mut();
    };
    let r = call
        .link
        .engine
        .redis(|s| s.save_reply(pending, reply, h, epoch, &text, now));
    call.link.scratch.replace(text);
    match r {
        Some(Ok(saved)) => call.boolean(saved != Saved::Dropped),
        Some(Err(err)) => {
            let _ = throw(&call.env(), err);
            ptr::null_mut()
        }
        None => call.undefined(),
    }
}

/// `saveAbort(id)`: forget a save whose reply will not come (the connection failed or
/// timed out: whether it landed is not known, and its events are not raised, as when the
/// synchronous call fails).
unsafe extern "C" fn save_abort(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, save_abort_in) }
}

fn save_abort_in(call: &Call<'_>) -> sys::napi_value {
    if let Some(id) = call.u32_arg(0) {
        call.link.pending.borrow_mut().remove(&id);
    }
    call.undefined()
}

/// `storeError(kind)`: throws the `SESSILE_STORE` error a synchronous call throws when
/// the store failed so (`'timeout'`, `'unavailable'`, `'refused'`, else corrupt), for
/// the connection sessile/express carries.
unsafe extern "C" fn store_error(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by Node-API as a function made by link_object.
    unsafe { enter(env, info, store_error_in) }
}

fn store_error_in(call: &Call<'_>) -> sys::napi_value {
    let mut buf = [0u8; 32];
    let kind = match call.str_into(0, &mut buf) {
        Some((b"timeout", _)) => StoreError::Timeout,
        Some((b"unavailable", _)) => StoreError::Unavailable,
        Some((b"refused", _)) => StoreError::Refused,
        _ => StoreError::Corrupt,
    };
    let _ = throw(&call.env(), sessile::Error::Store(kind));
    ptr::null_mut()
}
