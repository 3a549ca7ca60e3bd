//! The instruction and allocation counter runs, and counts what it should: a request through
//! Plugboard costs more than the same request straight to the upstream, and the figures come
//! out as a table. (A smoke run: two requests, a debug build; the figures worth writing down
//! come from `scripts/bench.sh`.) Needs Valgrind, which `scripts/test.sh` installs.

#[test]
fn instructions_and_allocations_are_counted_per_path() {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").is_err(),
            "valgrind is missing: scripts/test.sh installs it"
        );
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plugboard-counts"))
        .args(["--requests", "2", "--paths", "direct-chat,translated"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |path: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.starts_with(&format!("| {path} |")))
            .unwrap_or_else(|| panic!("no `{path}` row in:\n{text}"))
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let kinstr = |cell: &str| cell.trim_end_matches(" k").parse::<f64>().unwrap();
    let (direct, translated) = (row("direct-chat"), row("translated"));
    assert!(kinstr(&direct[2]) > 0.0, "{text}");
    assert!(kinstr(&translated[2]) > kinstr(&direct[2]), "{text}");
    assert!(
        kinstr(&translated[3]) > 0.0,
        "Plugboard's own share: {text}"
    );
    let allocs: f64 = translated[5].parse().unwrap();
    assert!(allocs > 0.0, "{text}");
}
