//! docs/CONFIG.md is the config vocabulary ([`sessile::vocabulary::KEYS`]) rendered: this
//! test fails when they differ. `SESSILE_WRITE_CONFIG_DOC=1 cargo test -p sessile --test
//! config_doc` rewrites the file.
//!
//! The document describes the default build: a `narrow` build's limits (capacity,
//! tombstones, events, pool_bytes) are lower, so it skips this test.
#![cfg(not(feature = "narrow"))]

use std::fmt::Write;
use std::path::PathBuf;

use sessile::Config;
use sessile::vocabulary::{KEYS, Kind, Value};

fn render() -> String {
    let d = Config::default();
    let mut out = String::from(
        "# Configuration\n\n\
         Every option of an engine, by its name in the core's config vocabulary\n\
         (`core/src/vocabulary.rs`; this page is generated from it by\n\
         `core/tests/config_doc.rs`). Every binding takes these names:\n\n\
         - Python: keyword arguments of `sessile.Engine(...)`; a `*_ms` key drops the\n  \
         suffix and takes seconds (`idle_timeout=1800`).\n\
         - Node: `new Engine({...})` in camelCase (`idleTimeoutMs: 1800000`).\n\
         - C: `sessile_config_set(&config, \"idle_timeout_ms\", \"1800000\")`, or the field of\n  \
         the same name of `sessile_config`.\n\n\
         `profile` applies first, whatever its place. A maximum timeout not given is raised\n\
         to its default timeout when that is longer. An error names the key.\n\n\
         | key | takes | default | what it does |\n|---|---|---|---|\n",
    );
    for k in KEYS {
        let takes = match k.kind {
            Kind::Count { min, max } => format!("{min} to {max}"),
            Kind::Millis { min, max } => format!("{min} to {max} ms"),
            Kind::Flag => "true, false".to_owned(),
            Kind::Choice(o) => o
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            Kind::Text { max, optional } => {
                format!(
                    "text, at most {max} bytes{}",
                    if optional { "; or unset" } else { "" }
                )
            }
        };
        let default = match d.get(k.name) {
            Some(Value::Int(n)) => n.to_string(),
            Some(Value::Flag(b)) => b.to_string(),
            Some(Value::Text(t)) => format!("`{t}`"),
            Some(Value::Unset) | None => "unset".to_owned(),
        };
        writeln!(out, "| `{}` | {takes} | {default} | {} |", k.name, k.doc).unwrap();
    }
    out
}

#[test]
fn docs_config_md_is_the_vocabulary() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/CONFIG.md");
    let want = render();
    if std::env::var_os("SESSILE_WRITE_CONFIG_DOC").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "docs/CONFIG.md differs from the vocabulary: run \
         SESSILE_WRITE_CONFIG_DOC=1 cargo test -p sessile --test config_doc"
    );
}
