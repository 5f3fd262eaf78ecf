//! The session rules, as decisions over one session record's values.
//!
//! Every rule that decides a session's fate is a pure function here: is it live, or
//! which deadline ended it; what the reuse of a dead token means; whether a client
//! change is tolerated; whether a user may log in again and what makes room; how long
//! its cookie lives; whether a save lands. A store holds records and calls these (the
//! in-process table in `engine`, any other [`crate::Store`]), so the answers are the
//! same wherever the record lives. Nothing here reads a clock: `now` is given.

use crate::config::{ClientPolicy, Config, PrincipalLimitPolicy, RotatedReusePolicy};
use crate::error::{Expiry, Invalid};
use crate::event::EventKind;

/// The times of one session: when it began (or logged in), when it was last used, and
/// its two timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    /// When the session (or its login) began.
    pub created_ms: u64,
    /// Its last use.
    pub last_seen_ms: u64,
    /// Idle timeout.
    pub idle_ms: u32,
    /// Absolute timeout.
    pub absolute_ms: u32,
}

impl Times {
    // Saturating: `now` is caller input and may be near u64::MAX; a deadline past the
    // end of time is the end of time (the session then dies, never lives on).

    /// When it dies of inactivity unless used again.
    #[inline]
    pub const fn idle_deadline(&self) -> u64 {
        self.last_seen_ms.saturating_add(self.idle_ms as u64)
    }

    /// When it dies however busy.
    #[inline]
    pub const fn absolute_deadline(&self) -> u64 {
        self.created_ms.saturating_add(self.absolute_ms as u64)
    }

    /// The moment it dies: it is live while `now < deadline()`.
    #[inline]
    pub const fn deadline(&self) -> u64 {
        let (i, a) = (self.idle_deadline(), self.absolute_deadline());
        if i < a { i } else { a }
    }
}

/// The same times as the in-process table keeps them (`Slot`): the start `created` ms
/// after an `origin`, the last use `seen` ms after the start, and [`Times`]'s rules over
/// them. On 64-bit targets (servers) each answer is [`Times`]'s, from [`Offsets::times`].
/// On 32-bit targets, where each saturating `u64` step is several instructions, each is
/// spelled over the offsets (a test checks every one against [`Times`]'s): both deadlines
/// are sums of `u32`s after the origin, which cannot overflow a `u64`, so only adding the
/// origin saturates, once a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Offsets {
    pub(crate) origin: u64,
    pub(crate) created: u32,
    pub(crate) seen: u32,
    pub(crate) idle_ms: u32,
    pub(crate) absolute_ms: u32,
}

/// Whether [`Offsets`] answers over the offsets (see there).
const BY_OFFSETS: bool = !cfg!(target_pointer_width = "64");

/// `origin + offset`, saturating: the one `u64` step of each of [`Offsets`]'s times. Not
/// inlined on 32-bit targets, where it is six instructions (about 22 bytes of Cortex-M
/// code at each of a dozen uses); inlined on 64-bit ones (one add and a select).
///
/// Also the engine's `at` (the caller's time into the engine's), the same sum.
#[cfg_attr(not(target_pointer_width = "64"), inline(never))]
#[cfg_attr(target_pointer_width = "64", inline)]
pub(crate) const fn after_origin(origin: u64, offset: u64) -> u64 {
    origin.saturating_add(offset)
}

/// `origin + offset` (saturating) in a caller's time `base` ms behind (saturating at 0):
/// [`Offsets::caller_times`]'s one step.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
#[inline(never)]
fn in_caller_time(origin: u64, offset: u64, base: u64) -> u64 {
    after_origin(origin, offset).saturating_sub(base)
}

impl Offsets {
    /// The times as [`Times`]: the start and last use, each a saturating sum.
    #[inline]
    pub(crate) const fn times(&self) -> Times {
        let created_ms = self.origin.saturating_add(self.created as u64);
        Times {
            created_ms,
            last_seen_ms: created_ms.saturating_add(self.seen as u64),
            idle_ms: self.idle_ms,
            absolute_ms: self.absolute_ms,
        }
    }

    /// The last use, as an offset from the origin.
    #[inline]
    const fn seen_at(&self) -> u64 {
        self.created as u64 + self.seen as u64
    }

    /// [`Times::idle_deadline`], as an offset from the origin.
    #[inline]
    const fn idle_at(&self) -> u64 {
        self.seen_at() + self.idle_ms as u64
    }

    /// [`Times::absolute_deadline`], as an offset from the origin.
    #[inline]
    const fn absolute_at(&self) -> u64 {
        self.created as u64 + self.absolute_ms as u64
    }

    /// `Times::created_ms`.
    #[inline]
    pub(crate) const fn created_ms(&self) -> u64 {
        after_origin(self.origin, self.created as u64)
    }

    /// `Times::last_seen_ms`.
    #[inline]
    pub(crate) const fn last_seen_ms(&self) -> u64 {
        if BY_OFFSETS {
            after_origin(self.origin, self.seen_at())
        } else {
            self.times().last_seen_ms
        }
    }

    /// [`Times::idle_deadline`].
    #[inline]
    pub(crate) const fn idle_deadline(&self) -> u64 {
        if BY_OFFSETS {
            after_origin(self.origin, self.idle_at())
        } else {
            self.times().idle_deadline()
        }
    }

    /// [`Times::absolute_deadline`].
    #[inline]
    pub(crate) const fn absolute_deadline(&self) -> u64 {
        if BY_OFFSETS {
            after_origin(self.origin, self.absolute_at())
        } else {
            self.times().absolute_deadline()
        }
    }

    /// [`Times::deadline`].
    #[inline]
    pub(crate) const fn deadline(&self) -> u64 {
        if BY_OFFSETS {
            self.deadline_by_offsets()
        } else {
            self.times().deadline()
        }
    }

    /// The earlier deadline's offset, then the origin added (which keeps the order).
    #[inline]
    const fn deadline_by_offsets(&self) -> u64 {
        let (i, a) = (self.idle_at(), self.absolute_at());
        after_origin(self.origin, if i < a { i } else { a })
    }

    /// The start, the last use and the two deadlines in a caller's time `base` ms behind
    /// this one (a moment before the caller's zero reads 0): what the engine reports of
    /// a session. The 32-bit targets' spelling, each time through one non-inlined
    /// [`in_caller_time`] (64-bit targets subtract `base` from [`Times`]'s answers; a test
    /// checks both give the same).
    #[cfg_attr(target_pointer_width = "64", allow(dead_code))]
    #[inline]
    pub(crate) fn caller_times(&self, base: u64) -> [u64; 4] {
        let mut times = [
            self.created as u64,
            self.seen_at(),
            self.idle_at(),
            self.absolute_at(),
        ];
        for t in &mut times {
            *t = in_caller_time(self.origin, *t, base);
        }
        times
    }

    /// [`expiry`].
    #[inline]
    pub(crate) const fn expiry(&self) -> Expiry {
        if BY_OFFSETS {
            self.expiry_by_offsets()
        } else {
            expiry(&self.times())
        }
    }

    /// The absolute deadline on a tie, and so too when both saturate at the end of
    /// time (the idle one does then whenever the absolute one is later).
    #[inline]
    const fn expiry_by_offsets(&self) -> Expiry {
        if self.absolute_at() <= self.idle_at()
            || after_origin(self.origin, self.idle_at()) == u64::MAX
        {
            Expiry::Absolute
        } else {
            Expiry::Idle
        }
    }
}

/// Live at `now`, or which deadline ended it. Checked exactly, to the millisecond, on
/// every lookup; a sweep only reclaims memory.
///
/// ```
/// use sessile::rules::{liveness, Times};
/// use sessile::Expiry;
/// let t = Times { created_ms: 0, last_seen_ms: 0, idle_ms: 10, absolute_ms: 100 };
/// assert_eq!(liveness(&t, 9), Ok(()));
/// assert_eq!(liveness(&t, 10), Err(Expiry::Idle));
/// ```
#[inline]
pub const fn liveness(t: &Times, now: u64) -> Result<(), Expiry> {
    if now < t.deadline() {
        Ok(())
    } else {
        Err(expiry(t))
    }
}

/// Which deadline ends a session (the earlier; on a tie the absolute one, the limit
/// no activity could have moved).
#[inline]
pub const fn expiry(t: &Times) -> Expiry {
    if t.absolute_deadline() <= t.idle_deadline() {
        Expiry::Absolute
    } else {
        Expiry::Idle
    }
}

/// `Max-Age` of the session cookie, in whole seconds rounded up: until the absolute
/// deadline (the browser keeps it as long as the session could live; the idle deadline
/// is enforced server-side, so a cookie need not be re-sent on every request).
#[inline]
pub const fn max_age_s(t: &Times, now: u64) -> u64 {
    max_age_until(t.absolute_deadline(), now)
}

/// [`max_age_s`] from the absolute deadline itself (what a [`crate::Session`] reports:
/// a session restored from a snapshot may have begun before the caller's clock's zero,
/// where its `created_ms` reads 0).
pub const fn max_age_until(absolute_deadline_ms: u64, now: u64) -> u64 {
    seconds_up(absolute_deadline_ms.saturating_sub(now))
}

/// `Max-Age` for a cookie that lives `left_ms` more milliseconds: whole seconds, rounded
/// up (a cookie must not die before what it carries). For a framework that chooses a
/// cookie's life itself (express-session's `cookie.maxAge`).
///
/// `left_ms.div_ceil(1000)`: one instruction or two on a 64-bit target; on 32-bit
/// targets a 64-bit division is a library call of about 1 KiB (and even a 32-bit one is
/// a call on a Cortex-M0), so there it is `seconds_up_by_shifts` (below).
#[inline]
pub const fn seconds_up(left_ms: u64) -> u64 {
    if cfg!(target_pointer_width = "64") {
        left_ms.div_ceil(1000)
    } else {
        seconds_up_by_shifts(left_ms)
    }
}

/// [`seconds_up`] as a binary long division, a bit at a time: shifts, compares and
/// subtractions only (the remainder stays below 2000, a `u32`), so the firmware
/// (examples/firmware) links no divider for it. A test checks it against `div_ceil`.
///
/// The dividend's bits leave `x` at the top as the quotient's enter at the bottom, so
/// after 64 steps `x` is the quotient: every shift is by one (a 32-bit core's shift by a
/// variable amount of a `u64` is a library call).
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
const fn seconds_up_by_shifts(left_ms: u64) -> u64 {
    let mut x = left_ms;
    let mut rem = 0u32;
    let mut step = 0;
    while step < 64 {
        rem = (rem << 1) | (x >> 63) as u32;
        x <<= 1;
        if rem >= 1000 {
            rem -= 1000;
            x |= 1;
        }
        step += 1;
    }
    x + (rem != 0) as u64
}

/// A per-session timeout override is allowed: above zero and within its maximum.
pub const fn timeout_allowed(ms: u32, max_ms: u32) -> bool {
    ms > 0 && ms <= max_ms
}

/// What presenting a dead token means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reuse {
    /// The security event to raise, if it is one.
    pub event: Option<EventKind>,
    /// End the session the token was rotated into (one of its two holders is a thief).
    pub revoke_successor: bool,
}

/// The reuse of a token that died for `why` (`LoggedOut`, `RotatedOut`, ...).
///
/// ```
/// use sessile::rules::reuse;
/// use sessile::{EventKind, Invalid, RotatedReusePolicy};
/// let r = reuse(Invalid::LoggedOut, RotatedReusePolicy::Report);
/// assert_eq!(r.event, Some(EventKind::ReuseAfterLogout));
/// ```
pub const fn reuse(why: Invalid, policy: RotatedReusePolicy) -> Reuse {
    match why {
        Invalid::LoggedOut => Reuse {
            event: Some(EventKind::ReuseAfterLogout),
            revoke_successor: false,
        },
        Invalid::RotatedOut => Reuse {
            event: Some(EventKind::ReuseAfterRotation),
            revoke_successor: matches!(policy, RotatedReusePolicy::RevokeSession),
        },
        _ => Reuse {
            event: None,
            revoke_successor: false,
        },
    }
}

/// Whether the dead token of a session that ended for `why` is remembered among the
/// tombstones anonymous churn cannot push out: the logout, rotation and revocation of a
/// logged-in session (reuse of those is the account-takeover signal); every other death
/// goes to the ring anonymous sessions share.
#[inline]
pub const fn keep_tombstone(why: Invalid, authenticated: bool) -> bool {
    authenticated
        && matches!(
            why,
            Invalid::LoggedOut | Invalid::RotatedOut | Invalid::Revoked
        )
}

/// How `total` remembered dead tokens are shared: `(kept, churn)`. Three quarters are
/// kept for the tokens [`keep_tombstone`] keeps, the rest (at least one entry when there
/// are two or more) churn with every other death, so anonymous churn never pushes out
/// a logged-in user's logged-out or rotated-out token.
pub const fn tombstone_shares(total: u32) -> (u32, u32) {
    let kept = if total < 2 {
        total
    } else {
        let quarter = total / 4;
        total - if quarter > 1 { quarter } else { 1 }
    };
    (kept, total - kept)
}

/// The event a session's end raises (`None` for a reason that does not end a session).
#[inline]
pub const fn end_event(why: Invalid) -> Option<EventKind> {
    Some(match why {
        Invalid::LoggedOut => EventKind::LoggedOut,
        Invalid::Expired(Expiry::Idle) => EventKind::ExpiredIdle,
        Invalid::Expired(Expiry::Absolute) => EventKind::ExpiredAbsolute,
        Invalid::Evicted => EventKind::Evicted,
        // A session whose token was rotated out ends only when it is revoked.
        Invalid::Revoked | Invalid::RotatedOut => EventKind::Revoked,
        Invalid::Malformed | Invalid::Unknown | Invalid::ClientMismatch => return None,
    })
}

/// How a request's client compares with what the session saw before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCheck {
    /// The address changed (and addresses are watched): raise `AddressChanged`.
    pub ip_moved: bool,
    /// The user agent changed: raise `UserAgentChanged`.
    pub ua_moved: bool,
    /// Refuse the request (`Invalid::ClientMismatch`); the session stays alive.
    pub reject: bool,
}

/// Compare a request's client digests (`None`: not given or not watched) with the
/// session's (`0`: not known yet).
pub fn client_check(
    config: &Config,
    stored: (u32, u32),
    seen: (Option<u32>, Option<u32>),
) -> ClientCheck {
    let ip_moved = config.ip_policy != ClientPolicy::Off
        && seen.0.is_some_and(|d| stored.0 != 0 && stored.0 != d);
    let ua_moved = config.user_agent_policy != ClientPolicy::Off
        && seen.1.is_some_and(|d| stored.1 != 0 && stored.1 != d);
    ClientCheck {
        ip_moved,
        ua_moved,
        reject: (ip_moved && config.ip_policy == ClientPolicy::Enforce)
            || (ua_moved && config.user_agent_policy == ClientPolicy::Enforce),
    }
}

/// Whether the address alarm fires: more distinct addresses than allowed (0 = off).
pub const fn too_many_addresses(max: u8, distinct: u8) -> bool {
    max > 0 && distinct > max
}

/// What a login of a principal that already has `live` sessions does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginRoom {
    /// Under the cap (or no cap): log in.
    Admit,
    /// At the cap: end the principal's least recently used sessions until under it.
    EvictLeastRecentlyUsed,
    /// At the cap and the policy refuses: `Error::PrincipalLimit`.
    Refuse,
}

/// The per-principal cap. Sessions past their deadline are not `live` here: they end as
/// expired first, never count against the cap, never get evicted for it.
pub fn login_room(config: &Config, live: usize) -> LoginRoom {
    let cap = config.max_sessions_per_principal as usize;
    if cap == 0 || live < cap {
        LoginRoom::Admit
    } else if config.principal_limit_policy == PrincipalLimitPolicy::Refuse {
        LoginRoom::Refuse
    } else {
        LoginRoom::EvictLeastRecentlyUsed
    }
}

/// Whether a session may be evicted to admit a new anonymous one when the table is full
/// (after expired ones were reclaimed): only anonymous sessions, one not used lately
/// first (an approximate LRU: CLOCK, in the in-process table); a logged-in user is never
/// logged out to admit a visitor.
pub const fn evictable_for_new_session(authenticated: bool) -> bool {
    !authenticated
}

/// Most referenced sessions one eviction's CLOCK hand passes (clearing their bits) before
/// it takes the next anonymous session whatever its bit: the work of a create on a full
/// store is bounded, as in Redis's sampled LRU.
pub const CLOCK_MAX_PASS: u32 = 64;

/// CLOCK's step, the same in every store: the hand, at an anonymous session (not the one
/// being made room for) after passing `passed` referenced ones, takes it when it was not
/// used since the hand last passed it (`referenced` false) or when the hand has passed
/// [`CLOCK_MAX_PASS`] already; else it clears the bit and moves the session to the tail.
pub const fn clock_takes(referenced: bool, passed: u32) -> bool {
    !referenced || passed == CLOCK_MAX_PASS
}

/// What a save does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveVerdict {
    /// Store the new bytes.
    Write,
    /// The stored bytes are already these: write nothing.
    Unchanged,
    /// The session ended, or its token changed, since the request loaded it: write
    /// nothing (no resurrection after logout, no stale write over a login).
    Drop,
}

/// A session's epoch after its token changed or its payload was written: every store
/// moves it by exactly this, so a request whose save landed ([`SaveVerdict::Write`])
/// knows the epoch its next save in the same request must carry.
#[inline]
pub const fn next_epoch(epoch: u32) -> u32 {
    epoch.wrapping_add(1)
}

/// Decide a save prepared under `loaded_epoch`, given the session as it is now:
/// `None` if it ended, else its epoch and whether the stored bytes equal the new ones.
pub const fn save(loaded_epoch: u32, now: Option<(u32, bool)>) -> SaveVerdict {
    match now {
        None => SaveVerdict::Drop,
        Some((epoch, _)) if epoch != loaded_epoch => SaveVerdict::Drop,
        Some((_, true)) => SaveVerdict::Unchanged,
        Some((_, false)) => SaveVerdict::Write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Times = Times {
        created_ms: 1_000,
        last_seen_ms: 5_000,
        idle_ms: 10_000,
        absolute_ms: 20_000,
    };

    #[test]
    fn the_earlier_deadline_ends_a_session() {
        assert_eq!(T.deadline(), 15_000);
        assert_eq!(liveness(&T, 14_999), Ok(()));
        assert_eq!(liveness(&T, 15_000), Err(Expiry::Idle));
        let busy = Times {
            last_seen_ms: 15_000,
            ..T
        };
        assert_eq!(liveness(&busy, 21_000), Err(Expiry::Absolute));
        let tie = Times {
            last_seen_ms: 11_000,
            ..T
        };
        assert_eq!(expiry(&tie), Expiry::Absolute);
    }

    #[test]
    fn deadlines_saturate_at_the_end_of_time() {
        let late = Times {
            created_ms: u64::MAX - 1,
            last_seen_ms: u64::MAX - 1,
            ..T
        };
        assert_eq!(late.deadline(), u64::MAX);
        assert!(liveness(&late, u64::MAX).is_err());
    }

    /// The table's form of the times gives every time, deadline and expiry [`Times`]
    /// gives, up to the end of time.
    #[test]
    fn offsets_agree_with_times() {
        let origins = [
            0,
            1,
            1 << 40,
            u64::MAX - (1 << 34),
            u64::MAX - (1 << 32),
            u64::MAX - 5,
            u64::MAX,
        ];
        let offsets = [0u32, 1, 2, 999, 1 << 31, u32::MAX - 1, u32::MAX];
        for origin in origins {
            for created in offsets {
                for seen in offsets {
                    for idle_ms in offsets {
                        for absolute_ms in offsets {
                            let o = Offsets {
                                origin,
                                created,
                                seen,
                                idle_ms,
                                absolute_ms,
                            };
                            let created_ms = origin.saturating_add(created.into());
                            let t = Times {
                                created_ms,
                                last_seen_ms: created_ms.saturating_add(seen.into()),
                                idle_ms,
                                absolute_ms,
                            };
                            assert_eq!(o.times(), t, "{o:?}");
                            // The 32-bit targets' spellings, over the offsets.
                            assert_eq!(o.created_ms(), t.created_ms, "{o:?}");
                            assert_eq!(o.origin.saturating_add(o.seen_at()), t.last_seen_ms);
                            assert_eq!(o.origin.saturating_add(o.idle_at()), t.idle_deadline());
                            assert_eq!(
                                o.origin.saturating_add(o.absolute_at()),
                                t.absolute_deadline()
                            );
                            assert_eq!(o.deadline_by_offsets(), t.deadline(), "{o:?}");
                            assert_eq!(o.expiry_by_offsets(), expiry(&t), "{o:?}");
                            for base in [0, 1, 1 << 40, u64::MAX - (1 << 33), u64::MAX] {
                                let want = [
                                    t.created_ms,
                                    t.last_seen_ms,
                                    t.idle_deadline(),
                                    t.absolute_deadline(),
                                ]
                                .map(|x| x.saturating_sub(base));
                                assert_eq!(o.caller_times(base), want, "{o:?} {base}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn seconds_up_is_div_ceil() {
        // Around every multiple of 1000 near each 16-bit step boundary, and a spread.
        let mut values = std::vec![0, 1, 999, 1000, 1001, u64::MAX, u64::MAX - 1];
        for bits in 0..64 {
            let b = 1u64 << bits;
            for d in 0..2000u64 {
                values.extend([b.wrapping_add(d), b.wrapping_sub(d), (b / 1000) * 1000 + d]);
            }
        }
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.extend([x, x >> (x % 64)]);
        }
        for n in values {
            assert_eq!(seconds_up(n), n.div_ceil(1000), "{n}");
            assert_eq!(super::seconds_up_by_shifts(n), n.div_ceil(1000), "{n}");
        }
    }

    #[test]
    fn max_age_rounds_up_to_the_absolute_deadline() {
        assert_eq!(max_age_s(&T, 1_000), 20);
        assert_eq!(max_age_s(&T, 1_001), 20);
        assert_eq!(max_age_s(&T, 20_000), 1);
        assert_eq!(max_age_s(&T, 21_000), 0);
    }

    #[test]
    fn reuse_after_rotation_revokes_only_under_its_policy() {
        let r = reuse(Invalid::RotatedOut, RotatedReusePolicy::RevokeSession);
        assert_eq!(r.event, Some(EventKind::ReuseAfterRotation));
        assert!(r.revoke_successor);
        assert!(!reuse(Invalid::RotatedOut, RotatedReusePolicy::Report).revoke_successor);
        assert_eq!(
            reuse(Invalid::Evicted, RotatedReusePolicy::RevokeSession).event,
            None
        );
    }

    #[test]
    fn client_changes_follow_each_policy() {
        let mut c = Config {
            ip_policy: ClientPolicy::Enforce,
            user_agent_policy: ClientPolicy::Observe,
            ..Config::default()
        };
        let moved = client_check(&c, (1, 2), (Some(3), Some(4)));
        assert!(moved.ip_moved && moved.ua_moved && moved.reject);
        let unknown = client_check(&c, (0, 0), (Some(3), Some(4)));
        assert_eq!(unknown, ClientCheck::default());
        c.ip_policy = ClientPolicy::Off;
        let ua_only = client_check(&c, (1, 2), (Some(3), Some(4)));
        assert!(!ua_only.ip_moved && ua_only.ua_moved && !ua_only.reject);
    }

    #[test]
    fn the_principal_cap() {
        let mut c = Config {
            max_sessions_per_principal: 2,
            ..Config::default()
        };
        assert_eq!(login_room(&c, 1), LoginRoom::Admit);
        assert_eq!(login_room(&c, 2), LoginRoom::EvictLeastRecentlyUsed);
        c.principal_limit_policy = PrincipalLimitPolicy::Refuse;
        assert_eq!(login_room(&c, 2), LoginRoom::Refuse);
        c.max_sessions_per_principal = 0;
        assert_eq!(login_room(&c, 1_000), LoginRoom::Admit);
    }

    #[test]
    fn a_logged_in_users_dead_tokens_are_the_ones_kept() {
        assert!(keep_tombstone(Invalid::LoggedOut, true));
        assert!(keep_tombstone(Invalid::RotatedOut, true));
        assert!(!keep_tombstone(Invalid::LoggedOut, false));
        assert!(!keep_tombstone(Invalid::Expired(Expiry::Idle), true));
        assert_eq!(end_event(Invalid::RotatedOut), Some(EventKind::Revoked));
        assert_eq!(end_event(Invalid::ClientMismatch), None);
    }

    #[test]
    fn a_save_lands_only_on_the_session_it_loaded() {
        assert_eq!(save(3, Some((3, false))), SaveVerdict::Write);
        assert_eq!(save(3, Some((3, true))), SaveVerdict::Unchanged);
        assert_eq!(save(3, Some((4, false))), SaveVerdict::Drop);
        assert_eq!(save(3, None), SaveVerdict::Drop);
    }
}
