//! A plan: the writes one operation decided on, the guards under which they were
//! decided (what was read must be unchanged when they land), and the events they
//! raise. `commit.lua` applies it atomically or not at all; the store retries the whole
//! operation (read, decide, write) when a guard failed.

use std::collections::{HashSet, VecDeque};

use sessile::{Event, EventKind};

use crate::record::Record;

pub(crate) enum Guard {
    /// A hash field equals a value ('' when absent).
    Eq(&'static str, Vec<u8>),
    /// A numeric hash field (0 when absent) equals a value.
    Num(&'static str, i64),
    /// A numeric hash field (0 when absent) is at most a value.
    Le(&'static str, i64),
    /// The key does not exist.
    Absent,
}

#[derive(Default)]
pub(crate) struct Plan {
    /// `KEYS` of the script; `keys[0]` is the meta hash.
    keys: Vec<String>,
    guards: Vec<(usize, Guard)>,
    /// Each: name, key index, arguments.
    cmds: Vec<(&'static str, usize, Vec<Vec<u8>>)>,
    pub(crate) events: Vec<Event>,
    /// Sessions this plan ends (so no decision ends one twice).
    pub(crate) ended: HashSet<u64>,
    /// Pool blocks the sessions it ends free.
    pub(crate) freed_blocks: u64,
    /// Anonymous sessions the eviction's CLOCK hand moved to the tail of the list in this
    /// plan (in that order, with their bits as the hand left them), and their ids: the
    /// list as this plan leaves it is the stored one without these, then these.
    pub(crate) hand_tail: VecDeque<Record>,
    pub(crate) hand_moved: HashSet<u64>,
}

impl Plan {
    pub(crate) fn new(meta: String) -> Plan {
        Plan {
            keys: vec![meta],
            ..Plan::default()
        }
    }

    pub(crate) fn has_writes(&self) -> bool {
        !self.cmds.is_empty()
    }

    fn key(&mut self, name: &str) -> usize {
        match self.keys.iter().position(|k| k == name) {
            Some(i) => i,
            None => {
                self.keys.push(name.to_owned());
                self.keys.len() - 1
            }
        }
    }

    pub(crate) fn guard(&mut self, key: &str, g: Guard) {
        let k = self.key(key);
        self.guards.push((k, g));
    }

    pub(crate) fn cmd(&mut self, name: &'static str, key: &str, args: Vec<Vec<u8>>) {
        let k = self.key(key);
        self.cmds.push((name, k, args));
    }

    pub(crate) fn hset(&mut self, key: &str, fields: Vec<(&'static str, Vec<u8>)>) {
        if fields.is_empty() {
            return;
        }
        let mut args = Vec::with_capacity(fields.len() * 2);
        for (f, v) in fields {
            args.push(f.as_bytes().to_vec());
            args.push(v);
        }
        self.cmd("HSET", key, args);
    }

    pub(crate) fn hincr(&mut self, key: &str, field: &'static str, by: i64) {
        if by != 0 {
            self.cmd(
                "HINCRBY",
                key,
                vec![field.into(), by.to_string().into_bytes()],
            );
        }
    }

    pub(crate) fn event(&mut self, kind: EventKind, session: u64, at_ms: u64) {
        self.events.push(Event {
            kind,
            session,
            at_ms,
        });
    }

    /// When the plan is one guarded write of one record (a guard `Eq("x", as read)`, `x`
    /// holding the version, and an HSET of the same key, nothing else): the key and
    /// `write.lua`'s `ARGV` (`x` as read, then the field/value pairs), which does the same
    /// as `commit.lua` would.
    pub(crate) fn versioned_write(&self) -> Option<(&str, Vec<Vec<u8>>)> {
        match (&self.guards[..], &self.cmds[..]) {
            ([(g, Guard::Eq("x", version))], [("HSET", k, fields)]) if g == k => {
                let mut argv = Vec::with_capacity(fields.len() + 1);
                argv.push(version.clone());
                argv.extend(fields.iter().cloned());
                Some((self.keys[*k].as_str(), argv))
            }
            _ => None,
        }
    }

    /// When the versioned write is a save's (the payload and `x`, in that order):
    /// `save.lua`'s `ARGV` (`x` as read, the payload, the new `x`).
    pub(crate) fn save_write(&self) -> Option<(&str, Vec<Vec<u8>>)> {
        let (key, mut argv) = self.versioned_write()?;
        if argv.len() != 5 || argv[1] != b"d" || argv[3] != b"x" {
            return None;
        }
        let extra = argv.swap_remove(4);
        let data = argv.swap_remove(2);
        let read = argv.swap_remove(0);
        Some((key, vec![read, data, extra]))
    }

    /// The script's `KEYS` and `ARGV`.
    pub(crate) fn encode(&self) -> (&[String], Vec<Vec<u8>>) {
        let mut argv: Vec<Vec<u8>> = vec![self.guards.len().to_string().into_bytes()];
        for (k, g) in &self.guards {
            argv.push((k + 1).to_string().into_bytes());
            let (kind, field, value): (&str, &str, Vec<u8>) = match g {
                Guard::Eq(f, v) => ("eq", f, v.clone()),
                Guard::Num(f, v) => ("num", f, v.to_string().into_bytes()),
                Guard::Le(f, v) => ("le", f, v.to_string().into_bytes()),
                Guard::Absent => ("absent", "", Vec::new()),
            };
            argv.push(kind.into());
            argv.push(field.into());
            argv.push(value);
        }
        for (name, k, args) in &self.cmds {
            argv.push((args.len() + 2).to_string().into_bytes());
            argv.push(name.as_bytes().to_vec());
            argv.push((k + 1).to_string().into_bytes());
            argv.extend(args.iter().cloned());
        }
        (&self.keys, argv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save_plan() -> Plan {
        let mut p = Plan::new("{p}:m".into());
        p.guard("{p}:s:1", Guard::Eq("x", b"x7".to_vec()));
        p.hset(
            "{p}:s:1",
            vec![("d", b"{}".to_vec()), ("x", b"x8".to_vec())],
        );
        p
    }

    #[test]
    fn only_one_guarded_hset_of_one_key_is_a_versioned_write() {
        let plan = save_plan();
        let (key, argv) = plan.versioned_write().expect("a save's plan");
        assert_eq!(key, "{p}:s:1");
        let want: Vec<&[u8]> = vec![b"x7", b"d", b"{}", b"x", b"x8"];
        assert_eq!(argv, want);
        let (key, argv) = plan.save_write().expect("a save");
        assert_eq!(key, "{p}:s:1");
        let want: Vec<&[u8]> = vec![b"x7", b"{}", b"x8"];
        assert_eq!(argv, want);
        // Other fields, or the same in another order, are a versioned write, not a save.
        let mut rotate = Plan::new("{p}:m".into());
        rotate.guard("{p}:s:1", Guard::Eq("x", b"x7".to_vec()));
        rotate.hset(
            "{p}:s:1",
            vec![("t", b"ab".to_vec()), ("x", b"x8".to_vec())],
        );
        assert!(rotate.versioned_write().is_some() && rotate.save_write().is_none());
        let mut swapped = Plan::new("{p}:m".into());
        swapped.guard("{p}:s:1", Guard::Eq("x", b"x7".to_vec()));
        swapped.hset(
            "{p}:s:1",
            vec![("x", b"x8".to_vec()), ("d", b"{}".to_vec())],
        );
        assert!(swapped.save_write().is_none());

        // Anything more, or a guard on anything else, goes through commit.lua.
        let mut more = save_plan();
        more.hincr("{p}:m", "blocks", 1);
        assert!(more.versioned_write().is_none() && more.save_write().is_none());
        let mut guarded = save_plan();
        guarded.guard("{p}:m", Guard::Le("blocks", 9));
        assert!(guarded.versioned_write().is_none());
        let mut other_key = Plan::new("{p}:m".into());
        other_key.guard("{p}:s:1", Guard::Eq("x", b"x7".to_vec()));
        other_key.hset("{p}:s:2", vec![("d", b"x".to_vec())]);
        assert!(other_key.versioned_write().is_none());
        let mut other_field = Plan::new("{p}:m".into());
        other_field.guard("{p}:s:1", Guard::Eq("ls", b"7".to_vec()));
        other_field.hset("{p}:s:1", vec![("d", b"x".to_vec())]);
        assert!(other_field.versioned_write().is_none());
        let mut absent = Plan::new("{p}:m".into());
        absent.guard("{p}:s:1", Guard::Absent);
        absent.hset("{p}:s:1", vec![("d", b"x".to_vec())]);
        assert!(absent.versioned_write().is_none());
    }
}
