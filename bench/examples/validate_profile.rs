//! A small binary to profile validate under callgrind or perf:
//! `validate_profile [sessile|naive] LIVE LOOKUPS` (defaults sessile, 10000 and 200000).
//! The naive store runs the same lookups, so instruction counts compare directly
//! (subtract a run with LOOKUPS = 0 for the set-up). Not part of `make bench`.

use std::hint::black_box;

use sessile::{Client, Engine};
use sessile_bench::measure::Order;
use sessile_bench::naive::NaiveStore;
use sessile_bench::stores::{ABSOLUTE_MS, IDLE_MS, sessile_config};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "sessile".into());
    let live: usize = args.next().map_or(10_000, |a| a.parse().expect("LIVE"));
    let lookups: usize = args.next().map_or(200_000, |a| a.parse().expect("LOOKUPS"));
    let mut order = Order::new(1);
    let idx: Vec<usize> = (0..lookups).map(|_| order.below(live)).collect();
    let mut ok = 0usize;
    match which.as_str() {
        "sessile" => {
            let mut engine =
                Engine::new(sessile_config(live as u32 + 16), [7; 32]).expect("config");
            let mut ids = Vec::with_capacity(live * 43);
            for _ in 0..live {
                let (t, _) = sessile::Store::create(&mut engine, 1, &Client::NONE).expect("room");
                ids.extend_from_slice(t.as_bytes());
            }
            for &i in &idx {
                let t = &ids[i * 43..(i + 1) * 43];
                ok += usize::from(engine.validate(black_box(t), 2, &Client::NONE).is_ok());
            }
        }
        "naive" => {
            let mut store = NaiveStore::new(IDLE_MS, ABSOLUTE_MS, live + 16);
            let mut ids = String::with_capacity(live * 43);
            for _ in 0..live {
                ids.push_str(&store.create(1));
            }
            for &i in &idx {
                let t = &ids[i * 43..(i + 1) * 43];
                ok += usize::from(black_box(store.validate(black_box(t), 2)).is_some());
            }
        }
        other => panic!("unknown store {other:?} (sessile or naive)"),
    }
    assert_eq!(ok, lookups);
}
