//! Model-based test of the in-process engine: random operation sequences against the
//! engine and a plain reference model (`support/model.rs`, shared with every other
//! store's tests), comparing every outcome, snapshot, event and stat.

#[path = "support/model.rs"]
mod model;

use model::{Run, config, op, step};
use proptest::prelude::*;
use sessile::{Engine, HeapStorage};

proptest! {
    // 256 cases by default; PROPTEST_CASES=5000 for a longer hunt.
    #[test]
    fn engine_matches_the_model(
        cfg in config(),
        ops in prop::collection::vec((op(), step()), 1..200),
    ) {
        // One fixed seed: client digests are keyed by it, and the addresses used here are
        // known not to collide under it, so the model can compare addresses by value.
        let engine = Engine::new(cfg.clone(), [0x6d; 32]).unwrap();
        Run::new(engine, Engine::<HeapStorage>::now, cfg).run(&ops);
    }
}
