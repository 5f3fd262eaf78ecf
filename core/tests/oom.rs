//! A configuration too large for the machine is a typed error, never an abort.

use std::alloc::{GlobalAlloc, Layout, System};

/// Refuses any single allocation over 256 MiB, like a small machine would.
struct Small;

unsafe impl GlobalAlloc for Small {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > 256 << 20 {
            std::ptr::null_mut()
        } else {
            unsafe { System.alloc(layout) }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Small = Small;

// A `narrow` build refuses such a capacity at validation (`ConfigError::Capacity`, see
// the config's tests); no capacity it accepts comes near 256 MiB.
#[cfg(not(feature = "narrow"))]
#[test]
fn huge_capacity_is_out_of_memory_not_an_abort() {
    let config = sessile::Config {
        capacity: 8_000_000,
        ..Default::default()
    };
    assert!(config.validate().is_ok());
    assert_eq!(
        sessile::Engine::new(config, [0; 32]).err(),
        Some(sessile::Error::OutOfMemory)
    );
    // And the process goes on: a reasonable engine still builds.
    assert!(sessile::Engine::new(sessile::Config::default(), [0; 32]).is_ok());
}
