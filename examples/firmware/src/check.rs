//! The runtime functions this image brings in assembly (`mem.rs`: `memcpy`, `memset`,
//! `memcmp` and their EABI entry points), each called directly and checked against a
//! plain spelling: the flow itself only reaches the few lengths it happens to use. Built with the feature
//! `asm-check` in place of the flow (`make test-firmware` runs both images under qemu;
//! the measured image has none of this), it prints one line and exits 0, or prints
//! `FAIL: <function>` and exits 1.
//!
//! The references load and store bytes through `read_volatile`/`write_volatile` (a plain
//! byte loop may be turned into a call to `memcpy` or `memset`, the functions under test).

use core::hint::black_box;
use core::ptr::{read_volatile, write_volatile};

use crate::host::Piece::N;
use crate::host::{exit, fail, say};

unsafe extern "C" {
    fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn __aeabi_memcpy(dst: *mut u8, src: *const u8, n: usize);
    fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8;
    fn __aeabi_memset(dst: *mut u8, n: usize, c: i32);
    fn __aeabi_memclr(dst: *mut u8, n: usize);
    fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32;
}

/// Longest run checked, and the bytes of each buffer (room for an offset of up to 3
/// and guard bytes after).
const MAX_LEN: usize = 40;
const BUF: usize = 48;
/// The bytes outside the region a call may write.
const GUARD: u8 = 0xA5;

/// xorshift32: the same values on every run.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

fn get(buf: &[u8; BUF], i: usize) -> u8 {
    // SAFETY: `i < BUF` at every call; a volatile read of a byte of the array.
    unsafe { read_volatile(buf.as_ptr().add(i)) }
}

fn put(buf: &mut [u8; BUF], i: usize, b: u8) {
    // SAFETY: `i < BUF` at every call; a volatile write of a byte of the array.
    unsafe { write_volatile(buf.as_mut_ptr().add(i), b) }
}

/// Every byte of `buf` is `GUARD` outside `at..at + len`, and `want(i)` at `at + i`.
fn holds(buf: &[u8; BUF], at: usize, len: usize, want: impl Fn(usize) -> u8) -> bool {
    (0..BUF).all(|i| {
        let b = get(buf, i);
        if i >= at && i < at + len {
            b == want(i - at)
        } else {
            b == GUARD
        }
    })
}

fn guarded() -> [u8; BUF] {
    let mut buf = [0u8; BUF];
    for i in 0..BUF {
        put(&mut buf, i, GUARD);
    }
    buf
}

/// Runs every check, prints how many calls each function took, and ends the run.
pub fn run() -> ! {
    let mut rng = Rng(0x5e55_11e0);
    let mut src = [0u8; BUF];
    for i in 0..BUF {
        put(&mut src, i, rng.next() as u8 | 1);
    }
    let (mut copies, mut fills, mut compares) = (0u32, 0u32, 0u32);
    for at in 0..4 {
        for len in 0..=MAX_LEN {
            let n = black_box(len);
            let s = src.as_ptr();
            let want = |i: usize| get(&src, i);

            let mut dst = guarded();
            // SAFETY: `at + len < BUF`: both regions lie in their arrays, which differ.
            let back = unsafe { memcpy(dst.as_mut_ptr().add(at), s, n) };
            if back != dst.as_mut_ptr().wrapping_add(at) || !holds(&dst, at, len, want) {
                fail("FAIL: %", "memcpy");
            }
            let mut dst = guarded();
            // SAFETY: as above.
            unsafe { __aeabi_memcpy(dst.as_mut_ptr().add(at), s, n) };
            if !holds(&dst, at, len, want) {
                fail("FAIL: %", "__aeabi_memcpy");
            }
            copies += 2;

            // Only the value's low byte is stored: 0x1C3 fills with 0xC3.
            let mut dst = guarded();
            // SAFETY: `at + len < BUF`.
            let back = unsafe { memset(dst.as_mut_ptr().add(at), 0x1C3, n) };
            if back != dst.as_mut_ptr().wrapping_add(at) || !holds(&dst, at, len, |_| 0xC3) {
                fail("FAIL: %", "memset");
            }
            let mut dst = guarded();
            // SAFETY: as above.
            unsafe { __aeabi_memset(dst.as_mut_ptr().add(at), n, 0x7E) };
            if !holds(&dst, at, len, |_| 0x7E) {
                fail("FAIL: %", "__aeabi_memset");
            }
            let mut dst = guarded();
            // SAFETY: as above.
            unsafe { __aeabi_memclr(dst.as_mut_ptr().add(at), n) };
            if !holds(&dst, at, len, |_| 0) {
                fail("FAIL: %", "__aeabi_memclr");
            }
            fills += 3;

            // Equal runs compare 0; a run that first differs at `k` compares as the bytes
            // there do, unsigned (0x01 is below 0xFF), whatever follows.
            let mut a = guarded();
            let mut b = guarded();
            for i in 0..len {
                put(&mut a, at + i, get(&src, i));
                put(&mut b, at + i, get(&src, i));
            }
            // SAFETY: both regions lie in their arrays.
            if unsafe { memcmp(a.as_ptr().add(at), b.as_ptr().add(at), n) } != 0 {
                fail("FAIL: %", "memcmp");
            }
            compares += 1;
            for k in 0..len {
                let (x, y) = (get(&a, at + k), get(&b, at + k));
                put(&mut a, at + k, 0x01);
                put(&mut b, at + k, 0xFF);
                if k + 1 < len {
                    // After the first difference, the other way round: must not count.
                    put(&mut a, at + k + 1, 0xFF);
                    put(&mut b, at + k + 1, 0x00);
                }
                // SAFETY: as above.
                let (lt, gt) = unsafe {
                    (
                        memcmp(a.as_ptr().add(at), b.as_ptr().add(at), n),
                        memcmp(b.as_ptr().add(at), a.as_ptr().add(at), n),
                    )
                };
                if lt >= 0 || gt <= 0 {
                    fail("FAIL: %", "memcmp");
                }
                compares += 2;
                put(&mut a, at + k, x);
                put(&mut b, at + k, y);
                if k + 1 < len {
                    let z = get(&src, k + 1);
                    put(&mut a, at + k + 1, z);
                    put(&mut b, at + k + 1, z);
                }
            }
        }
    }
    say(
        "asm check: % copies, % fills, % compares: ok",
        &[N(copies), N(fills), N(compares)],
    );
    exit(true)
}
