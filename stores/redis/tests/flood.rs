//! Flooding the shared store: anonymous sessions created at ten times capacity never cost
//! a logged-in user their session (the capacity policy: only anonymous sessions are
//! evicted, the one CLOCK picks), and a newcomer can still log in.

mod support;

use sessile::{Client, Config, Invalid, Store};

const NONE: &Client<'static> = &Client::NONE;

#[test]
fn anonymous_flood_never_evicts_logged_in_sessions() {
    let (url, _server) = support::server();
    let capacity = 40u32;
    let config = Config {
        capacity,
        ..Config::default()
    };
    let mut s = support::store(&url, "flood", config);
    let mut users = Vec::new();
    for u in 0..10u32 {
        let (anon, _) = s.create(0, NONE).unwrap();
        let (t, h) = s
            .login(anon.as_bytes(), format!("user{u}").as_bytes(), 0)
            .unwrap();
        s.write(h.handle, format!("data of {u}").as_bytes(), 0)
            .unwrap();
        users.push(t);
    }
    // Used along the way, as a visitor's session would be: the hand passes it (its
    // second chance) and takes one that was not.
    let (kept, _) = s.create(1, NONE).unwrap();
    let mut flood = Vec::new();
    for n in 0..10 * u64::from(capacity) {
        let (t, _) = s.create(2 + n, NONE).unwrap();
        flood.push(t);
        s.validate(kept.as_bytes(), 2 + n, NONE).unwrap();
    }
    let now = 2 + 10 * u64::from(capacity);
    let st = s.stats();
    assert_eq!(st.live, capacity);
    assert_eq!(st.authenticated, 10);
    assert_eq!(
        st.evictions,
        10 * u64::from(capacity) + 11 - u64::from(capacity)
    );
    for (u, t) in users.iter().enumerate() {
        let got = s
            .validate(t.as_bytes(), now, NONE)
            .expect("a logged-in session survives the flood");
        assert_eq!(
            got.principal.unwrap().as_bytes(),
            format!("user{u}").as_bytes()
        );
        let mut out = [0u8; 32];
        let n = s.read(got.handle, &mut out, now).unwrap();
        assert_eq!(&out[..n], format!("data of {u}").as_bytes());
    }
    assert!(s.validate(kept.as_bytes(), now, NONE).is_ok());
    // The first of the flood went long ago (its tombstone too, from the churn ring).
    assert!(matches!(
        s.validate(flood[0].as_bytes(), now, NONE),
        Err(sessile::Error::Session(Invalid::Evicted | Invalid::Unknown))
    ));
    // A newcomer still gets a session and logs in during the flood.
    let (anon, _) = s.create(now, NONE).unwrap();
    let (t, _) = s.login(anon.as_bytes(), b"latecomer", now).unwrap();
    assert!(s.validate(t.as_bytes(), now + 1, NONE).is_ok());
}
