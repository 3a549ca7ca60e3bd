//! The usage database on real files: rows for every kind of request, costs, migration from
//! the previous schema, concurrent writers, retention.

use plugboard_core::{RequestRecord, UsageSink};
use plugboard_usage::db::LogFilter;
use plugboard_usage::{PriceTable, UsageDb, UsageRecorder};
use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("plugboard-usage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d.join("usage.sqlite")
}

fn record(
    provider: &str,
    model: &str,
    status: &str,
    input: u64,
    output: u64,
    stream: bool,
) -> RequestRecord {
    RequestRecord {
        ts_ms: 1_795_500_000_000,
        request_id: format!("req_{provider}_{status}"),
        attempt: 1,
        route: None,
        model: "gpt-5.5".into(),
        provider: provider.into(),
        upstream_model: model.into(),
        status: status.into(),
        error_class: (status != "completed").then(|| "upstream_unreachable".into()),
        input_tokens: input,
        cached_tokens: input / 2,
        output_tokens: output,
        reasoning_tokens: output / 4,
        first_event_ms: Some(12.5),
        total_ms: 250.0,
        stream,
        local: provider == "local",
        session: None,
        user: None,
    }
}

#[test]
fn rows_costs_summaries_and_filters() {
    let p = path("rows");
    let rec = UsageRecorder::open(&p, PriceTable::with_overrides(&Default::default())).unwrap();
    rec.record(record(
        "deepseek",
        "deepseek-chat",
        "completed",
        1_000_000,
        200_000,
        true,
    ));
    rec.record(record(
        "deepseek",
        "deepseek-chat",
        "completed",
        500_000,
        100_000,
        false,
    ));
    rec.record(record(
        "openai",
        "gpt-5.5",
        "completed",
        100_000,
        10_000,
        true,
    ));
    rec.record(record("local", "qwen3-coder:30b", "error_502", 0, 0, true));
    rec.flush();

    let db = UsageDb::open(&p).unwrap();
    let rows = db.recent(10, &LogFilter::default()).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows.iter()
            .filter(|r| r.local)
            .map(|r| r.provider.as_str())
            .collect::<Vec<_>>(),
        ["local"],
        "which requests stayed local is kept"
    );
    assert!(
        rows.iter().any(|r| !r.stream),
        "non-streaming requests are recorded"
    );
    let ds: Vec<_> = rows.iter().filter(|r| r.provider == "deepseek").collect();
    // 500k fresh input at 0.28, 500k cached at 0.028, 200k output at 0.42 (per million).
    let first = ds.iter().find(|r| r.input_tokens == 1_000_000).unwrap();
    assert!(
        (first.cost_usd - (0.14 + 0.014 + 0.084)).abs() < 1e-9,
        "{}",
        first.cost_usd
    );
    let failed = db
        .recent(
            10,
            &LogFilter {
                status: Some("error_502".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].error_class.as_deref(),
        Some("upstream_unreachable")
    );
    assert_eq!(
        db.recent(
            10,
            &LogFilter {
                model: Some("deepseek-chat".into()),
                ..Default::default()
            }
        )
        .unwrap()
        .len(),
        2
    );

    let days = db.daily(0).unwrap();
    assert_eq!(days.len(), 3, "one row per provider on that day");
    let lat = db.latency(0).unwrap();
    assert!(lat.iter().all(|l| l.first_event_p50_ms == 12.5));

    let s = db.summary(0, &rec.prices(), "gpt-5.5").unwrap();
    assert_eq!((s.requests, s.failed), (4, 1));
    assert!(
        s.cost_if_compare_usd > s.cost_usd && s.saved_usd > 0.0,
        "{s:?}"
    );
}

#[test]
fn the_previous_schema_is_migrated_in_place() {
    let p = path("migrate");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let old = UsageDb::create_v1(&p).unwrap();
    old.execute(
        "INSERT INTO requests (ts, request_id, model, provider, upstream_model, status, input_tokens, output_tokens, first_event_ms, total_ms, stream)
         VALUES (1, 'req_old', 'gpt-5.5', 'deepseek', 'deepseek-chat', 'completed', 10, 5, 3.0, 9.0, 1)",
        [],
    )
    .unwrap();
    drop(old);
    let db = UsageDb::open(&p).unwrap();
    let rows = db.recent(10, &LogFilter::default()).unwrap();
    assert_eq!(rows.len(), 1, "old rows survive");
    assert_eq!(
        (
            rows[0].request_id.as_str(),
            rows[0].attempt,
            rows[0].cached_tokens
        ),
        ("req_old", 1, 0)
    );
    db.insert(
        &[record(
            "deepseek",
            "deepseek-chat",
            "completed",
            10,
            5,
            true,
        )],
        &PriceTable::default(),
    )
    .unwrap();
    assert_eq!(db.recent(10, &LogFilter::default()).unwrap().len(), 2);
}

#[test]
fn concurrent_writers_lose_nothing() {
    let p = path("concurrent");
    let a = UsageRecorder::open(&p, PriceTable::default()).unwrap();
    let b = UsageRecorder::open(&p, PriceTable::default()).unwrap();
    let threads: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .map(|rec| {
            std::thread::spawn(move || {
                for _ in 0..250 {
                    rec.record(record("deepseek", "deepseek-chat", "completed", 1, 1, true));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    a.flush();
    b.flush();
    let s = UsageDb::open(&p)
        .unwrap()
        .summary(0, &PriceTable::default(), "gpt-5.5")
        .unwrap();
    assert_eq!(s.requests, 1000);
}

#[test]
fn retention_prunes_old_rows_and_newer_schemas_are_refused() {
    let p = path("prune");
    let db = UsageDb::open(&p).unwrap();
    let mut old = record("x", "m", "completed", 1, 1, true);
    old.ts_ms = 0;
    db.insert(
        &[old, record("x", "m", "completed", 1, 1, true)],
        &PriceTable::default(),
    )
    .unwrap();
    assert_eq!(db.prune(30, 1_795_500_000_000).unwrap(), 1);
    drop(db);
    let conn = rusqlite_free_open(&p);
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(UsageDb::open(&p)
        .err()
        .unwrap()
        .to_string()
        .contains("newer"));
}

fn rusqlite_free_open(p: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(p).unwrap()
}

/// A hybrid session (GPT plans, DeepSeek executes) and a GPT-only one, plus rows without a
/// session: each session's split by provider and what it would have cost all on its planner.
#[test]
fn a_sessions_mix_is_priced_against_its_planner() {
    let p = path("sessions");
    let prices = PriceTable::with_overrides(&Default::default());
    let db = UsageDb::open(&p).unwrap();
    let row =
        |session: Option<&str>, provider: &str, model: &str, input: u64, output: u64, at: u64| {
            RequestRecord {
                ts_ms: 1_795_500_000_000 + at,
                session: session.map(str::to_string),
                cached_tokens: 0,
                ..record(provider, model, "completed", input, output, true)
            }
        };
    db.insert(
        &[
            row(
                Some("thread-hybrid"),
                "openai",
                "gpt-5.5",
                100_000,
                10_000,
                1,
            ),
            row(
                Some("thread-hybrid"),
                "deepseek",
                "deepseek-chat",
                400_000,
                40_000,
                2,
            ),
            row(
                Some("thread-hybrid"),
                "deepseek",
                "deepseek-chat",
                500_000,
                50_000,
                3,
            ),
            row(Some("thread-gpt"), "openai", "gpt-5.5", 200_000, 20_000, 4),
            row(None, "openai", "gpt-5.5", 1_000_000, 1_000_000, 5),
        ],
        &prices,
    )
    .unwrap();
    let sessions = db.sessions(0, 10, &prices).unwrap();
    assert_eq!(sessions.len(), 2, "rows without a session are no session");
    // Newest first.
    let gpt = &sessions[0];
    assert_eq!(gpt.session, "thread-gpt");
    assert!(
        (gpt.saved_usd).abs() < 1e-9,
        "all on the planner saves nothing"
    );
    let h = &sessions[1];
    assert_eq!(h.session, "thread-hybrid");
    assert_eq!(h.requests, 3);
    assert_eq!(h.planner_model.as_deref(), Some("gpt-5.5"));
    assert_eq!(h.parts[0].provider, "openai", "the dearest first");
    assert_eq!(h.parts[1].requests, 2);
    // gpt-5.5 at 1.25/10 per million, deepseek-chat at 0.28/0.42.
    let actual = (100_000.0 * 1.25 + 10_000.0 * 10.0 + 900_000.0 * 0.28 + 90_000.0 * 0.42) / 1e6;
    let all_gpt = (1_000_000.0 * 1.25 + 100_000.0 * 10.0) / 1e6;
    assert!(
        (h.cost_usd - actual).abs() < 1e-9,
        "{} vs {actual}",
        h.cost_usd
    );
    assert!((h.cost_if_planner_usd - all_gpt).abs() < 1e-9);
    assert!((h.saved_usd - (all_gpt - actual)).abs() < 1e-9);
    assert!(
        h.saved_usd > 1.5,
        "the mix saved most of the bill: {}",
        h.saved_usd
    );
}
