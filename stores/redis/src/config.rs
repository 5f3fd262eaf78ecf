//! Where the store lives and how it is reached: the Redis side of the configuration.
//! The sessions' own configuration (capacity, timeouts, policies, cookie) is the core's
//! [`sessile::Config`], the same vocabulary as the in-process engine's.

use std::time::Duration;

use sessile::{Error, StoreError};

/// Longest key prefix.
pub const MAX_PREFIX: usize = 64;

/// How to reach the store, and what this deployment's keys are.
///
/// ```
/// let c = sessile_redis::RedisConfig::new("unix:///run/redis/redis.sock", [7; 32]);
/// assert_eq!(c.prefix, "sessile");
/// assert_eq!(c.response_timeout.as_millis(), 100);
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://[user][:password@]host[:port][/db]`, `rediss://...` (TLS, with the
    /// crate's `tls` feature), or `unix:///path/to/redis.sock[?db=N&user=U&pass=P]`.
    /// The ACL user, password and database are given in the URL.
    pub url: String,
    /// Every key of this deployment lives under `{prefix}:`; the braces make the prefix
    /// a Redis Cluster hash tag, so every key of every operation is in one slot (see
    /// the crate docs for what that costs). Deployments sharing a server use distinct
    /// prefixes. 1 to [`MAX_PREFIX`] bytes, without `{`, `}` or whitespace.
    pub prefix: String,
    /// This deployment's secret (32 random bytes, the same in every process): the key
    /// of every digest the store writes (tokens, principals, client addresses, event
    /// tags). Whoever can write to Redis but does not hold it cannot plant a session
    /// for a token of their choosing. Changing it ends every session.
    pub key: [u8; 32],
    /// Longest wait for a connection (default 100 ms).
    pub connect_timeout: Duration,
    /// Longest wait for an answer (default 100 ms). A store slower than that gives
    /// `Error::Store(StoreError::Timeout)`, and the connection is dropped and made anew.
    pub response_timeout: Duration,
    /// How long a dead token is remembered, so its reuse is reported (not merely
    /// refused), in ms. `None`: the configured longest absolute timeout
    /// (`max_absolute_timeout_ms`), as long as any cookie could still carry it.
    pub tombstone_ttl_ms: Option<u64>,
    /// How many times an operation is decided anew when another request changed what
    /// it read in the meantime, before it gives `StoreError::Conflict` (default 16).
    pub max_retries: u32,
    /// Also append every security event to the Redis stream `{prefix}:e`, trimmed to
    /// about this many entries (`XADD ... MAXLEN ~`), so one collector sees every
    /// process's and host's events (`XREAD`, or a consumer group). `None` (the default):
    /// events reach only the process whose request raised them ([`sessile::Store::pop_event`],
    /// which they reach in any case). Appending is one more round trip, only for a request
    /// that raised an event; when it fails the request's answer stands and the event is
    /// still in this process's ring.
    pub event_stream: Option<u32>,
    /// For `rediss://`: the certificate (PEM) of the authority that signed the server's,
    /// when it is a private one (as most Redis deployments' are). `None`: the platform's
    /// trust store. The server's name is always checked against its certificate.
    pub tls_ca: Option<Vec<u8>>,
}

impl core::fmt::Debug for RedisConfig {
    /// Never prints the key, nor a password in the URL.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("tombstone_ttl_ms", &self.tombstone_ttl_ms)
            .field("max_retries", &self.max_retries)
            .field("event_stream", &self.event_stream)
            .field("tls_ca", &self.tls_ca.is_some())
            .finish_non_exhaustive()
    }
}

impl RedisConfig {
    /// The defaults for a server at `url` and a deployment key.
    pub fn new(url: &str, key: [u8; 32]) -> RedisConfig {
        RedisConfig {
            url: url.to_owned(),
            prefix: "sessile".to_owned(),
            key,
            connect_timeout: Duration::from_millis(100),
            response_timeout: Duration::from_millis(100),
            tombstone_ttl_ms: None,
            max_retries: 16,
            event_stream: None,
            tls_ca: None,
        }
    }

    /// Check what can be checked without a server: `StoreError::Config` otherwise.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = Error::Store(StoreError::Config);
        let p = self.prefix.as_bytes();
        if p.is_empty()
            || p.len() > MAX_PREFIX
            || p.iter()
                .any(|&b| b == b'{' || b == b'}' || b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad);
        }
        // An all-zero key is a placeholder left in a config, not a secret.
        if self.key == [0; 32] {
            return Err(bad);
        }
        if self.connect_timeout.is_zero() || self.response_timeout.is_zero() {
            return Err(bad);
        }
        if self.tombstone_ttl_ms == Some(0) || self.event_stream == Some(0) {
            return Err(bad);
        }
        let scheme = self.url.split("://").next().unwrap_or("");
        if scheme == "rediss" && !cfg!(feature = "tls") {
            return Err(bad);
        }
        if !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix") {
            return Err(bad);
        }
        // A trust anchor for a connection that is not TLS is a mistake, not a no-op.
        if self.tls_ca.is_some() && scheme != "rediss" {
            return Err(bad);
        }
        Ok(())
    }
}
