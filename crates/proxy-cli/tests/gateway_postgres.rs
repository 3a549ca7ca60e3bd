//! A gateway's usage and users in PostgreSQL (from Debian, started by the test): tokens
//! issued into it, two replicas writing their rows to it attributed to each user, a budget
//! spent through one replica refused on the other, and an outage of the database that loses
//! no row.

mod common;
use common::{free_port, Replica};
use plugboard_e2e::gateway::PostgresServer;
use plugboard_e2e::{reply_as_asked, text_chunks, MockUpstream};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_plugboard-proxy");

fn cli(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .args(["--usage-db", url])
        .output()
        .unwrap()
}

async fn ask(port: u16, token: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .bearer_auth(token)
        .json(&serde_json::json!({"model": "gpt-5.5", "input": "hi", "stream": false}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let t = Instant::now();
    while !check().await {
        assert!(t.elapsed() < Duration::from_secs(20), "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn requests_of(url: &str, user: &str) -> i64 {
    let out = cli(url, &["usage", "--since-days", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(&format!("{user} ")))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<i64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_usage_users_and_budgets_in_postgres() {
    let Some(mut pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.url();
    let upstream =
        MockUpstream::start(|body, _| reply_as_asked(body, text_chunks(&["pg answer"]))).await;
    let add = |name: &str| {
        let out = cli(&url, &["users", "add", name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (alice, bob) = (add("alice"), add("bob"));
    assert!(cli(&url, &["users", "budget", "bob", "0.000001"])
        .status
        .success());
    assert!(cli(&url, &["users", "budget", "alice", "100"])
        .status
        .success());

    let (p1, p2) = (free_port(), free_port());
    let r1 = Replica::start(p1, &upstream.base_url(), &["--usage-db", &url]);
    let r2 = Replica::start(p2, &upstream.base_url(), &["--usage-db", &url]);

    // Alice through both replicas, bob spends his budget through replica 1.
    assert_eq!(ask(p1, &alice).await.0, 200);
    assert_eq!(ask(p2, &alice).await.0, 200);
    assert_eq!(ask(p1, &bob).await.0, 200);
    until("bob refused on replica 2", || async {
        ask(p2, &bob).await.0 == 429
    })
    .await;
    let (_, refused) = ask(p1, &bob).await;
    assert_eq!(refused["error"]["code"], "insufficient_quota", "{refused}");
    until("three rows for alice and bob", || async {
        requests_of(&url, "alice") == 2 && requests_of(&url, "bob") >= 1
    })
    .await;
    let list = String::from_utf8(cli(&url, &["users", "list"]).stdout).unwrap();
    assert!(
        list.contains("alice") && list.contains("100.00") && list.contains("bob"),
        "{list}"
    );

    // PostgreSQL down: alice is still served (her spend checked against the last read),
    // replica 1 says it is not ready once a write failed, and the rows wait in memory.
    pg.stop();
    for _ in 0..3 {
        assert_eq!(ask(p1, &alice).await.0, 200);
    }
    until("replica 1 not ready", || async {
        let r = reqwest::get(format!("http://127.0.0.1:{p1}/ready"))
            .await
            .unwrap();
        r.status() == 503 && r.text().await.unwrap().contains("usage store")
    })
    .await;
    assert!(
        r1.logs().contains("usage rows not written: kept in memory"),
        "{}",
        r1.logs()
    );
    // Back: the waiting rows are written, the replica is ready again.
    pg.resume();
    until("the rows written during the outage arrive", || async {
        requests_of(&url, "alice") == 5
    })
    .await;
    until("replica 1 ready", || async {
        reqwest::get(format!("http://127.0.0.1:{p1}/ready"))
            .await
            .unwrap()
            .status()
            == 200
    })
    .await;
    assert!(
        r1.logs().contains("usage rows written again"),
        "{}",
        r1.logs()
    );
    for logs in [r1.logs(), r2.logs()] {
        assert!(
            !logs.contains(&alice) && !logs.contains(&bob),
            "a token in a log"
        );
    }
}
