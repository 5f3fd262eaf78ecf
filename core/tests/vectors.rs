//! Runs every conformance vector file in `tests/vectors/` (format: tests/vectors/README.md)
//! through the in-process engine. The runner (`support/vectors.rs`) is generic over the
//! store seam, so every other store runs the same files; the bindings run them through
//! their own APIs.

#[path = "support/vectors.rs"]
mod vectors;

use sessile::{Config, Engine, Error, HeapStorage};

fn engine(config: Config, seed: [u8; 32]) -> Result<Engine<HeapStorage>, Error> {
    Engine::new(config, seed)
}

#[test]
fn config_defaults_profiles_and_validation() {
    vectors::config_file(&mut engine);
}

#[test]
fn cookie_vectors() {
    vectors::cookie_file();
}

#[test]
fn token_vectors() {
    vectors::token_file(&mut engine);
}

#[test]
fn script_vectors() {
    vectors::script_file(&mut engine, &[]);
}

#[test]
fn every_vector_file_is_run() {
    vectors::every_file_is_run();
}
