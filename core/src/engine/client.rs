//! Client checks: the address and user-agent digests a session remembers, the policy
//! verdict on a change ([`crate::rules::client_check`]) and the too-many-addresses
//! alarm. Apart from the session lifecycle because they only watch a request, never
//! decide its session's fate beyond refusing it.

use super::{Client, State};
use crate::config::ClientPolicy;
use crate::error::Invalid;
use crate::event::EventKind;
use crate::rules;
use crate::slot::{self, ADDR_COUNT_MAX, ALERTED};
use crate::storage::Parts;

impl State {
    /// Addresses are digested when they are checked or counted for the alarm.
    fn tracks_ip(&self) -> bool {
        self.config.ip_policy != ClientPolicy::Off || self.config.max_addresses > 0
    }

    /// The digests of a request's address and user agent, each `None` when not given or
    /// not watched.
    pub(super) fn client_digests(&self, client: &Client<'_>) -> (Option<u32>, Option<u32>) {
        let ip = client
            .ip
            .filter(|_| self.tracks_ip())
            .map(|b| self.address_hash(b));
        let ua = client
            .user_agent
            .filter(|_| self.config.user_agent_policy != ClientPolicy::Off)
            .map(|b| self.user_agent_hash(b));
        (ip, ua)
    }

    pub(super) fn check_client(
        &mut self,
        p: &mut Parts<'_>,
        i: u32,
        client: &Client<'_>,
        now: u64,
    ) -> Result<(), Invalid> {
        if client.ip.is_none() && client.user_agent.is_none() {
            // No client facts (the common case of a caller that checks none): nothing to
            // digest, compare, count or remember.
            return Ok(());
        }
        let (ip, ua) = self.client_digests(client);
        if ip.is_none() && ua.is_none() {
            // Nothing seen or watched: nothing to compare, count or remember
            // (`rules::client_check` finds no change in nothing).
            return Ok(());
        }
        let s = p.slots[i as usize];
        // A digest is computed only when a policy or the alarm watches it, so a `narrow`
        // build's config has the region then.
        let [seen_ip, seen_ua] = slot::client_of(p, i);
        let check = rules::client_check(&self.config, (seen_ip, seen_ua), (ip, ua));
        if check.ip_moved {
            self.emit(i, s.generation, EventKind::AddressChanged, now, p.events);
        }
        if check.ua_moved {
            self.emit(i, s.generation, EventKind::UserAgentChanged, now, p.events);
        }
        if check.reject {
            return Err(Invalid::ClientMismatch);
        }
        let max = self.config.max_addresses;
        if let Some(c) = slot::client_mut(p, i) {
            *c = [ip.unwrap_or(c[0]), ua.unwrap_or(c[1])];
        }
        let s = &mut p.slots[i as usize];
        if let Some(d) = ip {
            // Only a config that counts addresses has the address sets.
            if let Some(seen) = p.addresses.get_mut(i as usize) {
                let short = d as u16;
                let known = usize::from(s.addr_count()).min(seen.len());
                if !seen[..known].contains(&short) {
                    if known < seen.len() {
                        seen[known] = short;
                    }
                    s.set_addr_count((s.addr_count() + 1).min(ADDR_COUNT_MAX));
                }
                if rules::too_many_addresses(max, s.addr_count()) && s.flags() & ALERTED == 0 {
                    s.set_flags(s.flags() | ALERTED);
                    let s = *s;
                    self.emit(i, s.generation, EventKind::TooManyAddresses, now, p.events);
                }
            }
        }
        Ok(())
    }
}
