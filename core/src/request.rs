//! One request's session, from its `Cookie` header to its response's `Set-Cookie`: the
//! lifecycle every framework glue drives, written once.
//!
//! A glue maps its framework's words onto these calls: Flask's `open_session` and
//! Starlette's middleware entry are [`Request::begin`], `session.clear()` is
//! [`Request::clear`], a login helper is [`Request::login`], `save_session` or the
//! response hook is [`Request::finish`]. The rules of the lifecycle (when a session is
//! started, when emptying it logs out, when a cookie is sent or cleared, that a save
//! never lands on a session that ended meanwhile) live here and in [`crate::rules`].
//!
//! ```
//! use sessile::{Client, Config, Engine, Request, Store};
//! let mut engine = Engine::from_os(Config::default()).unwrap();
//! let none = &Client::NONE;
//!
//! // First request: no cookie; the app stores something, so a session starts.
//! let mut r = Request::begin(&mut engine, None, 0, none);
//! assert!(r.token().is_none());
//! let cookie = r.finish(&mut engine, Some(br#"{"cart":[1]}"#), None, 1, none).unwrap().unwrap();
//! let token = r.token().unwrap().to_owned();
//! assert!(cookie.starts_with(&format!("__Host-sid={token};")));
//!
//! // Second request: the cookie comes back; the app logs the user in.
//! let header = format!("__Host-sid={token}");
//! let mut r = Request::begin(&mut engine, Some(header.as_bytes()), 2, none);
//! assert_eq!(r.session().unwrap().payload_len, 12);
//! r.login(&mut engine, b"alice", 3, none).unwrap();
//! let cookie = r.finish(&mut engine, None, None, 4, none).unwrap().unwrap();
//! assert_ne!(r.token().unwrap(), token, "login rotates the token");
//!
//! // Third request: the app empties the session (logout): the cookie is cleared.
//! let header = format!("__Host-sid={}", r.token().unwrap());
//! let mut r = Request::begin(&mut engine, Some(header.as_bytes()), 5, none);
//! r.clear();
//! let cleared = r.finish(&mut engine, Some(b""), None, 6, none).unwrap().unwrap();
//! assert!(cleared.contains("Max-Age=0"));
//! assert_eq!(engine.stats().live, 0);
//! ```

use crate::cookie::MAX_SET_COOKIE;
use crate::engine::{Client, Principal, Saved, Session};
use crate::error::Error;
use crate::rules;
use crate::store::Store;
use crate::token::Token;

/// A `Set-Cookie` header value.
pub type SetCookie = heapless::String<MAX_SET_COOKIE>;

/// The session behind one request, and what its response must do.
#[derive(Clone, Debug)]
pub struct Request {
    token: Option<Token>,
    session: Option<Session>,
    /// The session held data when the request began.
    had_data: bool,
    /// The token changed in this request (new session, login, rotation): send it.
    new_token: bool,
    /// A session ended in this request: clear the cookie (unless a new one starts).
    ended: bool,
    /// The app emptied the session since it began or logged in.
    cleared: bool,
    /// The store failed while this request began or ended its session.
    failure: Option<Error>,
}

impl Request {
    /// Load the session a request's `Cookie` header names (the duplicate-cookie rule,
    /// deadlines and client checks apply). Nothing a client sends makes this fail: a
    /// missing, malformed, forged, expired or ambiguous cookie gives a request without
    /// a session (and whatever security event the store records). A store that cannot
    /// answer also gives a request without a session, which says so
    /// ([`Request::store_error`]): never a session it could not check.
    pub fn begin<S: Store>(
        store: &mut S,
        header: Option<&[u8]>,
        now: u64,
        client: &Client<'_>,
    ) -> Request {
        let found = header.map(|h| store.validate_cookie(h, now, client));
        Request::holding(found.unwrap_or(Ok(None)))
    }

    /// [`Request::begin`] for a token the glue took from elsewhere (a signed cookie it
    /// unwrapped, a header of its own).
    pub fn begin_with_token<S: Store>(
        store: &mut S,
        token: Option<&[u8]>,
        now: u64,
        client: &Client<'_>,
    ) -> Request {
        let found = token.map(|t| store.validate(t, now, client).map(|s| Some((t, s))));
        Request::holding(found.unwrap_or(Ok(None)))
    }

    fn holding(found: Result<Option<(&[u8], Session)>, Error>) -> Request {
        let failure = found.as_ref().err().copied().filter(Error::is_store);
        let found = found.ok().flatten();
        let (token, session) = found
            .and_then(|(t, s)| Some((Token::copy_of(t)?, s)))
            .unzip();
        Request {
            had_data: session.is_some_and(|s| s.payload_len > 0),
            token,
            session,
            new_token: false,
            ended: false,
            cleared: false,
            failure,
        }
    }

    /// The store could not answer while this request began (or ended) its session
    /// ([`Error::Store`]): the request holds no session, but the user may have one.
    /// Answer it as unavailable (HTTP 503) rather than as a visitor without a session;
    /// [`Request::finish`] gives this error too.
    pub fn store_error(&self) -> Option<Error> {
        self.failure
    }

    /// The token of the session this request holds.
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(Token::as_str)
    }

    /// The session this request holds, as last seen by it.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The logged-in user, if any.
    pub fn principal(&self) -> Option<Principal> {
        self.session.and_then(|s| s.principal)
    }

    /// The token changed in this request: the response will carry it.
    pub fn token_changed(&self) -> bool {
        self.new_token
    }

    /// The payload of the session this request holds (`None` without one, or when it
    /// ended since the request began).
    pub fn payload<'s, S: Store>(&self, store: &'s mut S, now: u64) -> Option<S::Payload<'s>> {
        store.payload(self.session?.handle, now).ok()
    }

    /// The app emptied the session (`session.clear()`): at [`Request::finish`] it ends
    /// server-side, as a logout, whatever the data then holds; a login after it in the
    /// same request starts afresh.
    pub fn clear(&mut self) {
        self.cleared = true;
    }

    /// End the session server-side, as a logout (later reuse of its token is
    /// reported); the response clears the cookie. A store that cannot answer leaves the
    /// session as it was and the request failed ([`Request::store_error`]): a cookie
    /// cleared while its session lives on would be a logout that did not happen.
    pub fn end<S: Store>(&mut self, store: &mut S, now: u64) {
        if let Some(t) = self.token.take() {
            // Already ended elsewhere (expired, revoked): nothing left to destroy.
            if let Err(e) = store.logout(t.as_bytes(), now)
                && e.is_store()
            {
                self.failure.get_or_insert(e);
            }
        }
        self.session = None;
        self.had_data = false;
        self.new_token = false;
        self.cleared = false;
        self.ended = true;
    }

    /// Bind the session to `principal` and rotate its token (anti-fixation); its data is
    /// kept. Starts a session if the request holds none, or if the app cleared it first.
    pub fn login<S: Store>(
        &mut self,
        store: &mut S,
        principal: &[u8],
        now: u64,
        client: &Client<'_>,
    ) -> Result<(), Error> {
        if self.cleared {
            self.end(store, now);
        }
        if let Some(e) = self.failure {
            return Err(e);
        }
        let held = match &self.token {
            Some(t) => match store.login(t.as_bytes(), principal, now) {
                Ok(pair) => Some(pair),
                Err(e) if e.is_store() => return Err(e),
                // Ended since the request began: start afresh.
                Err(_) => None,
            },
            None => None,
        };
        let (token, session) = match held {
            Some(pair) => pair,
            None => {
                let (fresh, _) = store.create(now, client)?;
                store.login(fresh.as_bytes(), principal, now)?
            }
        };
        self.token = Some(token);
        self.session = Some(session);
        self.new_token = true;
        self.ended = false;
        Ok(())
    }

    /// Give the session a new token (nothing without one).
    pub fn rotate<S: Store>(&mut self, store: &mut S, now: u64) -> Result<(), Error> {
        if let Some(t) = &self.token {
            let (token, session) = store.rotate(t.as_bytes(), now)?;
            self.token = Some(token);
            self.session = Some(session);
            self.new_token = true;
        }
        Ok(())
    }

    /// End the request: store `data` (`None`: the app did not modify the session) and
    /// return the `Set-Cookie` value the response must carry, if any.
    ///
    /// - A session the app emptied ([`Request::clear`], or every key of a session that
    ///   held data removed) ends server-side and its cookie is cleared: that is the
    ///   frameworks' logout idiom, and a login lives in the store, not in the data.
    /// - Without a session, data starts one; no data sends nothing.
    /// - The data is saved by handle and epoch ([`Store::save`]): it never lands on a
    ///   session that ended, or was logged in or rotated by another request, since this
    ///   one began; the response then sends no cookie.
    /// - A cookie is sent when the token changed; `persistent` overrides the configured
    ///   choice of a `Max-Age` for it (Flask's `session.permanent`).
    ///
    /// Errors (a payload over the cap, no room, a full table) leave the stored data as
    /// it was. A request whose store failed ([`Request::store_error`]) gives that error
    /// and writes nothing.
    pub fn finish<S: Store>(
        &mut self,
        store: &mut S,
        data: Option<&[u8]>,
        persistent: Option<bool>,
        now: u64,
        client: &Client<'_>,
    ) -> Result<Option<SetCookie>, Error> {
        if let Some(e) = self.failure {
            return Err(e);
        }
        let emptied = data.is_some_and(<[u8]>::is_empty) && self.had_data;
        if self.token.is_some() && (self.cleared || emptied) {
            self.end(store, now);
            if let Some(e) = self.failure {
                return Err(e);
            }
        }
        let mut data = data;
        if self.token.is_none() {
            let Some(d) = data.filter(|d| !d.is_empty()) else {
                return Ok(if self.ended {
                    store.clear_cookie()
                } else {
                    None
                });
            };
            let (token, session) = store.create(now, client)?;
            self.token = Some(token);
            self.session = Some(session);
            self.new_token = true;
            data = Some(d);
        }
        let (Some(token), Some(session)) = (&self.token, &mut self.session) else {
            return Ok(None);
        };
        if let Some(d) = data {
            match store.save(session.handle, session.epoch, d, now)? {
                Saved::Dropped => return Ok(None),
                // The write moved the epoch: a later save of this request (a framework
                // may save twice) carries the new one.
                Saved::Written => session.epoch = rules::next_epoch(session.epoch),
                Saved::Unchanged => {}
            }
            session.payload_len = d.len() as u32;
            self.had_data = !d.is_empty();
        }
        if !self.new_token {
            return Ok(None);
        }
        let persistent = persistent.unwrap_or(store.config().cookie.persistent);
        match store.set_cookie_as(token.as_str(), session.handle, now, persistent) {
            Ok(cookie) => {
                self.new_token = false;
                Ok(Some(cookie))
            }
            // Ended since (another request logged it out): nothing to send.
            Err(Error::StaleHandle | Error::Session(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
