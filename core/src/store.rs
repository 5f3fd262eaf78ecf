//! The store seam: what a session store does, and the request seam every binding calls,
//! written once over it.
//!
//! A store keeps session records and applies [`crate::rules`] to them; the in-process
//! table ([`crate::Engine`]) is one store, and a store elsewhere (Redis, Valkey)
//! implements the same trait with the same rules. The request seam (load a request's
//! session, save it, the cookie texts, the duplicate-cookie rule) is provided here on
//! top of the required calls, so it is the same for every store. The conformance
//! vectors and the model-based test run through this trait.
//!
//! ```
//! use sessile::{Client, Config, Engine, Store};
//!
//! // Any store: the in-process table here.
//! fn visit(store: &mut impl Store, header: &[u8], now: u64) -> Option<u32> {
//!     let loaded = store.load_cookie(header, now, &Client::NONE).ok()??;
//!     Some(loaded.session.payload_len)
//! }
//! let mut engine = Engine::from_os(Config::default()).unwrap();
//! let (token, s) = engine.create(0, &Client::NONE).unwrap();
//! engine.write(s.handle, b"{}", 0).unwrap();
//! let header = format!("__Host-sid={}", token.as_str());
//! assert_eq!(visit(&mut engine, header.as_bytes(), 1), Some(2));
//! ```

use crate::config::Config;
use crate::cookie::{self, CookieError, MAX_SET_COOKIE};
use crate::engine::{Client, Loaded, Saved, Session, SessionRef, Stats};
use crate::error::{Error, Invalid};
use crate::event::Event;
use crate::rules;
use crate::token::Token;

/// A session store: records, and the rules applied to them. Every call takes `now`
/// (milliseconds: monotonic for the in-process table, wall-clock Unix time for a store
/// that processes on several hosts share); a store never reads a clock.
///
/// Every call can fail with [`Error::Store`] when the records live outside this process
/// and that store cannot answer; such a failure never makes a token valid and writes
/// nothing. The in-process table never gives it, and its own methods of the same names
/// ([`crate::Engine::validate`], ...) keep the narrower types it can give.
pub trait Store {
    /// A session's payload, chunk by chunk.
    type Payload<'a>: Iterator<Item = &'a [u8]>
    where
        Self: 'a;
    /// A principal's live sessions.
    type SessionsOf<'a>: Iterator<Item = Session>
    where
        Self: 'a;

    /// The store's configuration.
    fn config(&self) -> &Config;

    /// Start a new anonymous session.
    ///
    /// When the table is full: expired sessions are reclaimed first, then the least
    /// recently used anonymous session is evicted; authenticated sessions are never
    /// evicted for it ([`rules::evictable_for_new_session`]). Otherwise
    /// `CapacityExhausted`.
    fn create(&mut self, now: u64, client: &Client<'_>) -> Result<(Token, Session), Error>;

    /// Look a token up and, if it names a live session, mark it used (idle timer
    /// restarts). Deadlines are checked exactly, at millisecond resolution, on every call.
    /// Why a token names no live session is `Error::Session(..)`.
    fn validate(&mut self, token: &[u8], now: u64, client: &Client<'_>) -> Result<Session, Error>;

    /// The live session `token` names at `now`, without touching it: no idle timer
    /// restart, no event, no client check, nothing ended. For listings and
    /// administration (a page of sessions must not keep abandoned ones alive). A dead
    /// token gives what validation would (`LoggedOut`, `Expired(..)`, ...).
    fn peek(&mut self, token: &[u8], now: u64) -> Result<Session, Error>;

    /// Whether `token` names a live session at `now`, touching nothing: [`Store::peek`]
    /// without the session's values, for the duplicate-cookie rule
    /// ([`Store::validate_any`]). Only a store failure is an error. A store that can
    /// answer without building the session does (the in-process table does).
    fn is_live(&mut self, token: &[u8], now: u64) -> Result<bool, Error> {
        match self.peek(token, now) {
            Ok(_) => Ok(true),
            Err(e) if e.is_store() => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// End the live session `token` names because a request carried it beside another
    /// live one (event [`crate::EventKind::DuplicateCookie`], ended as revoked). A
    /// token that names no live session is left alone. Used by
    /// [`Store::validate_any`].
    fn end_duplicate(&mut self, token: &[u8], now: u64) -> Result<(), Error>;

    /// Bind the session to `principal` and rotate its token (the old one dies:
    /// anti-fixation). Payload is kept. The absolute timer restarts at login. The
    /// per-principal cap applies ([`rules::login_room`]).
    fn login(
        &mut self,
        token: &[u8],
        principal: &[u8],
        now: u64,
    ) -> Result<(Token, Session), Error>;

    /// Give the session a new token; the old one dies and its reuse is reported.
    fn rotate(&mut self, token: &[u8], now: u64) -> Result<(Token, Session), Error>;

    /// End the session server-side. Its token is remembered so later reuse is reported.
    fn logout(&mut self, token: &[u8], now: u64) -> Result<(), Error>;

    /// End one session by handle (e.g. from a "your sessions" page). A session already
    /// past its deadline (not yet swept) ends as expired and gives that error.
    fn revoke(&mut self, handle: SessionRef, now: u64) -> Result<(), Error>;

    /// End every session of `principal` ("log out everywhere"); returns how many were
    /// live. One past its deadline but not yet swept ends as expired, as a validation
    /// would find it, and is not counted. A principal no login would accept (empty, too
    /// long) has no sessions: 0.
    fn revoke_principal(&mut self, principal: &[u8], now: u64) -> Result<usize, Error>;

    /// End every live session (an administrator's "log everyone out"); returns how
    /// many. Sessions past their deadline but not yet swept end as expired and are not
    /// counted.
    fn revoke_all(&mut self, now: u64) -> Result<usize, Error>;

    /// The live sessions of `principal` at `now` (ASVS: let users see their sessions).
    /// Sessions past their deadline are left out, swept or not.
    fn sessions_of(&mut self, principal: &[u8], now: u64) -> Result<Self::SessionsOf<'_>, Error>;

    /// A snapshot of the session behind `handle` at `now`. A session past its deadline
    /// ends as expired and gives that error; so do [`Store::payload`] and
    /// [`Store::read`].
    fn session(&mut self, handle: SessionRef, now: u64) -> Result<Session, Error>;

    /// Override one session's timeouts (each within the configured maximum,
    /// [`rules::timeout_allowed`]).
    fn set_timeouts(
        &mut self,
        handle: SessionRef,
        idle_ms: Option<u32>,
        absolute_ms: Option<u32>,
        now: u64,
    ) -> Result<Session, Error>;

    /// Replace the session's payload. A payload that does not fit fails and the old one
    /// stays. A session past its deadline (not yet swept) ends as expired and gives that
    /// error.
    fn write(&mut self, handle: SessionRef, data: &[u8], now: u64) -> Result<(), Error>;

    /// The payload, chunk by chunk.
    fn payload(&mut self, handle: SessionRef, now: u64) -> Result<Self::Payload<'_>, Error>;

    /// The request seam's *save*: store `data` as the payload of the session a request
    /// loaded (its handle and epoch), at the end of that request. Writes only when the
    /// bytes differ from what is stored. Never lands on a session that ended since it
    /// was loaded (logged out, revoked, expired, evicted) or whose token changed since
    /// (login or rotation in another request): those give [`Saved::Dropped`] and change
    /// nothing ([`rules::save`]). Every store also moves the epoch at every payload
    /// write, so a save prepared before another request's write is dropped too (no lost
    /// update: the caller reloads and redoes its change, or accepts the other's). A
    /// payload over the cap or with no room is an error and the stored one stays.
    fn save(
        &mut self,
        handle: SessionRef,
        epoch: u32,
        data: &[u8],
        now: u64,
    ) -> Result<Saved, Error>;

    /// Reclaim every session whose deadline has passed; returns how many.
    fn sweep(&mut self, now: u64) -> Result<usize, Error>;

    /// The oldest undrained event.
    fn pop_event(&mut self) -> Option<Event>;

    /// Counters.
    fn stats(&self) -> Stats;

    // ------------------------------------------------ the request seam, for every store

    /// Validate a request that carries the session cookie once or several times (the
    /// duplicate rule, in one place for every binding and every store). A browser sends
    /// several cookies of one name when they differ in domain or path, so an attacker
    /// on a sibling subdomain can plant one beside the user's ("cookie tossing"). Of the
    /// distinct `tokens`:
    ///
    /// - one that names a live session (checked without touching it) is the one
    ///   validated, so a planted dead or foreign cookie cannot lock the user out;
    /// - if none does, the first is validated, giving its error (and reuse events);
    /// - if several do, it is ambiguous which is the user's: each of those sessions is
    ///   ended ([`Store::end_duplicate`]) and the answer is [`CookieError::Duplicate`].
    ///   The next request then starts clean instead of being refused for as long as
    ///   the planted session lives.
    ///
    /// An empty `tokens` is [`Invalid::Unknown`]. A store failure on any copy is that
    /// failure (never a choice made without it).
    fn validate_any<'t, I>(
        &mut self,
        tokens: I,
        now: u64,
        client: &Client<'_>,
    ) -> Result<(&'t [u8], Session), Error>
    where
        I: IntoIterator<Item = &'t [u8]>,
        I::IntoIter: Clone,
        Self: Sized,
    {
        let tokens = tokens.into_iter();
        let Some(first) = tokens.clone().next() else {
            return Err(Error::Session(Invalid::Unknown));
        };
        // One distinct copy (nearly every request): nothing to choose between, so no
        // peek first (over a shared store that would be one more round trip).
        if tokens.clone().all(|t| t == first) {
            return Ok((first, self.validate(first, now, client)?));
        }
        validate_distinct(self, tokens, first, now, client)
    }

    /// Find and validate the session cookie of a request's `Cookie` header (the
    /// configured cookie name): `Ok(None)` when the header does not carry it, else as
    /// [`Store::validate_any`] over every copy of it. Returns the token that was used.
    fn validate_cookie<'h>(
        &mut self,
        header: &'h [u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<Option<(&'h [u8], Session)>, Error>
    where
        Self: Sized,
    {
        // One walk of the header finds the first copy and whether any other differs; one
        // distinct copy (nearly every request) is validated as `validate_any` would,
        // without walking the header again nor copying the cookie's name.
        let (first, single) = {
            let mut values = cookie::cookie_values(header, self.config().cookie.name.as_str())?;
            let Some(first) = values.next() else {
                return Ok(None);
            };
            (first, values.all(|t| t == first))
        };
        if single {
            return Ok(Some((first, self.validate(first, now, client)?)));
        }
        let name = self.config().cookie.name.clone();
        let values = cookie::cookie_values(header, name.as_str())?;
        validate_distinct(self, values, first, now, client).map(Some)
    }

    /// The request seam's *load*: find the session a request's `Cookie` header names
    /// (the duplicate-cookie rule of [`Store::validate_cookie`] applies), check its
    /// deadlines and client, restart its idle timer, and hand out its payload.
    /// `Ok(None)` when the header carries no session cookie; an error says why the
    /// cookie it carries names no live session (the caller serves the request without
    /// one: nothing a client sends makes this fail in any other way).
    ///
    /// ```
    /// use sessile::{Client, Config, Engine, Saved, Store};
    /// let mut engine = Engine::from_os(Config::default()).unwrap();
    /// let (token, session) = engine.create(0, &Client::NONE).unwrap();
    /// engine.write(session.handle, b"{}", 0).unwrap();
    /// let header = format!("__Host-sid={}", token.as_str());
    /// let loaded = engine.load_cookie(header.as_bytes(), 5, &Client::NONE).unwrap().unwrap();
    /// assert_eq!(loaded.payload.copy_into(&mut [0; 8]), Some(&b"{}"[..]));
    /// let (handle, epoch) = (loaded.session.handle, loaded.session.epoch);
    /// assert_eq!(engine.save(handle, epoch, b"{}", 6), Ok(Saved::Unchanged));
    /// assert_eq!(engine.save(handle, epoch, b"{\"n\":1}", 6), Ok(Saved::Written));
    /// ```
    fn load_cookie<'h>(
        &mut self,
        header: &'h [u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<Option<Loaded<'h, Self::Payload<'_>>>, Error>
    where
        Self: Sized,
    {
        let Some((token, session)) = self.validate_cookie(header, now, client)? else {
            return Ok(None);
        };
        let payload = self.payload(session.handle, now)?;
        Ok(Some(Loaded {
            token,
            session,
            payload,
        }))
    }

    /// [`Store::load_cookie`] for a token the caller took from elsewhere (a header of
    /// its own, a signed cookie it unwrapped).
    fn load<'t>(
        &mut self,
        token: &'t [u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<Loaded<'t, Self::Payload<'_>>, Error> {
        let session = self.validate(token, now, client)?;
        let payload = self.payload(session.handle, now)?;
        Ok(Loaded {
            token,
            session,
            payload,
        })
    }

    /// Copy the payload into `out`; returns its length (`BufferTooSmall` when it does
    /// not fit, and `out` is left as it was).
    fn read(&mut self, handle: SessionRef, out: &mut [u8], now: u64) -> Result<usize, Error> {
        let len = self.session(handle, now)?.payload_len as usize;
        if len > out.len() {
            return Err(Error::BufferTooSmall);
        }
        let mut at = 0;
        for c in self.payload(handle, now)? {
            out[at..at + c.len()].copy_from_slice(c);
            at += c.len();
        }
        Ok(at)
    }

    /// Drain every pending event, oldest first.
    fn drain_events(&mut self) -> impl Iterator<Item = Event> + '_
    where
        Self: Sized,
    {
        core::iter::from_fn(move || self.pop_event())
    }

    /// The `Set-Cookie` value carrying `token` for the session behind `handle`, living
    /// until its absolute deadline as seen at `now` (`Max-Age`, [`rules::max_age_s`]):
    /// the one place a session cookie's text is made. A session that has ended (or is
    /// past its deadline) gives that error; a `token` that is not cookie-safe text is
    /// `Session(Malformed)`.
    fn set_cookie(
        &mut self,
        token: &str,
        handle: SessionRef,
        now: u64,
    ) -> Result<heapless::String<MAX_SET_COOKIE>, Error> {
        let persistent = self.config().cookie.persistent;
        self.set_cookie_as(token, handle, now, persistent)
    }

    /// [`Store::set_cookie`] with `persistent` chosen for this cookie alone (a
    /// framework's per-session choice, such as Flask's `session.permanent`): `false`
    /// gives a browser-session cookie, without `Max-Age`.
    fn set_cookie_as(
        &mut self,
        token: &str,
        handle: SessionRef,
        now: u64,
        persistent: bool,
    ) -> Result<heapless::String<MAX_SET_COOKIE>, Error> {
        let s = self.session(handle, now)?;
        // The store's clock may be ahead of `now` (it never runs backwards).
        let now = now.max(s.last_seen_ms);
        let max_age = Some(rules::max_age_until(s.absolute_deadline_ms, now));
        self.config()
            .cookie
            .set_cookie_as(token, max_age, persistent)
            .ok_or(Error::Session(Invalid::Malformed))
    }

    /// The `Set-Cookie` value that deletes the session cookie (after logout).
    fn clear_cookie(&self) -> Option<heapless::String<MAX_SET_COOKIE>> {
        self.config().cookie.clear_cookie()
    }
}

/// [`Store::validate_any`] over `tokens` (whose first is `first`) once they are known to
/// hold more than one distinct token: the one live among them, or the first when none
/// is; with two or more live, every one ends as a duplicate. One copy for both callers
/// (`validate_cookie` knows that already from its own walk of the header).
fn validate_distinct<'t, S: Store, I: Iterator<Item = &'t [u8]> + Clone>(
    store: &mut S,
    tokens: I,
    first: &'t [u8],
    now: u64,
    client: &Client<'_>,
) -> Result<(&'t [u8], Session), Error> {
    let (mut first_live, mut live) = (None, 0);
    for (i, t) in tokens.clone().enumerate() {
        if repeats(tokens.clone(), i, t) {
            continue;
        }
        if store.is_live(t, now)? {
            first_live = first_live.or(Some(t));
            live += 1;
        }
    }
    let chosen = match (first_live, live) {
        (Some(t), 1) => t,
        (None, _) => first,
        (Some(_), _) => {
            for (i, t) in tokens.clone().enumerate() {
                if !repeats(tokens.clone(), i, t) {
                    store.end_duplicate(t, now)?;
                }
            }
            return Err(Error::Cookie(CookieError::Duplicate));
        }
    };
    let session = store.validate(chosen, now, client)?;
    Ok((chosen, session))
}

/// Whether `t`, the copy at `i` of `tokens`, repeats an earlier one ([`Store::validate_any`]
/// considers each distinct token once).
fn repeats<'t>(tokens: impl Iterator<Item = &'t [u8]>, i: usize, t: &[u8]) -> bool {
    tokens.take(i).any(|u| u == t)
}
