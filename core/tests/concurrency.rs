//! Many threads on one shared engine: no lost payload updates, no crash, consistent counts.

use std::sync::Arc;

use sessile::shared::SharedEngine;
use sessile::{Client, Config, Store};

#[test]
fn threads_keep_their_own_payloads_and_counts_add_up() {
    let engine = Arc::new(
        SharedEngine::with_seed(
            Config {
                capacity: 4_096,
                // 50 logins per user here: no per-user cap.
                max_sessions_per_principal: 0,
                ..Config::default()
            },
            [5; 32],
        )
        .unwrap(),
    );
    let threads = 8;
    let per_thread = 200;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..per_thread {
                    let now = engine.now_ms();
                    let (token, s) = engine.with(|e| e.create(now, &Client::NONE)).unwrap();
                    // Read-modify-write under one lock: no update may be lost.
                    for round in 0..5u32 {
                        engine.with(|e| {
                            let mut buf = [0u8; 64];
                            let n = e.read(s.handle, &mut buf, now).unwrap();
                            let count = if n == 0 {
                                0
                            } else {
                                u32::from_le_bytes(buf[..4].try_into().unwrap())
                            };
                            assert_eq!(count, round);
                            e.write(s.handle, &(count + 1).to_le_bytes(), now).unwrap();
                        });
                    }
                    if i % 4 == 0 {
                        let principal = format!("user-{t}");
                        let (t2, _) = engine
                            .with(|e| e.login(token.as_bytes(), principal.as_bytes(), now))
                            .unwrap();
                        mine.push((t2, s.handle));
                    } else {
                        mine.push((token, s.handle));
                    }
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.join().expect("no thread panicked"));
    }
    let stats = engine.with(|e| e.stats());
    assert_eq!(stats.live as usize, threads * per_thread);
    assert_eq!(stats.anonymous + stats.authenticated, stats.live);
    assert_eq!(stats.authenticated as usize, threads * per_thread / 4);
    for (token, handle) in &all {
        let now = engine.now_ms();
        let s = engine
            .with(|e| e.validate(token.as_bytes(), now, &Client::NONE))
            .unwrap();
        assert_eq!(s.handle, *handle);
        let mut buf = [0u8; 8];
        let n = engine.with(|e| e.read(*handle, &mut buf, now)).unwrap();
        assert_eq!(&buf[..n], &5u32.to_le_bytes());
    }
    for t in 0..threads {
        let now = engine.now_ms();
        let n = engine.with(|e| e.sessions_of(format!("user-{t}").as_bytes(), now).count());
        assert_eq!(n, per_thread / 4);
    }
}
