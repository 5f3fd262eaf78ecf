//! A small binary to profile sessile's validate under callgrind or perf:
//! `validate_profile LIVE LOOKUPS` (defaults 10000 and 200000). Not part of `make bench`.

use std::hint::black_box;

use sessile::{Client, Engine};
use sessile_bench::measure::Order;
use sessile_bench::stores::sessile_config;

fn main() {
    let mut args = std::env::args().skip(1);
    let live: usize = args.next().map_or(10_000, |a| a.parse().expect("LIVE"));
    let lookups: usize = args.next().map_or(200_000, |a| a.parse().expect("LOOKUPS"));
    let mut engine = Engine::new(sessile_config(live as u32 + 16), [7; 32]).expect("config");
    let mut ids = Vec::with_capacity(live * 43);
    for _ in 0..live {
        let (t, _) = sessile::Store::create(&mut engine, 1, &Client::NONE).expect("room");
        ids.extend_from_slice(t.as_bytes());
    }
    let mut order = Order::new(1);
    let idx: Vec<usize> = (0..lookups).map(|_| order.below(live)).collect();
    let mut ok = 0usize;
    for &i in &idx {
        let t = &ids[i * 43..(i + 1) * 43];
        ok += usize::from(engine.validate(black_box(t), 2, &Client::NONE).is_ok());
    }
    assert_eq!(ok, lookups);
}
