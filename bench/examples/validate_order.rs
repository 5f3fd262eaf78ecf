//! validate rounds of both stores at one live count in three orders, to see what the order
//! of the batches does to each store's time: `validate_order LIVE LOOKUPS ROUNDS MODE [v]`
//! (defaults 10000 100000 21 abba; `v` prints every round). MODE: `abba`, the order swapped
//! every other round (the bench before issue 17's measurement work); `alt`, sessile then
//! naive in every round (the bench now); `warm`, each timed batch after an untimed batch of
//! the same store. Not part of `make bench`.
use sessile_bench::measure::{Fixture, Order, median};
use sessile_bench::naive::NaiveStore;
use sessile_bench::stores::{ABSOLUTE_MS, IDLE_MS, SessileStore};

fn main() {
    let mut a = std::env::args().skip(1);
    let live: usize = a.next().map_or(10_000, |x| x.parse().unwrap());
    let lookups: usize = a.next().map_or(100_000, |x| x.parse().unwrap());
    let rounds: usize = a.next().map_or(21, |x| x.parse().unwrap());
    let mode = a.next().unwrap_or("abba".into());
    let verbose = a.next().is_some();
    let cap = live + 2016;
    let mut s = Fixture::build(SessileStore::new(cap), live, 1000);
    let mut n = Fixture::build(NaiveStore::new(IDLE_MS, ABSOLUTE_MS, cap), live, 1000);
    let mut order = Order::new(0x5e55_11e0 ^ live as u64);
    let (mut rs, mut xs, mut ys) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..=rounds {
        let idx: Vec<usize> = (0..lookups).map(|_| order.below(live)).collect();
        let (x, y) = match mode.as_str() {
            "abba" if r % 2 == 1 => {
                let y = n.validate_round(&idx, 1001);
                (s.validate_round(&idx, 1001), y)
            }
            "abba" | "alt" => {
                let x = s.validate_round(&idx, 1001);
                (x, n.validate_round(&idx, 1001))
            }
            "warm" => {
                s.validate_round(&idx, 1001);
                let x = s.validate_round(&idx, 1001);
                n.validate_round(&idx, 1001);
                (x, n.validate_round(&idx, 1001))
            }
            _ => panic!("mode"),
        };
        if verbose {
            println!("{r:>3} {x:6.1} {y:6.1} {:.2}", x / y);
        }
        if r > 0 {
            rs.push(x / y);
            xs.push(x);
            ys.push(y);
        }
    }
    println!(
        "{mode}: medians {:.1} / {:.1} = {:.2}; median ratio {:.2} (min {:.2} max {:.2})",
        median(&xs),
        median(&ys),
        median(&xs) / median(&ys),
        median(&rs),
        rs.iter().cloned().fold(f64::MAX, f64::min),
        rs.iter().cloned().fold(0.0, f64::max)
    );
}
