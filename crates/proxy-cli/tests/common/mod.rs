//! What the binary's tests share beyond the workspace's test kit: reading the proxy's output
//! up to a line.

pub use plugboard_e2e::free_port;
use std::io::BufRead;

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
