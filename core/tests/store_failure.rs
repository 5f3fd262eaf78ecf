//! A store that cannot answer (Redis down) through the request seam: every failure is
//! a typed `Error::Store`, never a session taken as valid, never a logout that did not
//! happen reported as done. The store here is the in-process engine behind a switch
//! that makes every call fail, as a store outside the process would.

use sessile::{
    Client, Config, Engine, Error, Event, HeapStorage, Invalid, Request, Saved, Session,
    SessionRef, Stats, Store, StoreError, Token,
};

const NONE: &Client<'static> = &Client::NONE;
const DOWN: Error = Error::Store(StoreError::Unavailable);

struct Flaky {
    engine: Engine<HeapStorage>,
    down: bool,
}

impl Flaky {
    fn up(&self) -> Result<(), Error> {
        if self.down { Err(DOWN) } else { Ok(()) }
    }
}

impl Store for Flaky {
    type Payload<'a> = sessile::Chunks<'a>;
    type SessionsOf<'a> = sessile::SessionsOf<'a>;

    fn config(&self) -> &Config {
        self.engine.config()
    }
    fn create(&mut self, now: u64, client: &Client<'_>) -> Result<(Token, Session), Error> {
        self.up()?;
        self.engine.create(now, client)
    }
    fn validate(&mut self, t: &[u8], now: u64, c: &Client<'_>) -> Result<Session, Error> {
        self.up()?;
        Store::validate(&mut self.engine, t, now, c)
    }
    fn peek(&mut self, t: &[u8], now: u64) -> Result<Session, Error> {
        self.up()?;
        Store::peek(&mut self.engine, t, now)
    }
    fn end_duplicate(&mut self, t: &[u8], now: u64) -> Result<(), Error> {
        self.up()?;
        self.engine.end_duplicate(t, now)
    }
    fn login(&mut self, t: &[u8], p: &[u8], now: u64) -> Result<(Token, Session), Error> {
        self.up()?;
        self.engine.login(t, p, now)
    }
    fn rotate(&mut self, t: &[u8], now: u64) -> Result<(Token, Session), Error> {
        self.up()?;
        self.engine.rotate(t, now)
    }
    fn logout(&mut self, t: &[u8], now: u64) -> Result<(), Error> {
        self.up()?;
        self.engine.logout(t, now)
    }
    fn revoke(&mut self, h: SessionRef, now: u64) -> Result<(), Error> {
        self.up()?;
        self.engine.revoke(h, now)
    }
    fn revoke_principal(&mut self, p: &[u8], now: u64) -> Result<usize, Error> {
        self.up()?;
        Store::revoke_principal(&mut self.engine, p, now)
    }
    fn revoke_all(&mut self, now: u64) -> Result<usize, Error> {
        self.up()?;
        Store::revoke_all(&mut self.engine, now)
    }
    fn sessions_of(&mut self, p: &[u8], now: u64) -> Result<Self::SessionsOf<'_>, Error> {
        self.up()?;
        Store::sessions_of(&mut self.engine, p, now)
    }
    fn session(&mut self, h: SessionRef, now: u64) -> Result<Session, Error> {
        self.up()?;
        self.engine.session(h, now)
    }
    fn set_timeouts(
        &mut self,
        h: SessionRef,
        idle: Option<u32>,
        absolute: Option<u32>,
        now: u64,
    ) -> Result<Session, Error> {
        self.up()?;
        self.engine.set_timeouts(h, idle, absolute, now)
    }
    fn write(&mut self, h: SessionRef, data: &[u8], now: u64) -> Result<(), Error> {
        self.up()?;
        self.engine.write(h, data, now)
    }
    fn payload(&mut self, h: SessionRef, now: u64) -> Result<Self::Payload<'_>, Error> {
        self.up()?;
        self.engine.payload(h, now)
    }
    fn save(&mut self, h: SessionRef, epoch: u32, d: &[u8], now: u64) -> Result<Saved, Error> {
        self.up()?;
        self.engine.save(h, epoch, d, now)
    }
    fn sweep(&mut self, now: u64) -> Result<usize, Error> {
        self.up()?;
        Store::sweep(&mut self.engine, now)
    }
    fn pop_event(&mut self) -> Option<Event> {
        self.engine.pop_event()
    }
    fn stats(&self) -> Stats {
        self.engine.stats()
    }
}

fn flaky() -> Flaky {
    let config = Config {
        capacity: 8,
        ..Config::default()
    };
    Flaky {
        engine: Engine::new(config, [5; 32]).unwrap(),
        down: false,
    }
}

fn header(t: &Token) -> String {
    format!("__Host-sid={}", t.as_str())
}

#[test]
fn a_request_begun_while_the_store_is_down_holds_no_session_and_says_why() {
    let mut s = flaky();
    let (t, _) = s.create(0, NONE).unwrap();
    s.down = true;
    let h = header(&t);
    let mut r = Request::begin(&mut s, Some(h.as_bytes()), 1, NONE);
    assert!(
        r.session().is_none(),
        "never a session the store could not check"
    );
    assert_eq!(r.store_error(), Some(DOWN));
    // The response is an error, not a new session for a user who may have one.
    assert_eq!(r.finish(&mut s, Some(b"{}"), None, 2, NONE), Err(DOWN));
    s.down = false;
    assert_eq!(s.stats().live, 1, "nothing was created meanwhile");
    let r = Request::begin_with_token(&mut s, Some(t.as_bytes()), 3, NONE);
    assert!(
        r.session().is_some() && r.store_error().is_none(),
        "recovered"
    );
}

#[test]
fn a_cookie_a_client_spoils_is_no_store_failure() {
    let mut s = flaky();
    let r = Request::begin(&mut s, Some(b"__Host-sid=nonsense"), 1, NONE);
    assert!(r.session().is_none());
    assert_eq!(r.store_error(), None);
}

#[test]
fn a_logout_the_store_could_not_do_is_not_reported_done() {
    let mut s = flaky();
    let (t, _) = s.create(0, NONE).unwrap();
    let h = header(&t);
    let mut r = Request::begin(&mut s, Some(h.as_bytes()), 1, NONE);
    assert!(r.session().is_some());
    s.down = true;
    r.clear();
    // Clearing the cookie now would tell the user they are logged out while the
    // session lives on server-side: the request fails instead.
    assert_eq!(r.finish(&mut s, Some(b""), None, 2, NONE), Err(DOWN));
    s.down = false;
    assert!(Store::validate(&mut s, t.as_bytes(), 3, NONE).is_ok());
}

#[test]
fn a_login_the_store_could_not_do_starts_no_fresh_session() {
    let mut s = flaky();
    let (t, _) = s.create(0, NONE).unwrap();
    let h = header(&t);
    let mut r = Request::begin(&mut s, Some(h.as_bytes()), 1, NONE);
    s.down = true;
    assert_eq!(r.login(&mut s, b"alice", 2, NONE), Err(DOWN));
    s.down = false;
    assert_eq!(s.stats().live, 1);
    assert_eq!(s.stats().authenticated, 0);
}

#[test]
fn the_duplicate_cookie_rule_never_chooses_without_the_store() {
    let mut s = flaky();
    let (a, _) = s.create(0, NONE).unwrap();
    let (b, _) = s.create(0, NONE).unwrap();
    s.down = true;
    let got = s.validate_any([a.as_bytes(), b.as_bytes()], 1, NONE);
    assert_eq!(got.err(), Some(DOWN));
    s.down = false;
    // Neither copy was ended as a duplicate while the store could not be asked.
    assert_eq!(s.stats().live, 2);
    let none: [&[u8]; 0] = [];
    assert_eq!(
        s.validate_any(none, 2, NONE).err(),
        Some(Error::Session(Invalid::Unknown))
    );
}
