//! Semihosting: the debugger (here qemu, `-semihosting-config enable=on`) serves a
//! `bkpt 0xAB` as a call to the host (Arm's "Semihosting for AArch32 and AArch64").
//! Two calls are enough: SYS_WRITEC prints a byte, SYS_EXIT ends the run with a status.
//! On a board with no debugger attached `bkpt` faults: this is for the emulator.
//!
//! Numbers are written by hand ([`say`]): nothing here reaches `core::fmt`.

use core::arch::asm;

const SYS_WRITEC: u32 = 0x03;
const SYS_EXIT: u32 = 0x18;
/// ADP_Stopped_ApplicationExit: qemu exits with status 0; any other reason gives 1.
const EXIT_SUCCESS: usize = 0x20026;
/// ADP_Stopped_RunTimeErrorUnknown.
const EXIT_FAILURE: usize = 0x20023;

/// One semihosting call: operation in r0, its argument in r1.
fn call(op: u32, arg: usize) {
    // SAFETY: `bkpt 0xAB` hands r0/r1 to the host, which reads at most the memory r1
    // names (a byte that outlives the call) and writes only r0.
    unsafe {
        asm!("bkpt 0xAB", inout("r0") op => _, in("r1") arg, options(nostack));
    }
}

/// Ends the run: qemu exits 0 for `true`, 1 for `false`.
pub fn exit(success: bool) -> ! {
    call(SYS_EXIT, if success { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Not reached under qemu; elsewhere, sleep.
    loop {
        // SAFETY: waits for an interrupt; touches no memory.
        unsafe { asm!("wfi", options(nomem, nostack)) };
    }
}

/// An argument of a printed line.
#[derive(Clone, Copy)]
pub enum Piece<'a> {
    /// Bytes (text too: `s.as_bytes()`), printed as they are.
    B(&'a [u8]),
    /// A number, in decimal.
    N(u32),
}

/// Prints `text` and a newline, each `%` in `text` replaced by the next of `args` (one
/// template and its few arguments are less code at each call than a list of pieces),
/// a byte at a time with SYS_WRITEC: no line buffer to fill, bound and terminate.
pub fn say(text: &str, args: &[Piece<'_>]) {
    let mut args = args.iter();
    for &c in text.as_bytes() {
        if c != b'%' {
            put(c);
            continue;
        }
        match args.next() {
            Some(Piece::B(b)) => put_all(b),
            Some(&Piece::N(mut n)) => {
                // By subtracting powers of ten: a Cortex-M0 has no divide instruction.
                let mut started = false;
                for &power in &POWERS {
                    started |= digit(&mut n, power, started);
                }
                put(b'0' + n as u8);
            }
            None => put(b'%'),
        }
    }
    put(b'\n');
}

/// Prints one byte (SYS_WRITEC: r1 points at it).
#[inline(never)]
fn put(c: u8) {
    call(SYS_WRITEC, &raw const c as usize);
}

fn put_all(bytes: &[u8]) {
    for &c in bytes {
        put(c);
    }
}

/// The powers of ten a `u32` can hold, but 1.
static POWERS: [u32; 9] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
];

/// Takes the multiples of `power` off `n` and prints their count as a digit, unless it
/// is a leading zero (nothing `started` and the digit 0); returns whether it printed.
fn digit(n: &mut u32, power: u32, started: bool) -> bool {
    let mut d = b'0';
    while *n >= power {
        *n -= power;
        d += 1;
    }
    let print = started || d != b'0';
    if print {
        put(d);
    }
    print
}

/// A panic prints one line and fails the run (the message is not formatted: that would
/// bring in `core::fmt`). The measured image (`make firmware`) is built with
/// `panic = "immediate-abort"`: there a panic is a trap instruction, which ends in
/// [`HardFault`] and prints the same line; this handler serves other builds (`cargo
/// build`, clippy).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    fail("panic", "")
}

/// A fault (and, in the measured image, a panic: see [`panic`]) prints `panic` and fails
/// the run instead of looping until the test's timeout. qemu serves semihosting calls
/// from the fault handler too.
#[cortex_m_rt::exception(trampoline = false)]
unsafe fn HardFault() -> ! {
    fail("panic", "")
}

/// Prints `text` (its `%` replaced by `arg`) and fails the run: a panic or fault here, a
/// step that answered wrongly in the flow (`FAIL: <step>`), one function for both.
#[inline(never)]
pub fn fail(text: &str, arg: &str) -> ! {
    say(text, &[Piece::B(arg.as_bytes())]);
    exit(false)
}
