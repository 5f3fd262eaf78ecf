//! The pure-Rust side of `make bench-c` (feature `bench` only, never in releases): the same
//! creates and validations as `c-api/bench/bench.c` makes through the C API, on the same
//! kind of engine (the core's `SharedEngine`, which the heap engine serves from through
//! `sessile_backend::Backend`: the difference includes that dispatch). The C program
//! calls these a batch at a time, alternating with its own batches, and times both sides
//! with the same clock, so both see the same machine from moment to moment.

use sessile_core::shared::SharedEngine;
use sessile_core::{Client, Store};

use crate::boundary::run;
use crate::config::sessile_config;
use crate::result::sessile_result;
use crate::types::SESSILE_TOKEN_BUFFER as TOKEN_BUFFER;

use sessile_result as R;

/// A Rust engine and room for the text of `n` tokens.
pub struct sessile_bench_rust {
    engine: SharedEngine,
    tokens: Vec<([u8; TOKEN_BUFFER], usize)>,
}

/// A fresh Rust-side engine built from `config` with `seed` (32 bytes), with room for `n`
/// tokens, into `*out`; release it with `sessile_bench_rust_free`.
///
/// # Safety
/// `config` valid; `seed` readable for 32 bytes; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_bench_rust_new(
    config: *const sessile_config,
    seed: *const u8,
    n: usize,
    out: *mut *mut sessile_bench_rust,
) -> sessile_result {
    run(|| {
        if out.is_null() {
            return Err(R::SESSILE_RESULT_NULL_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        let (config, seed) = unsafe {
            (
                crate::config::to_core(config)?,
                crate::engine::seed32(seed, 32)?,
            )
        };
        let b = Box::new(sessile_bench_rust {
            engine: SharedEngine::with_seed(config, seed)?,
            tokens: vec![([0u8; TOKEN_BUFFER], 0); n],
        });
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(Box::into_raw(b)) };
        Ok(())
    })
}

/// Create sessions `from..to` (session `i` at time `i` ms), keeping each token's text as
/// an app keeps it for its cookie and dropping (wiping) the `Token` at once: the same work
/// the C loop makes.
///
/// # Safety
/// `b` from `sessile_bench_rust_new`, not freed; `to` at most its `n`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_bench_rust_create(
    b: *mut sessile_bench_rust,
    from: usize,
    to: usize,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let b = unsafe { b.as_mut() }.ok_or(R::SESSILE_RESULT_NULL_ARGUMENT)?;
        let tokens = b
            .tokens
            .get_mut(from..to)
            .ok_or(R::SESSILE_RESULT_INVALID_ARGUMENT)?;
        for (i, (buf, len)) in tokens.iter_mut().enumerate() {
            let (t, _) = b
                .engine
                .with(|e| e.create((from + i) as u64, &Client::NONE))?;
            let text = t.as_bytes();
            buf[..text.len()].copy_from_slice(text);
            *len = text.len();
        }
        Ok(())
    })
}

/// Validate the tokens of sessions `from..to`, session `i` at time `now + i` ms.
///
/// # Safety
/// As `sessile_bench_rust_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_bench_rust_validate(
    b: *mut sessile_bench_rust,
    from: usize,
    to: usize,
    now: u64,
) -> sessile_result {
    run(|| {
        // SAFETY: forwarded contract.
        let b = unsafe { b.as_mut() }.ok_or(R::SESSILE_RESULT_NULL_ARGUMENT)?;
        let tokens = b
            .tokens
            .get(from..to)
            .ok_or(R::SESSILE_RESULT_INVALID_ARGUMENT)?;
        for (i, (buf, len)) in tokens.iter().enumerate() {
            let s = b
                .engine
                .with(|e| e.validate(&buf[..*len], now + (from + i) as u64, &Client::NONE))?;
            std::hint::black_box(s);
        }
        Ok(())
    })
}

/// Release what `sessile_bench_rust_new` made (NULL is a no-op).
///
/// # Safety
/// `b` NULL or from `sessile_bench_rust_new`, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_bench_rust_free(b: *mut sessile_bench_rust) {
    if !b.is_null() {
        // SAFETY: from Box::into_raw in sessile_bench_rust_new, released once (contract).
        drop(unsafe { Box::from_raw(b) });
    }
}
