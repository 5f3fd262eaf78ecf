//! The harness at toy sizes: the naive peer behaves like a session store, every
//! measurement function runs against both stores, verdicts follow the thresholds, and the
//! chart is a real PNG. (Speed itself is never asserted: that is what the benchmark is for.)

use sessile_bench::chart;
use sessile_bench::measure::{
    self, Costs, DigestCosts, Growth, Memory, Order, Params, Point, Ratios, ValidatePaths, Warm,
};
use sessile_bench::naive::{ID_CHARS, NaiveStore};
use sessile_bench::report::{self, Results};

#[test]
fn naive_store_behaves_like_a_session_store() {
    let mut s = NaiveStore::new(1_000, 5_000, 0);
    let a = s.create(0);
    assert_eq!(a.len(), ID_CHARS);
    assert!(
        a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let b = s.create(0);
    assert_ne!(a, b, "IDs come from the OS and do not repeat");

    // Idle deadline is exact and touching pushes it.
    assert!(s.validate(&a, 999).is_some());
    assert!(s.validate(&a, 1_998).is_some());
    assert!(s.validate(&a, 2_998).is_none());
    assert!(s.validate(&a, 2_999).is_none(), "expired stays dead");

    // Rotation kills the old ID.
    let c = s.create(3_000);
    let c2 = s.rotate(&c, 3_001).expect("live session rotates");
    assert!(s.validate(&c, 3_002).is_none());
    assert!(s.validate(&c2, 3_002).is_some());

    // Logout.
    assert!(s.logout(&c2));
    assert!(!s.logout(&c2));
    assert!(s.validate(&c2, 3_003).is_none());

    // Absolute deadline holds however busy.
    let d = s.create(10_000);
    for t in (10_500..14_999).step_by(500) {
        assert!(s.validate(&d, t).is_some(), "at {t}");
    }
    assert!(s.validate(&d, 15_000).is_none());

    // The sweep removes exactly the expired ones.
    let mut s = NaiveStore::new(60_000, 600_000, 0);
    let keep: Vec<String> = (0..20).map(|_| s.create(0)).collect();
    for _ in 0..7 {
        s.create_with_idle(0, 100);
    }
    assert_eq!(s.len(), 27);
    assert_eq!(s.sweep(99), 0);
    assert_eq!(s.sweep(100), 7);
    assert_eq!(s.len(), 20);
    assert!(keep.iter().all(|k| s.validate(k, 101).is_some()));
}

#[test]
fn every_operation_is_measured_for_both_stores() {
    let mut p = Params::quick();
    p.repeats = 2;
    let mut flush = vec![0u8; p.flush_bytes];
    let mut now = 1_000;
    let (full, mut engine) = measure::run_point(500, true, &p, &mut now, &mut flush, None);
    let (part, _) = measure::run_point(200, false, &p, &mut now, &mut flush, Some(&mut engine));
    assert!(now > 1_000, "the run's clock moves forward");
    // Every ratio is measured, the warm validate at the table point only, and the growth
    // where another point's engine was swept in the same rounds.
    let r = full.ratio;
    for v in [r.create, r.rotate, r.logout].map(|v| v.expect("measured at a table point")) {
        assert!(v.is_finite() && v > 0.0, "{r:?}");
    }
    assert!(r.validate > 0.0 && r.sweep > 0.0, "{r:?}");
    let w = full.warm.expect("warm validate at a table point");
    assert!(
        w.sessile_ns > 0.0 && w.naive_ns > 0.0 && w.ratio > 0.0,
        "{w:?}"
    );
    assert_eq!((part.warm, full.growth), (None, None));
    let g = part
        .growth
        .expect("the other engine was swept in the same rounds");
    assert_eq!(g.small_live, 500);
    assert!(
        g.small_us > 0.0 && g.large_us > 0.0 && g.ratio > 0.0,
        "{g:?}"
    );
    for c in [full.sessile, full.naive] {
        for v in
            [c.create_ns, c.rotate_ns, c.logout_ns].map(|v| v.expect("measured at a table point"))
        {
            assert!(v.is_finite() && v > 0.0, "{c:?}");
        }
        assert!(c.validate_ns > 0.0 && c.sweep_us > 0.0, "{c:?}");
    }
    let paths = full.paths.expect("validate paths at a table point");
    assert!(
        paths.malformed_ns > 0.0 && paths.unknown_ns > 0.0,
        "{paths:?}"
    );
    assert_eq!(part.paths, None);
    for c in [part.sessile, part.naive] {
        assert_eq!((c.create_ns, c.rotate_ns, c.logout_ns), (None, None, None));
        assert!(c.validate_ns > 0.0 && c.sweep_us > 0.0, "{c:?}");
    }
}

#[test]
fn helpers_sample_correctly() {
    assert_eq!(measure::median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(measure::median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    let mut order = Order::new(7);
    let mut perm: Vec<usize> = (0..100).collect();
    let mut picked = measure::distinct(&mut perm, 60, &mut order);
    assert_eq!(picked.len(), 60);
    picked.sort_unstable();
    picked.dedup();
    assert_eq!(picked.len(), 60, "indices are distinct");
    assert!(picked.iter().all(|&i| i < 100));
    let draws: Vec<usize> = (0..10_000).map(|_| order.below(10)).collect();
    for v in 0..10 {
        let n = draws.iter().filter(|&&d| d == v).count();
        assert!(
            (800..1_200).contains(&n),
            "value {v} drawn {n} times of 10,000"
        );
    }
}

#[test]
fn memory_needs_the_counting_allocator() {
    // This test binary keeps the system allocator, so the measurement must refuse.
    assert!(measure::measure_memory(100).is_err());
}

fn costs(validate_ns: f64, sweep_us: f64) -> Costs {
    Costs {
        create_ns: Some(500.0),
        validate_ns,
        rotate_ns: Some(900.0),
        logout_ns: Some(400.0),
        sweep_us,
    }
}

fn ratios(s: &Costs, n: &Costs) -> Ratios {
    let r = |a: Option<f64>, b: Option<f64>| Some(a? / b?);
    Ratios {
        create: r(s.create_ns, n.create_ns),
        validate: s.validate_ns / n.validate_ns,
        rotate: r(s.rotate_ns, n.rotate_ns),
        logout: r(s.logout_ns, n.logout_ns),
        sweep: s.sweep_us / n.sweep_us,
    }
}

fn point(live: usize, sessile: Costs, naive: Costs, paths: ValidatePaths) -> Point {
    Point {
        live,
        sessile,
        naive,
        ratio: ratios(&sessile, &naive),
        paths: Some(paths),
        warm: Some(Warm {
            sessile_ns: sessile.validate_ns,
            naive_ns: naive.validate_ns * 0.6,
            ratio: sessile.validate_ns / (naive.validate_ns * 0.6),
        }),
        growth: None,
    }
}

fn results(validate_large: f64, validate_small: f64, sweep_large: f64, bytes: f64) -> Results {
    let params = Params::quick();
    let [small, large] = params.table_at;
    let mut large_point = point(
        large,
        costs(validate_large, sweep_large),
        costs(200.0, 6_000.0),
        ValidatePaths {
            malformed_ns: 40.0,
            unknown_ns: 250.0,
        },
    );
    large_point.growth = Some(Growth {
        small_live: small,
        small_us: 50.0,
        large_us: sweep_large,
        ratio: sweep_large / 50.0,
    });
    Results {
        points: vec![
            point(
                small,
                costs(validate_small, 50.0),
                costs(80.0, 60.0),
                ValidatePaths {
                    malformed_ns: 20.0,
                    unknown_ns: 90.0,
                },
            ),
            large_point,
        ],
        params,
        memory: Memory {
            live: 1_000,
            sessile_layout: bytes,
            sessile_measured: bytes,
            sessile_fill_allocations: 0,
            naive_measured: 250.0,
        },
        digest: DigestCosts {
            sessile_ns: 30.0,
            hchacha20_ns: 100.0,
            hchacha12_ns: 60.0,
            hchacha8_ns: 45.0,
            siphash_id_ns: 20.0,
        },
        machine: "test".into(),
        date: "2026-01-01".into(),
        seconds: 1.0,
    }
}

#[test]
fn verdicts_follow_the_thresholds() {
    // The thresholds themselves are met (naive: 80 ns small, 200 ns large; sweep 50 µs
    // small): 1.0x, 1.5x, 1.5x, 96 B.
    let met = report::targets(&results(200.0, 120.0, 75.0, 96.0)).unwrap();
    assert_eq!(met.len(), 4);
    assert!(met.iter().all(|t| t.met), "{met:?}");
    let missed = report::targets(&results(201.0, 121.0, 76.0, 97.0)).unwrap();
    assert!(missed.iter().all(|t| !t.met), "{missed:?}");
    let md = report::markdown(&results(210.0, 100.0, 70.0, 90.0)).unwrap();
    assert_eq!(md.matches("**NOT met**").count(), 1, "{md}");
    assert_eq!(md.matches("| met |").count(), 3, "{md}");
    for op in [
        "| create |",
        "| validate |",
        "| rotate |",
        "| logout |",
        "| sweep (50 expired) |",
    ] {
        assert_eq!(md.matches(op).count(), 2, "{op} at both table counts");
    }
    assert!(md.contains("bench-core.png"));
    assert!(
        md.contains("Where they go: the session record (`Slot`) "),
        "{md}"
    );
    // validate taken apart at both table counts, each with its own figures.
    assert!(md.contains("| whole validate | 210 | 100% |"), "{md}");
    assert!(md.contains("| whole validate | 100 | 100% |"), "{md}");
    assert_eq!(md.matches("taken apart through its public API").count(), 2);
    assert_eq!(report::fmt_count(1_000_000), "1,000,000");
    assert_eq!(report::fmt_ns(1_530.0), "1.53 µs");
}

#[test]
fn chart_is_a_png() {
    let r = results(300.0, 100.0, 90.0, 120.0);
    let dir = std::env::temp_dir().join(format!("sessile-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("chart.png");
    chart::draw(&r.points, r.params.expiring, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // Text is drawn: a chart with titles, ticks and a legend is far from a blank image.
    assert!(bytes.len() > 20_000, "{} bytes", bytes.len());
}

#[test]
fn version_follows_the_workspace() {
    let root =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml")).unwrap();
    let section = root
        .split("[workspace.package]")
        .nth(1)
        .expect("workspace.package");
    let line = section
        .lines()
        .find(|l| l.trim_start().starts_with("version"))
        .expect("workspace version");
    let version = line.split('"').nth(1).unwrap();
    assert_eq!(env!("CARGO_PKG_VERSION"), version);
}
