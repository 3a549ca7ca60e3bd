//! A team gateway as a team lead sets it up: Redis from Debian for the conversations, one
//! usage database with the users, two `plugboard-proxy` replicas, and the project's nginx
//! configuration in front. The openai SDK continues one conversation with
//! `previous_response_id` while nginx alternates replicas, a replica is killed mid-session,
//! the real Codex CLI works through it with a user's token, and Redis goes down and comes
//! back.

mod common;
use common::{free_port, Replica};
use plugboard_e2e::gateway::{Nginx, RedisServer};
use plugboard_e2e::{
    external_tool, reply_as_asked, run_client_script, text_chunks, tool_call_chunks, MockUpstream,
    Reply,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_plugboard-proxy");
fn user_messages(body: &Value) -> usize {
    body["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["role"] == "user").count())
        .unwrap_or(0)
}

fn tool_results(body: &Value) -> usize {
    body["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["role"] == "tool").count())
        .unwrap_or(0)
}

/// The openai SDK's turns through the gateway: (response ids, texts).
async fn sdk_turns(
    python: &str,
    base: &str,
    token: &str,
    previous: &str,
    turns: usize,
    first: usize,
) -> (Vec<String>, Vec<String>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/gateway_turns.py");
    let out = run_client_script(
        python,
        &script,
        &[
            base.into(),
            token.into(),
            previous.into(),
            turns.to_string(),
            first.to_string(),
        ],
    )
    .await;
    let strings = |k: &str| -> Vec<String> {
        out[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    (strings("ids"), strings("texts"))
}

async fn ready(port: u16) -> (u16, Value) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/ready"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_alternates_replicas_survives_one_and_a_redis_outage() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (Some(python), Some(codex)) = (
        external_tool("PLUGBOARD_PYTHON"),
        plugboard_e2e::codex::codex_bin(),
    ) else {
        return;
    };
    let upstream = MockUpstream::start(|body, _| {
        let codex = body["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "exec_command"));
        if codex {
            return match tool_results(body) {
                0 => Reply::Sse(tool_call_chunks(
                    None,
                    "call_gw",
                    "exec_command",
                    r#"{"cmd": "echo gateway > gw.txt"}"#,
                )),
                _ => Reply::Sse(text_chunks(&["GATEWAY ", "DONE"])),
            };
        }
        let seen = format!("seen {}", user_messages(body));
        reply_as_asked(body, text_chunks(&[&seen]))
    })
    .await;
    let home = plugboard_e2e::TempHome::new("gateway");
    let db = home.root.join("team-usage.sqlite");
    let out = Command::new(BIN)
        .args(["users", "add", "alice", "--usage-db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let (p1, p2) = (free_port(), free_port());
    let db_arg = db.display().to_string();
    let shared = ["--state", &redis.url(), "--usage-db", &db_arg];
    let r1 = Replica::start(p1, &upstream.base_url(), &shared);
    let r2 = Replica::start(p2, &upstream.base_url(), &shared);
    let Some(nginx) = Nginx::start(&[p1, p2]) else {
        return;
    };
    assert_eq!(ready(p1).await.0, 200);

    // Three turns, nginx alternating replicas: each turn sees the whole conversation.
    let (ids, texts) = sdk_turns(&python, &nginx.base_url(), &token, "-", 3, 1).await;
    assert_eq!(texts, ["seen 1", "seen 2", "seen 3"]);
    assert!(
        r1.served() >= 1 && r2.served() >= 1,
        "both replicas served: {} and {}",
        r1.served(),
        r2.served()
    );
    assert!(redis.keys() > 0, "the turns are in Redis");

    // The real Codex CLI through the gateway, with alice's token in the variable `env_key`
    // names: a tool call and the answer after it, whichever replica each lands on.
    std::env::set_var("PLUGBOARD_GATEWAY_TOKEN", &token);
    let dir = plugboard_e2e::codex::codex_dir(&home.root, "gateway");
    plugboard_e2e::codex::write_config(
        &dir.join("codex-home"),
        &nginx.base_url(),
        "env_key = \"PLUGBOARD_GATEWAY_TOKEN\"\n",
    );
    let run =
        plugboard_e2e::codex::codex_exec(&codex, &dir, &dir.join("work"), &["write the file"])
            .await;
    assert!(
        run.ok && run.stdout.contains("GATEWAY DONE"),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("work/gw.txt"))
            .unwrap()
            .trim(),
        "gateway"
    );

    // Replica 1 killed mid-session (its rows written first): the session goes on on replica 2,
    // which reads the turns replica 1 served from Redis.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut r1 = r1;
    r1.kill();
    let before = r2.served();
    let (more, texts) = sdk_turns(&python, &nginx.base_url(), &token, &ids[2], 2, 4).await;
    assert_eq!(texts, ["seen 4", "seen 5"]);
    assert_eq!(r2.served(), before + 2);
    assert!(!r2.logs().contains("previous_response_not_found"));

    // Every turn is attributed to alice in the one database, whichever replica served it.
    let t = Instant::now();
    loop {
        let rows = plugboard_usage::UsageDb::open(&db)
            .unwrap()
            .spend_by_user(0)
            .unwrap();
        let alice: i64 = rows
            .iter()
            .filter(|r| r.user == "alice")
            .map(|r| r.requests)
            .sum();
        // Five SDK turns and Codex's two requests.
        if alice >= 7 {
            assert_eq!(alice, 7, "{rows:?}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "{rows:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Redis down: not ready, yet a new conversation is served and continued on this replica.
    redis.stop();
    let (status, body) = ready(p2).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["problems"].to_string().contains("shared state store"),
        "{body}"
    );
    let (ids2, texts) = sdk_turns(
        &python,
        &format!("http://127.0.0.1:{p2}/v1"),
        &token,
        "-",
        2,
        1,
    )
    .await;
    assert_eq!(texts, ["seen 1", "seen 2"]);
    assert!(
        r2.logs().contains("not written to the shared state store"),
        "{}",
        r2.logs()
    );
    // Back: ready again, and what was served meanwhile stays continuable here.
    redis.resume();
    let t = Instant::now();
    while ready(p2).await.0 != 200 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "not ready after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, texts) = sdk_turns(&python, &nginx.base_url(), &token, &ids2[1], 1, 3).await;
    assert_eq!(texts, ["seen 3"]);
    drop(more);

    // The metrics say who used what; no token ever reached a log.
    let metrics = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{p2}/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "plugboard_requests_total{provider=\"upstream\",status=\"completed\",user=\"alice\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("plugboard_request_duration_seconds_bucket"),
        "{metrics}"
    );
    for logs in [r1.logs(), r2.logs()] {
        assert!(!logs.contains(&token), "a token in a log");
    }
    let sent = upstream.requests();
    assert!(
        sent.iter()
            .all(|r| !format!("{:?}", r.headers).contains(&token)),
        "a token sent to the provider"
    );
}
