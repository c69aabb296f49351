//! A session endpoint (leader and joiner) fed arbitrary frames: no panic,
//! and nothing forged is delivered as a message.
#![no_main]

use fernhand_e2e::testing::with_seed;
use fernhand_e2e::{Policy, Suite, Verifier, VerifierStore};
use fernhand_protocol::{Endpoint, EndpointConfig, Event, MemberId, SessionId};
use libfuzzer_sys::fuzz_target;
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    with_seed(9, || {
        let suite = Suite::ClassicSrp1024Aes128HmacSha1;
        let policy = Policy::only(&[suite]);
        let session = SessionId([7; 16]);
        let mut store = VerifierStore::new(policy.clone());
        store.insert(Verifier::new(&policy, b"code:123456", b"789012").unwrap());
        let mut leader = Endpoint::leader(session, MemberId(1), suite, store, EndpointConfig::default()).unwrap();
        let mut joiner =
            Endpoint::joiner(session, MemberId(2), MemberId(1), policy, b"code:123456", b"000000", EndpointConfig::default())
                .unwrap();
        let now = Instant::now();
        for chunk in data.split(|b| *b == 0xff) {
            leader.handle_frame(chunk, now);
            joiner.handle_frame(chunk, now);
        }
        for ep in [&mut leader, &mut joiner] {
            while let Some(e) = ep.poll_event() {
                assert!(!matches!(e, Event::Received { .. }), "forged frame delivered");
            }
        }
    });
});
