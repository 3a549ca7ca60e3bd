//! A team gateway's shared parts, started by a test from the Debian packages the project's
//! test script installs: Redis (`PLUGBOARD_REDIS_SERVER`) and nginx (`PLUGBOARD_NGINX`) in
//! front of the replicas, each on a free loopback port, gone when dropped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of its own: no persistence, loopback only.
pub struct RedisServer {
    bin: String,
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// `None` when the tool is not installed and external tools may be skipped.
    pub fn start() -> Option<RedisServer> {
        let bin = crate::external_tool("PLUGBOARD_REDIS_SERVER")?;
        let mut r = RedisServer {
            bin,
            port: crate::free_port(),
            child: None,
        };
        r.resume();
        Some(r)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Stops it (as an outage would).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn resume(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let t = Instant::now();
        while !self.answers() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "redis-server did not answer"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether it answers PING.
    pub fn answers(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// How many keys it holds.
    pub fn keys(&self) -> usize {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(b"DBSIZE\r\n").unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[1..n]).trim().parse().unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// nginx in front of the replicas, with the project's own configuration
/// (`packaging/nginx/plugboard-gateway.conf`): its upstream ports and listen port replaced.
pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Nginx {
    pub fn start(replicas: &[u16]) -> Option<Nginx> {
        let bin = crate::external_tool("PLUGBOARD_NGINX")?;
        let port = crate::free_port();
        let dir =
            std::env::temp_dir().join(format!("plugboard-nginx-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let shipped =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/nginx/plugboard-gateway.conf");
        let mut site = std::fs::read_to_string(&shipped).expect("the packaged nginx configuration");
        assert!(
            site.contains("server 127.0.0.1:15731") && site.contains("listen 8080;"),
            "{site}"
        );
        let servers: String = replicas
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n"))
            .collect();
        let start = site.find("    server 127.0.0.1:15731").unwrap();
        let end = site[start..].find('}').unwrap() + start;
        site.replace_range(start..end, &servers);
        let site = site.replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
        let conf = format!(
            "daemon off;\nmaster_process off;\nerror_log {logs}/error.log warn;\npid {logs}/nginx.pid;\nevents {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {logs}/body;\n  proxy_temp_path {logs}/proxy;\n  fastcgi_temp_path {logs}/fastcgi;\n  uwsgi_temp_path {logs}/uwsgi;\n  scgi_temp_path {logs}/scgi;\n{site}\n}}\n",
            logs = dir.join("logs").display()
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Nginx { child, port, dir })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL server of its own, from the Debian package's binaries
/// (`PLUGBOARD_PG_BIN`, their folder): a fresh cluster in a temporary folder, trust
/// authentication on loopback, the `plugboard` role. Run as the `postgres` account when the
/// tests run as root (PostgreSQL refuses root).
pub struct PostgresServer {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PostgresServer {
    pub fn start() -> Option<PostgresServer> {
        let bin = PathBuf::from(crate::external_tool("PLUGBOARD_PG_BIN")?);
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!("plugboard-pg-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if running_as_root() {
            assert!(Command::new("chown")
                .arg("postgres:")
                .arg(&dir)
                .status()
                .unwrap()
                .success());
        }
        let data = dir.join("data");
        let out = Self::command(&bin.join("initdb"))
            .current_dir(std::env::temp_dir())
            .arg("-D")
            .arg(&data)
            .args(["-U", "plugboard", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = PostgresServer {
            bin,
            dir,
            port,
            child: None,
        };
        pg.resume();
        Some(pg)
    }

    /// `program` as the `postgres` account when running as root (no wrapper process: the
    /// server's signals reach it).
    fn command(program: &Path) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(program);
        if running_as_root() {
            let id = |flag: &str| -> u32 {
                let out = Command::new("id")
                    .args([flag, "postgres"])
                    .output()
                    .expect("id runs");
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("a postgres account")
            };
            c.gid(id("-g")).uid(id("-u"));
        }
        c
    }

    pub fn url(&self) -> String {
        format!("postgres://plugboard@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it (as an outage would); its data stays.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGINT: PostgreSQL's fast shutdown.
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    /// Starts it (again) on the same port and data.
    pub fn resume(&mut self) {
        let child = Self::command(&self.bin.join("postgres"))
            .current_dir(std::env::temp_dir())
            .arg("-D")
            .arg(self.dir.join("data"))
            .args([
                "-p",
                &self.port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ])
            .arg("-k")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let t = Instant::now();
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "PostgreSQL did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
