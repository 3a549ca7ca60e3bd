//! A conversation lives as long as it goes on: each turn saved renews the expiry of the turns
//! before it, while a turn nobody continues expires. Against a real `redis-server` (Debian's,
//! `PLUGBOARD_REDIS_SERVER`), with a two-second expiry.

use plugboard_e2e::gateway::RedisServer;
use plugboard_server::{SharedState, StoredTurn};
use plugboard_state_redis::{RedisOptions, RedisState};
use std::time::Duration;

fn turn(parent: Option<&str>, earlier: &[&str]) -> StoredTurn {
    StoredTurn {
        parent: parent.map(str::to_string),
        items: vec![serde_json::json!({"type": "message", "role": "user", "content": "hi"})],
        owner: Some("alice".into()),
        earlier: earlier.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_that_goes_on_outlives_its_first_turns_expiry() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let opts = RedisOptions {
        ttl: Duration::from_secs(2),
        ..RedisOptions::default()
    };
    let store = RedisState::new(&redis.url(), opts).unwrap();
    store.save_turn("t1", turn(None, &[])).await.unwrap();
    store.save_turn("lone", turn(None, &[])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    store
        .save_turn("t2", turn(Some("t1"), &["t1"]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    store
        .save_turn("t3", turn(Some("t2"), &["t2", "t1"]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // 3.6 s after it was written, renewed at 1.2 and 2.4 s: still there, with its owner.
    let t1 = store
        .load_turn("t1")
        .await
        .unwrap()
        .expect("the first turn was renewed");
    assert_eq!(t1.owner.as_deref(), Some("alice"));
    assert!(t1.earlier.is_empty(), "what to renew is not stored");
    assert!(store.load_turn("t2").await.unwrap().is_some());
    assert!(
        store.load_turn("lone").await.unwrap().is_none(),
        "a turn nobody continued expired"
    );
}
