//! The real Codex CLI with real MCP servers (installed from npm ahead of the test, run
//! offline): Notion's server, whose schemas use `$defs`/`$ref`, and the sequential-thinking
//! server, whose schemas use type arrays. The scripted provider refuses any schema DeepSeek,
//! Kimi or Gemini would refuse. With a model slug Codex knows (`gpt-5.5`), the MCP tools are
//! deferred: the model finds one through `tool_search` and calls it. With `-m deepseek-chat`
//! they arrive inline. The session completes both ways.
//!
//! `CODEX_BIN` and `PLUGBOARD_MCP_SERVERS` (a folder with the servers' node_modules) come from
//! the project's test script; without them the test fails, unless `PLUGBOARD_SKIP_EXTERNAL=1`.

use plugboard_e2e::codex::*;
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the strict provider answers: 400 on a schema it refuses; else the MCP thinking tool
/// once it is declared, `tool_search` while it is not, and a final answer after the result.
fn strict_provider(body: &Value, refused: &Mutex<Vec<String>>) -> Reply {
    let problems = strict_schema_problems(body);
    if !problems.is_empty() {
        refused.lock().unwrap().extend(problems.iter().cloned());
        return Reply::Raw {
            status: 400,
            headers: vec![("content-type", "application/json".into())],
            body: json!({"error": {"message": format!("Invalid schema for function: {}", problems[0]), "type": "invalid_request_error"}}).to_string(),
        };
    }
    let declared: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
        .collect();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let answered = |prefix: &str| {
        messages.iter().any(|m| {
            m["role"] == "tool"
                && messages.iter().any(|a| {
                    a["tool_calls"].as_array().into_iter().flatten().any(|c| {
                        c["id"] == m["tool_call_id"]
                            && c["function"]["name"]
                                .as_str()
                                .is_some_and(|n| n.contains(prefix))
                    })
                })
        })
    };
    if answered("sequentialthinking") {
        return Reply::Sse(text_chunks(&["DONE-", "MCP"]));
    }
    if let Some(thinking) = declared.iter().find(|n| n.contains("sequentialthinking")) {
        let args = json!({"thought": "Plan the work.", "nextThoughtNeeded": false, "thoughtNumber": 1, "totalThoughts": 1});
        return Reply::Sse(tool_call_chunks(
            None,
            "call_think",
            thinking,
            &args.to_string(),
        ));
    }
    if declared.iter().any(|n| n == "tool_search") && !answered("tool_search") {
        return Reply::Sse(tool_call_chunks(
            None,
            "call_search",
            "tool_search",
            r#"{"query": "sequential thinking", "limit": 4}"#,
        ));
    }
    Reply::Sse(text_chunks(&["no MCP tool was offered"]))
}

fn external(var: &str) -> Option<PathBuf> {
    external_tool(var).map(PathBuf::from)
}

/// The MCP servers' tables for Codex's config. Codex does not wait for an optional server
/// beyond a one-second grace before its first request: a Node server slower than that on a
/// busy machine left its tools out of the session (seen in CI runs). `required` makes
/// `codex exec` wait for each server (up to its start-up timeout) before the first turn.
fn mcp_servers(servers: &Path) -> String {
    let bin = servers.join("node_modules/.bin");
    format!(
        r#"
[mcp_servers.thinking]
command = "{thinking}"
startup_timeout_sec = 60
required = true

[mcp_servers.notion]
command = "{notion}"
env = {{ NOTION_TOKEN = "ntn_offline_test" }}
startup_timeout_sec = 60
required = true
"#,
        thinking = bin.join("mcp-server-sequential-thinking").display(),
        notion = bin.join("notion-mcp-server").display(),
    )
}

async fn codex(bin: &Path, home: &Path, args: &[&str]) -> (bool, String, String) {
    let run = codex_exec(bin, home, &home.join("work"), args).await;
    (run.ok, run.stdout, run.stderr)
}

#[tokio::test]
async fn codex_finds_and_calls_real_mcp_tools_through_a_strict_provider() {
    let (Some(bin), Some(servers)) = (external("CODEX_BIN"), external("PLUGBOARD_MCP_SERVERS"))
    else {
        return;
    };
    for (case, args) in [
        ("deferred", vec!["think about it"]),
        ("inline", vec!["-m", "deepseek-chat", "think about it"]),
    ] {
        let refused = Arc::new(Mutex::new(Vec::new()));
        let seen = refused.clone();
        let mock = MockUpstream::start(move |body, _| strict_provider(body, &seen)).await;
        let proxy = start_proxy(one_provider(&mock.base_url()), "sk-mcp").await;
        let home = codex_dir(
            Path::new(env!("CARGO_TARGET_TMPDIR")),
            &format!("mcp-{case}"),
        );
        write_config(
            &home.join("codex-home"),
            &proxy.base_url(),
            &mcp_servers(&servers),
        );
        let (ok, stdout, stderr) = codex(&bin, &home, &args).await;
        let chats: Vec<Value> = mock.requests().into_iter().map(|r| r.body).collect();
        let summary: Vec<Vec<String>> = chats
            .iter()
            .map(|c| {
                c["tools"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
                    .filter(|n| n.starts_with("mcp__") || n == "tool_search")
                    .collect()
            })
            .collect();
        assert!(
            refused.lock().unwrap().is_empty(),
            "{case}: schemas refused: {:?}",
            refused.lock().unwrap()
        );
        assert!(ok && stdout.contains("DONE-MCP"), "{case}: the session did not complete\nrequests' MCP tools: {summary:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        // The thinking server really answered the call.
        let last = chats.last().unwrap();
        let result = last["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["tool_call_id"] == "call_think")
            .expect("the MCP tool's result");
        assert!(
            result["content"].to_string().contains("thoughtNumber"),
            "{case}: {result}"
        );
        if case == "deferred" {
            assert!(
                summary[0].iter().any(|n| n == "tool_search"),
                "{case}: {summary:?}"
            );
            assert!(
                !summary[0].iter().any(|n| n.contains("sequentialthinking")),
                "deferred at first: {summary:?}"
            );
        } else {
            assert!(
                summary[0].iter().any(|n| n.starts_with("mcp__notion__")),
                "Notion's tools inline: {summary:?}\nstderr:\n{stderr}"
            );
        }
        proxy.stop().await;
    }
}

/// The same inline session with the schema rules switched off: the strict provider refuses
/// the real servers' schemas, so the test above would notice if the rules stopped working.
#[tokio::test]
async fn without_the_schema_rules_the_strict_provider_refuses_the_servers_schemas() {
    let (Some(bin), Some(servers)) = (external("CODEX_BIN"), external("PLUGBOARD_MCP_SERVERS"))
    else {
        return;
    };
    let refused = Arc::new(Mutex::new(Vec::new()));
    let seen = refused.clone();
    let mock = MockUpstream::start(move |body, _| strict_provider(body, &seen)).await;
    let mut settings = one_provider(&mock.base_url());
    let off: toml::Table = toml::from_str(
        "schema_object_root = false\nschema_inline_refs = false\nschema_single_types = false\nschema_drop = []",
    )
    .unwrap();
    settings.providers[0].dialect = off;
    let proxy = start_proxy(settings, "sk-mcp").await;
    let home = codex_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "mcp-off");
    write_config(
        &home.join("codex-home"),
        &proxy.base_url(),
        &mcp_servers(&servers),
    );
    let (ok, stdout, _) = codex(&bin, &home, &["-m", "deepseek-chat", "think about it"]).await;
    let refused = refused.lock().unwrap().clone();
    assert!(
        !ok && !stdout.contains("DONE-MCP"),
        "the session must fail without the rules"
    );
    assert!(
        refused
            .iter()
            .any(|p| p.contains("$ref") || p.contains("$defs")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|p| p.contains("got 'type: [")),
        "type arrays: {refused:?}"
    );
    proxy.stop().await;
}
