//! What the binary's tests share: a free port, and reading the proxy's output up to a line.

use std::io::BufRead;

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Reads the proxy's stdout until what it printed contains `needle`; everything read. The
/// proxy ending its output first fails the test with what it did print.
pub fn read_until(stdout: &mut impl BufRead, needle: &str) -> String {
    let mut printed = String::new();
    while !printed.contains(needle) {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the proxy stopped printing before `{needle}`: {printed}"
        );
        printed.push_str(&line);
    }
    printed
}
