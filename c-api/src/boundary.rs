//! The panic boundary: every exported function runs its body through [`run`], so a panic
//! never unwinds into C. With `std` the panic becomes `SESSILE_RESULT_PANIC`; without it the
//! target aborts (see the `#[panic_handler]` in lib.rs).

use crate::result::sessile_result;

/// Run `f`; its `Err` is the result code, a panic is `SESSILE_RESULT_PANIC`.
pub(crate) fn run(f: impl FnOnce() -> Result<(), sessile_result>) -> sessile_result {
    match catch(f) {
        Some(Ok(())) => sessile_result::SESSILE_RESULT_OK,
        Some(Err(code)) => code,
        None => sessile_result::SESSILE_RESULT_PANIC,
    }
}

/// Run `f`; a panic gives `fallback` (for functions returning a value, not a code).
pub(crate) fn run_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch(f).unwrap_or(fallback)
}

#[cfg(feature = "std")]
fn catch<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

#[cfg(not(feature = "std"))]
fn catch<T>(f: impl FnOnce() -> T) -> Option<T> {
    Some(f())
}

// Only with `std`: without it there is no unwinding to catch.
#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_code() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let code = run(|| panic!("boom"));
        let value = run_or(7usize, || panic!("boom"));
        std::panic::set_hook(prev);
        assert_eq!(code, sessile_result::SESSILE_RESULT_PANIC);
        assert_eq!(value, 7);
        assert_eq!(run(|| Ok(())), sessile_result::SESSILE_RESULT_OK);
    }
}
