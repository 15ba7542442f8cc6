//! The `session-child` example as a test's other OS process: a session over a
//! `FileTokenStore`, started ready to burst on a line from the test.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// The session-child binary next to the running test or benchmark binary.
pub fn child_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap();
    // Tests run from target/<profile>/deps, examples (the bench) from target/<profile>/examples.
    let examples = if dir.ends_with("examples") { dir.to_path_buf() } else { dir.parent().unwrap().join("examples") };
    let path = examples.join("session-child");
    assert!(path.exists(), "{} is missing: `cargo build --example session-child` builds it", path.display());
    path
}

/// A session-child process that has read the store and waits for `go`.
pub struct SessionChild {
    pub child: Child,
    out: BufReader<ChildStdout>,
}

impl SessionChild {
    /// Starts a process that will send `requests` requests, and waits until it is ready.
    pub fn ready(base_url: &str, store: &Path, requests: usize) -> SessionChild {
        let mut child = Command::new(child_binary())
            .args([base_url, &store.display().to_string(), &requests.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start session-child");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        assert_eq!(line(&mut out), "ready");
        SessionChild { child, out }
    }

    pub fn go(&mut self) {
        writeln!(self.child.stdin.as_mut().unwrap(), "go").unwrap();
    }

    /// Waits for the process: its summary line, `ok=N expired=N errors=N refreshes=N`,
    /// with its first error's text after it, if any.
    pub fn outcome(mut self) -> String {
        let summary = line(&mut self.out);
        let rest = line(&mut self.out);
        self.child.wait().unwrap();
        format!("{summary} {rest}").trim().to_owned()
    }
}

fn line(out: &mut impl BufRead) -> String {
    let mut line = String::new();
    out.read_line(&mut line).expect("read from session-child");
    line.trim().to_owned()
}
