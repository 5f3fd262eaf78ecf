//! `memcpy` and `memset` a byte at a time (and the Arm EABI entry points the compiler
//! calls for them: `__aeabi_memcpy`, `__aeabi_memset`, `__aeabi_memclr` and their 4- and
//! 8-byte-aligned forms), in place of compiler-builtins' word-at-a-time versions.
//!
//! compiler-builtins defines its copies as weak symbols so that a program can bring its
//! own; these are strong, so the linker takes them. Its versions copy and fill a word at a
//! time with unaligned heads and tails handled apart: about 550 bytes of code on a
//! Cortex-M4 for the two and their EABI wrappers. These loops are 34 bytes, and slower
//! per byte: this image copies a few hundred bytes per request (its largest copies are a
//! session's record and its 43-character token), so size wins here. The same Thumb-1
//! instructions assemble for the Cortex-M0 and the Cortex-M4. `memcmp` is here too (26
//! bytes, compiler-builtins' and its wrapper 40); `memmove` (not linked) stays
//! compiler-builtins'.
//!
//! Both loops run from the end down (`n - 1` to 0): a C `memcpy`'s regions never overlap,
//! so the order is free, and counting down needs no fifth register.

core::arch::global_asm!(
    ".pushsection .text.sessile_mem,\"ax\",%progbits",
    ".balign 2",
    // memcpy(dst: r0, src: r1, n: r2) -> dst (r0, untouched); the EABI forms return
    // nothing and have the same arguments.
    ".global memcpy",
    ".global __aeabi_memcpy",
    ".global __aeabi_memcpy4",
    ".global __aeabi_memcpy8",
    ".type memcpy, %function",
    ".type __aeabi_memcpy, %function",
    ".type __aeabi_memcpy4, %function",
    ".type __aeabi_memcpy8, %function",
    ".thumb_func",
    "memcpy:",
    ".thumb_func",
    "__aeabi_memcpy:",
    ".thumb_func",
    "__aeabi_memcpy4:",
    ".thumb_func",
    "__aeabi_memcpy8:",
    "1:",
    "subs r2, #1",
    // n was 0: the subtraction borrowed (carry clear).
    "bcc 2f",
    "ldrb r3, [r1, r2]",
    "strb r3, [r0, r2]",
    "b 1b",
    "2:",
    "bx lr",
    // memset(dst: r0, c: r1, n: r2) -> dst: the EABI form's argument order
    // (dst, n, c) first, then its loop.
    ".global memset",
    ".global __aeabi_memset",
    ".global __aeabi_memset4",
    ".global __aeabi_memset8",
    ".global __aeabi_memclr",
    ".global __aeabi_memclr4",
    ".global __aeabi_memclr8",
    ".type memset, %function",
    ".type __aeabi_memset, %function",
    ".type __aeabi_memset4, %function",
    ".type __aeabi_memset8, %function",
    ".type __aeabi_memclr, %function",
    ".type __aeabi_memclr4, %function",
    ".type __aeabi_memclr8, %function",
    ".thumb_func",
    "memset:",
    "mov r3, r1",
    "mov r1, r2",
    "mov r2, r3",
    "b 3f",
    // __aeabi_memclr(dst: r0, n: r1): __aeabi_memset with c = 0.
    ".thumb_func",
    "__aeabi_memclr:",
    ".thumb_func",
    "__aeabi_memclr4:",
    ".thumb_func",
    "__aeabi_memclr8:",
    "movs r2, #0",
    // __aeabi_memset(dst: r0, n: r1, c: r2), storing c's low byte.
    ".thumb_func",
    "__aeabi_memset:",
    ".thumb_func",
    "__aeabi_memset4:",
    ".thumb_func",
    "__aeabi_memset8:",
    "3:",
    "subs r1, #1",
    "bcc 4f",
    "strb r2, [r0, r1]",
    "b 3b",
    "4:",
    "bx lr",
    // memcmp(a: r0, b: r1, n: r2) -> the first differing bytes' difference (as
    // unsigned bytes), 0 when the n bytes are equal.
    ".global memcmp",
    ".type memcmp, %function",
    ".thumb_func",
    "memcmp:",
    "push {{r4, r5}}",
    "movs r3, #0",
    "movs r4, #0",
    "5:",
    "cmp r3, r2",
    "beq 6f",
    "ldrb r4, [r0, r3]",
    "ldrb r5, [r1, r3]",
    "adds r3, #1",
    "subs r4, r4, r5",
    "beq 5b",
    "6:",
    "movs r0, r4",
    "pop {{r4, r5}}",
    "bx lr",
    ".popsection",
);
