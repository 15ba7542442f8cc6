//! Sends the library's `log` records to the app's logger (Logcat, os_log). Records never
//! carry tokens: the library logs generations and outcomes, not secrets.

use std::sync::{Arc, RwLock};

use once_cell::sync::OnceCell;

use crate::error::CallbackError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    pub level: LogLevel,
    pub target: String,
    pub message: String,
}

/// The app's log sink. Called on whatever thread logs; keep it quick.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    fn log(&self, record: LogRecord) -> Result<(), CallbackError>;
}

static SINK: OnceCell<RwLock<Option<Arc<dyn Logger>>>> = OnceCell::new();

/// Installs (or replaces) the app's logger and the most detailed level it wants.
/// Records from the library and the HTTP stack below it are forwarded.
#[uniffi::export]
pub fn install_logger(logger: Arc<dyn Logger>, level: LogLevel) {
    let sink = SINK.get_or_init(|| {
        // Fails only if a Rust app installed its own `log` logger; then that one is used.
        let _ = log::set_boxed_logger(Box::new(Forwarder));
        RwLock::new(None)
    });
    *sink.write().unwrap_or_else(|p| p.into_inner()) = Some(logger);
    log::set_max_level(match level {
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    });
}

struct Forwarder;

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Some(sink) = SINK.get() else { return };
        let Some(logger) = sink.read().unwrap_or_else(|p| p.into_inner()).clone() else { return };
        let level = match record.level() {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        };
        let record = LogRecord { level, target: record.target().to_owned(), message: record.args().to_string() };
        // A failing logger has nowhere to report to; dropping the record is all we can do.
        let _ = logger.log(record);
    }

    fn flush(&self) {}
}
