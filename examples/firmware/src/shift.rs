//! The Arm EABI's 64-bit shifts by a variable amount (`__aeabi_llsl`, `__aeabi_llsr`: the
//! core's timing wheel shifts its `u64` times and slot bitmaps by a level's bits), 24
//! bytes each in Thumb-1, in place of compiler-builtins' weak ones (a wrapper and the
//! shift: 50 bytes each on a Cortex-M4). See `mem.rs` for why strong symbols win.
//!
//! Branch-free: an Arm shift by a register uses its low byte and gives 0 from 32 up, so
//! for `n` in 0..64 `hi << n | lo >> (32 - n) | lo << (n - 32)` is the high word of
//! `(hi:lo) << n` (each term 0 where its amount is out of 0..32; `32 - n` and `n - 32` are
//! negative there, so their low byte is at least 225), and likewise to the right.

core::arch::global_asm!(
    ".pushsection .text.sessile_shift,\"ax\",%progbits",
    ".balign 2",
    // (r1:r0) << r2, n = r2 in 0..64.
    ".global __aeabi_llsl",
    ".type __aeabi_llsl, %function",
    ".thumb_func",
    "__aeabi_llsl:",
    "lsls r1, r2", // hi << n
    "movs r3, r0",
    "lsls r0, r2", // lo << n: the low word
    "subs r2, #32",
    "mov r12, r3",
    "lsls r3, r2", // lo << (n - 32)
    "orrs r1, r3",
    "mov r3, r12",
    "negs r2, r2",
    "lsrs r3, r2", // lo >> (32 - n)
    "orrs r1, r3",
    "bx lr",
    // (r1:r0) >> r2 (logical), n = r2 in 0..64.
    ".global __aeabi_llsr",
    ".type __aeabi_llsr, %function",
    ".thumb_func",
    "__aeabi_llsr:",
    "lsrs r0, r2", // lo >> n
    "movs r3, r1",
    "lsrs r1, r2", // hi >> n: the high word
    "subs r2, #32",
    "mov r12, r3",
    "lsrs r3, r2", // hi >> (n - 32)
    "orrs r0, r3",
    "mov r3, r12",
    "negs r2, r2",
    "lsls r3, r2", // hi << (32 - n)
    "orrs r0, r3",
    "bx lr",
    ".popsection",
);
