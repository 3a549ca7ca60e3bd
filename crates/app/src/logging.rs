//! The app's log: a daily-rotated file in the data dir (openable from the tray) plus stderr.

use std::path::{Path, PathBuf};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

const PREFIX: &str = "plugboard.log";

/// Starts logging; keep the guard alive for the app's lifetime so the file is flushed.
pub fn init(log_dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    std::fs::create_dir_all(log_dir).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(PREFIX)
        .max_log_files(7)
        .build(log_dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        EnvFilter::try_from_env("PLUGBOARD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_ansi(false).with_writer(writer))
        .with(fmt::layer().with_writer(std::io::stderr))
        .try_init()
        .ok()?;
    Some(guard)
}

/// Why "Open log file" opened nothing, in the words the window shows.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    #[error("No log file yet in {}", .0.display())]
    NoneYet(PathBuf),
    #[error("The log could not be opened ({reason}); it is at {}", .path.display())]
    NotOpened { path: PathBuf, reason: String },
}

/// The log file "Open log file" opens, or why there is none yet.
pub fn log_to_open(log_dir: &Path) -> Result<PathBuf, LogFileError> {
    latest_log(log_dir).ok_or_else(|| LogFileError::NoneYet(log_dir.to_path_buf()))
}

/// The newest log file, for "Open log file".
pub fn latest_log(log_dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(log_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}
