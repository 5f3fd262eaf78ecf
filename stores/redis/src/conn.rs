//! The connection: made when first needed, with the configured timeouts and every script
//! loaded (one round trip, so no request meets `NOSCRIPT`); dropped after
//! any failure that may leave it out of step (a timeout, an I/O error), so the next call
//! makes a new one; and never used by a forked child (it checks the process id, as
//! redis-py does, and leaves the parent's socket alone).

use std::time::Duration;

use redis::{ErrorKind, RedisError};
use sessile::{Error, StoreError};

use crate::link::{Link, Plain};

pub(crate) struct Conn {
    client: redis::Client,
    con: Option<Link>,
    /// The process that made `con`.
    pid: u32,
    connect_timeout: Duration,
    response_timeout: Duration,
    /// Scripts loaded on every new connection, in one round trip: so that no request
    /// pays for a script the server does not hold yet (an EVALSHA answered `NOSCRIPT`,
    /// then `SCRIPT LOAD`, then the EVALSHA again), whichever script it runs first.
    scripts: &'static [&'static str],
}

/// What a client error means for sessile.
pub(crate) fn classify(e: &RedisError) -> StoreError {
    if e.is_timeout() {
        StoreError::Timeout
    } else if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
        StoreError::Unavailable
    } else {
        match e.kind() {
            ErrorKind::Server(_) | ErrorKind::Extension | ErrorKind::AuthenticationFailed => {
                StoreError::Refused
            }
            ErrorKind::InvalidClientConfig => StoreError::Config,
            ErrorKind::Parse | ErrorKind::UnexpectedReturnType => StoreError::Corrupt,
            _ => StoreError::Unavailable,
        }
    }
}

impl Conn {
    pub(crate) fn new(
        url: &str,
        tls_ca: Option<&[u8]>,
        connect: Duration,
        response: Duration,
        scripts: &'static [&'static str],
    ) -> Result<Conn, Error> {
        let bad = |_| Error::Store(StoreError::Config);
        let client = match tls_ca {
            None => redis::Client::open(url).map_err(bad)?,
            #[cfg(feature = "tls")]
            Some(pem) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.to_vec()),
                },
            )
            .map_err(bad)?,
            #[cfg(not(feature = "tls"))]
            Some(_) => return Err(Error::Store(StoreError::Config)),
        };
        Ok(Conn {
            client,
            con: None,
            pid: std::process::id(),
            connect_timeout: connect,
            response_timeout: response,
            scripts,
        })
    }

    /// Run `f`, a read (or the touch of a read, which may be repeated), on the
    /// connection (made first if needed). A connection that was made earlier and turns
    /// out broken (the server restarted, a proxy closed it while idle) is made anew and
    /// `f` run once more, so a restart costs no request. A timeout is not retried (it
    /// would double the wait).
    /// A new connection, with the timeouts set and every script loaded: a plain one of
    /// the store's own (`link.rs`), or redis-rs's for TLS.
    fn connect(&self) -> redis::RedisResult<Link> {
        let info = self.client.get_connection_info();
        if let Some(plain) = Plain::connect(
            info,
            self.connect_timeout,
            self.response_timeout,
            self.scripts,
        ) {
            return plain.map(Link::Plain);
        }
        let mut con = self
            .client
            .get_connection_with_timeout(self.connect_timeout)?;
        let t = Some(self.response_timeout);
        con.set_read_timeout(t)?;
        con.set_write_timeout(t)?;
        if !self.scripts.is_empty() {
            let mut pipe = redis::pipe();
            for script in self.scripts {
                pipe.cmd("SCRIPT").arg("LOAD").arg(*script).ignore();
            }
            pipe.query::<()>(&mut con)?;
        }
        Ok(Link::Client(con))
    }

    /// Where the server is and how to log in, for a binding that carries its own
    /// connection (the `wire` module).
    pub(crate) fn info(&self) -> Option<redis::ConnectionInfo> {
        Some(self.client.get_connection_info().clone())
    }

    pub(crate) fn timeouts(&self) -> (Duration, Duration) {
        (self.connect_timeout, self.response_timeout)
    }

    pub(crate) fn call<T>(
        &mut self,
        mut f: impl FnMut(&mut Link) -> redis::RedisResult<T>,
    ) -> Result<T, Error> {
        // One getpid per call (a syscall each): the fork check and the retry share it.
        let pid = std::process::id();
        let reused = self.con.is_some() && self.pid == pid;
        match self.call_at(pid, &mut f) {
            Err(Error::Store(StoreError::Unavailable)) if reused => self.call_at(pid, &mut f),
            other => other,
        }
    }

    /// Run `f`, a write, once: when the connection breaks, whether it landed is not
    /// known, and deciding anew on what it may have changed could misread the caller's
    /// own write (a login's rotated-out token taken for a reuse). The caller gets the
    /// error; the next call makes a new connection.
    pub(crate) fn call_once<T>(
        &mut self,
        f: &mut impl FnMut(&mut Link) -> redis::RedisResult<T>,
    ) -> Result<T, Error> {
        self.call_at(std::process::id(), f)
    }

    /// [`Conn::call_once`] in the process `pid` (this one's id, read by the caller).
    fn call_at<T>(
        &mut self,
        pid: u32,
        f: &mut impl FnMut(&mut Link) -> redis::RedisResult<T>,
    ) -> Result<T, Error> {
        if pid != self.pid {
            // A forked child: the socket is the parent's too. Closing it here would not
            // hurt the parent, but a shutdown would, and a reply meant for one process
            // could reach the other; forget it and make our own.
            if let Some(inherited) = self.con.take() {
                std::mem::forget(inherited);
            }
            self.pid = pid;
        }
        if self.con.is_none() {
            let con = self.connect().map_err(|e| Error::Store(classify(&e)))?;
            self.con = Some(con);
        }
        let con = self.con.as_mut().expect("connected above");
        f(con).map_err(|e| {
            let why = classify(&e);
            // A connection that says it is closed (bytes that were no reply leave it out
            // of step) is dropped whatever the error's kind.
            let closed = !self
                .con
                .as_ref()
                .is_some_and(redis::ConnectionLike::is_open);
            if closed
                || matches!(why, StoreError::Timeout | StoreError::Unavailable)
                || e.is_unrecoverable_error()
            {
                self.con = None;
            }
            Error::Store(why)
        })
    }
}
