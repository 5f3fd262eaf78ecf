//! Time at the Python edge: seconds in Python, milliseconds in the core.

/// Milliseconds to seconds at the Python edge.
pub(crate) fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

pub(crate) fn seconds_to_ms(s: f64) -> Option<u32> {
    let ms = (s * 1000.0).round();
    (s.is_finite() && ms >= 0.0 && ms <= f64::from(u32::MAX)).then_some(ms as u32)
}
