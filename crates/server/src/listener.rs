//! The listening socket and the process limits it depends on: a backlog larger than the
//! library default (a burst of connects must not be dropped and retried a second later),
//! and the soft open-files limit raised to the hard one, as servers commonly do, so that a
//! flood of idle connections cannot use up the descriptors a real request needs.

use socket2::{Domain, Protocol, Socket, Type};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// Descriptors kept aside for everything but client connections (log files, the usage
/// database, the keyring, the runtime itself).
const RESERVED_FDS: u64 = 128;
/// Connections allowed when the open-files limit leaves room for more.
const MAX_AUTO_CONNECTIONS: u64 = 8192;

/// Binds `addr` and listens with the given backlog (the kernel caps it, on Linux at
/// `net.core.somaxconn`).
pub fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<tokio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // A restart must not wait for the last connections' TIME_WAIT. Only on Unix: on Windows
    // the same flag lets another program take a port that is in use.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.clamp(1, i32::MAX as u32) as i32)?;
    tokio::net::TcpListener::from_std(socket.into())
}

/// The open-files limit before and after raising it (once per process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    pub before: u64,
    pub now: u64,
}

/// Raises the soft open-files limit to the hard limit; `None` where the platform has no
/// such limit or it cannot be read.
pub fn raise_fd_limit() -> Option<FdLimit> {
    static LIMIT: OnceLock<Option<FdLimit>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        #[cfg(unix)]
        {
            let (before, _hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?;
            let now = match rlimit::increase_nofile_limit(u64::MAX) {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "could not raise the open-files limit");
                    before
                }
            };
            Some(FdLimit { before, now })
        }
        #[cfg(not(unix))]
        {
            None
        }
    })
}

/// The connection cap: the configured one, or what the open-files limit leaves room for
/// (each proxied request holds two descriptors: the client's and the provider's).
pub fn connection_cap(configured: usize, fd: Option<FdLimit>) -> usize {
    if configured > 0 {
        return configured;
    }
    let room = fd
        .map(|l| l.now.saturating_sub(RESERVED_FDS) / 2)
        .unwrap_or(MAX_AUTO_CONNECTIONS);
    room.clamp(16, MAX_AUTO_CONNECTIONS) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_follows_the_descriptor_limit() {
        let fd = |now| Some(FdLimit { before: 1024, now });
        assert_eq!(connection_cap(0, fd(1024)), 448);
        assert_eq!(connection_cap(0, fd(1_048_576)), 8192);
        assert_eq!(connection_cap(0, fd(100)), 16);
        assert_eq!(connection_cap(0, None), 8192);
        assert_eq!(connection_cap(50, fd(1024)), 50);
    }

    #[tokio::test]
    async fn binds_with_a_backlog_and_refuses_a_port_in_use() {
        let l = bind("127.0.0.1:0".parse().unwrap(), 4096).unwrap();
        let addr = l.local_addr().unwrap();
        assert!(bind(addr, 16).is_err(), "a port in use must be refused");
        drop(l);
        // Free again at once.
        bind(addr, 16).unwrap();
    }
}
