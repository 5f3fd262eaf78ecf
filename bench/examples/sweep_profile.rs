//! Sweep under callgrind: `sweep_profile LIVE ROUNDS` fills an engine with LIVE sessions,
//! then ROUNDS times adds 1,000 sessions that expire and sweeps them. With FLUSH set, 64 MiB
//! are touched before each sweep (as the bench does) and the median sweep time is printed.
//! Not part of `make bench`.

use sessile::{Client, Engine, Store};
use sessile_bench::stores::sessile_config;

fn main() {
    let mut args = std::env::args().skip(1);
    let live: u32 = args.next().map_or(10_000, |a| a.parse().expect("LIVE"));
    let rounds: u32 = args.next().map_or(5, |a| a.parse().expect("ROUNDS"));
    let mut e = Engine::new(sessile_config(live + 1_016), [7; 32]).expect("config");
    for _ in 0..live {
        e.create(1, &Client::NONE).expect("room");
    }
    // Fill the churn ring of dead tokens (an eighth of capacity, a quarter of it churn),
    // as the bench's rotate and logout rounds do: each end then forgets the oldest.
    for _ in 0..live / 16 + 100 {
        let (t, _) = e.create(1, &Client::NONE).expect("room");
        e.logout(t.as_bytes(), 1).expect("live");
    }
    let mut now = 10;
    let mut swept = 0;
    let flush = std::env::var_os("FLUSH").is_some();
    let mut buf = vec![0u8; 64 << 20];
    let mut times = Vec::new();
    for _ in 0..rounds {
        for _ in 0..1_000 {
            let (_, s) = e.create(now, &Client::NONE).expect("room");
            e.set_timeouts(s.handle, Some(1_000), None, now)
                .expect("timeout");
        }
        now += 1_001;
        if flush {
            sessile_bench::measure::evict_caches(&mut buf);
        }
        let t = sessile_bench::measure::Stamp::now();
        swept += sessile::Engine::sweep(&mut e, now);
        times.push(t.elapsed().as_secs_f64() * 1e6);
        while e.pop_event().is_some() {}
    }
    assert_eq!(swept, 1_000 * rounds as usize);
    if flush || std::env::var_os("PRINT").is_some() {
        times.sort_by(f64::total_cmp);
        println!(
            "{live} live: sweep median {:.0} µs (of {rounds})",
            times[times.len() / 2]
        );
    }
}
