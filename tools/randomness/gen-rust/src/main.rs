//! `sessile-randomness N`: print N session tokens (0 = until stdout closes), base64url,
//! one per line, drawn the way every binding draws them: `SharedEngine::new` (seeded from
//! the OS) and `create`. The table is kept small, so most creates evict the oldest
//! anonymous session: the generator runs in constant memory for any N.
use std::io::{BufWriter, Write};

use sessile::shared::SharedEngine;
use sessile::{Client, Config};

fn main() {
    let n: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: sessile-randomness N   (N tokens; 0 = endless)");
            std::process::exit(2);
        }
    };
    let config = Config {
        capacity: 1024,
        ..Config::default()
    };
    let engine = match SharedEngine::new(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sessile-randomness: {e}");
            std::process::exit(1);
        }
    };
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut i = 0u64;
    while n == 0 || i < n {
        let now = engine.now_ms();
        let token = match engine.with(|e| e.create(now, &Client::NONE)) {
            Ok((t, _)) => t,
            Err(e) => {
                eprintln!("sessile-randomness: create: {e}");
                std::process::exit(1);
            }
        };
        if writeln!(out, "{}", token.as_str()).is_err() {
            return; // the reader closed the pipe: done
        }
        i += 1;
    }
    if out.flush().is_err() {
        std::process::exit(1);
    }
}
