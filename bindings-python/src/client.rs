//! The client of a request (`ip=`, `user_agent=`) as the core's [`Client`].

use std::borrow::Cow;

use pyo3::prelude::*;

use sessile::Client;

use crate::convert::opt_bytes;

/// A request's client (`ip=`, `user_agent=`), read from its Python objects once.
pub(crate) struct ClientArgs<'a> {
    ip: Option<Cow<'a, [u8]>>,
    user_agent: Option<Cow<'a, [u8]>>,
}

impl<'a> ClientArgs<'a> {
    pub(crate) fn new(
        ip: Option<&'a Bound<'_, PyAny>>,
        user_agent: Option<&'a Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(ClientArgs {
            ip: opt_bytes(ip, "ip")?,
            user_agent: opt_bytes(user_agent, "user_agent")?,
        })
    }

    /// The same client, owning its bytes (kept for a request's later calls).
    pub(crate) fn into_owned(self) -> ClientArgs<'static> {
        ClientArgs {
            ip: self.ip.map(|c| Cow::Owned(c.into_owned())),
            user_agent: self.user_agent.map(|c| Cow::Owned(c.into_owned())),
        }
    }

    pub(crate) fn core(&self) -> Client<'_> {
        Client {
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}
