//! The pure-Rust side of `make bench-c` (feature `bench` only, never in releases): the same
//! creates and validations as `c-api/bench/bench.c` makes through the C API, on the same
//! kind of engine (the core's `SharedEngine`, which the heap engine wraps), timed here.

use std::time::Instant;

use engine::Client;
use engine::shared::SharedEngine;

use crate::boundary::run;
use crate::config::sessile_config;
use crate::result::sessile_result;

/// Time `n` creates, then `n` validations of the tokens, on a fresh engine built from
/// `config` with `seed` (32 bytes); nanoseconds per operation into `*create_ns` and
/// `*validate_ns`.
///
/// # Safety
/// `config` valid; `seed` readable for 32 bytes; the outputs writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sessile_bench_rust(
    config: *const sessile_config,
    seed: *const u8,
    n: usize,
    create_ns: *mut f64,
    validate_ns: *mut f64,
) -> sessile_result {
    run(|| {
        if create_ns.is_null() || validate_ns.is_null() || n == 0 {
            return Err(sessile_result::SESSILE_RESULT_NULL_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        let (config, seed) = unsafe {
            (
                crate::config::to_core(config)?,
                crate::engine::seed32(seed, 32)?,
            )
        };
        let engine = SharedEngine::with_seed(config, seed)?;
        let mut tokens = Vec::with_capacity(n);
        let t0 = Instant::now();
        for i in 0..n {
            let (t, _) = engine.with(|e| e.create(i as u64, &Client::NONE))?;
            tokens.push(t);
        }
        let t1 = Instant::now();
        for (i, t) in tokens.iter().enumerate() {
            let s = engine.with(|e| e.validate(t.as_bytes(), (n + i) as u64, &Client::NONE))?;
            std::hint::black_box(s);
        }
        let t2 = Instant::now();
        // SAFETY: checked non-NULL; writable by contract.
        unsafe {
            create_ns.write((t1 - t0).as_nanos() as f64 / n as f64);
            validate_ns.write((t2 - t1).as_nanos() as f64 / n as f64);
        }
        Ok(())
    })
}
