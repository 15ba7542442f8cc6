//! Sends the library's `log` records to the app's logger (Logcat, os_log). Records never
//! carry tokens: the library logs generations and outcomes, not secrets.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, RwLock};
use std::time::{Duration, Instant};

use once_cell::sync::OnceCell;

use crate::foundation::app_calls;
use crate::types::error::CallbackError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
/// How much a log record matters, as in every logging library.
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something went wrong and was handled.
    Warn,
    /// What the session did.
    Info,
    /// Details for debugging (compiled out of release builds).
    Debug,
    /// Every step (compiled out of release builds).
    Trace,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
/// One log record; it never contains a token.
pub struct LogRecord {
    /// How much it matters.
    pub level: LogLevel,
    /// Where it comes from (`refreshkit`, or a library it uses).
    pub target: String,
    /// The text.
    pub message: String,
}

/// The app's log sink. Called on the library's logging thread, one record at a time.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// Takes one record, on a thread of the library's own.
    fn log(&self, record: LogRecord) -> Result<(), CallbackError>;
}

/// Records waiting for the app's logger; beyond this many, records are dropped (and
/// counted) rather than making the network thread wait for a slow logger.
const QUEUE: usize = 1024;

enum Item {
    Record(LogRecord),
    /// Answered once every record before it was handed to the logger.
    Flush(mpsc::SyncSender<()>),
}

struct Sink {
    logger: RwLock<Option<Arc<dyn Logger>>>,
    queue: mpsc::SyncSender<Item>,
    dropped: AtomicU64,
}

static SINK: OnceCell<Arc<Sink>> = OnceCell::new();

/// Installs (or replaces) the app's logger and the most detailed level it wants.
/// Records from the library and the HTTP stack below it are forwarded, in order, from a
/// thread of their own: a slow logger never holds up a request, and a logger may call
/// the session.
#[uniffi::export]
pub fn install_logger(logger: Arc<dyn Logger>, level: LogLevel) {
    // Without its thread there is no logging; the next call tries again.
    let Ok(sink) = SINK.get_or_try_init(|| {
        let (queue, items) = mpsc::sync_channel(QUEUE);
        let sink = Arc::new(Sink { logger: RwLock::new(None), queue, dropped: AtomicU64::new(0) });
        let delivery = Arc::clone(&sink);
        std::thread::Builder::new().name("refreshkit-log".into()).spawn(move || delivery.deliver(items))?;
        // Fails only if a Rust app installed its own `log` logger; then that one is used.
        let _ = log::set_boxed_logger(Box::new(Forwarder));
        Ok::<_, std::io::Error>(sink)
    }) else {
        return;
    };
    *sink.logger.write().unwrap_or_else(|p| p.into_inner()) = Some(logger);
    log::set_max_level(match level {
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    });
}

impl Sink {
    fn deliver(&self, items: mpsc::Receiver<Item>) {
        for item in items {
            self.report_dropped();
            match item {
                Item::Record(record) => self.hand_over(record),
                Item::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    /// Says how many records the full queue turned away since the last report.
    fn report_dropped(&self) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            self.hand_over(LogRecord {
                level: LogLevel::Warn,
                target: "refreshkit".into(),
                message: format!("{dropped} log records dropped: the logger was slower than the log"),
            });
        }
    }

    fn hand_over(&self, record: LogRecord) {
        let logger = self.logger.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(logger) = logger {
            // A failing (or, in Rust, panicking) logger has nowhere to report to; dropping
            // the record is all we can do, and the thread must live on for the next one.
            let _ = app_calls::in_place(|| logger.log(record));
        }
    }
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
        let level = match record.level() {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        };
        let record = LogRecord { level, target: record.target().to_owned(), message: record.args().to_string() };
        if sink.queue.try_send(Item::Record(record)).is_err() {
            sink.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits (at most a second) until the records logged so far reached the app's logger.
    fn flush(&self) {
        let Some(sink) = SINK.get() else { return };
        let deadline = Instant::now() + Duration::from_secs(1);
        let (done, delivered) = mpsc::sync_channel(1);
        let mut item = Item::Flush(done);
        loop {
            match sink.queue.try_send(item) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(back)) if Instant::now() < deadline => {
                    item = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return,
            }
        }
        let _ = delivered.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
}
