//! The model-based test (core/tests/support/model.rs, the same as the in-process
//! engine's) against the Redis store: random operation sequences compared, operation by
//! operation, with a plain reference model: every outcome, snapshot, event and counter.

#[path = "../../../core/tests/support/model.rs"]
mod model;
mod support;

use model::{Run, config, op, step};
use proptest::prelude::*;
use sessile_redis::RedisStore;

proptest! {
    // 256 cases by default (make test pins the seed); PROPTEST_CASES for a longer hunt.
    #[test]
    fn redis_store_matches_the_model(
        cfg in config(),
        ops in prop::collection::vec((op(), step()), 1..200),
    ) {
        // The server is shared by every case; each case has a prefix of its own. The
        // deployment key is fixed: the model compares client addresses by value, and
        // the ones it uses do not collide under it.
        let (url, _server) = support::server();
        let store = support::store(&url, "model", cfg.clone());
        Run::new(store, RedisStore::now, cfg).run(&ops);
    }
}
