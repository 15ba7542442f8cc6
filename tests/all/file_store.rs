//! `FileTokenStore`: private to its owner, and safe with several writers on one path.

use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use refreshkit::{FileTokenStore, TokenStore, Tokens};

const SAVES: usize = 1000;
const WRITER_PATH: &str = "REFRESHKIT_TEST_WRITER_PATH";

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("refreshkit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("tokens.json")
}

fn tokens(writer: &str, n: usize) -> Tokens {
    Tokens::new(
        format!("{writer}-access-{n}"),
        Some(format!("{writer}-refresh-{n}")),
        Some(UNIX_EPOCH + Duration::from_secs(n as u64)),
    )
}

/// Fails before the file was created with mode 0600: it was 0644, readable by all.
#[cfg(unix)]
#[test]
fn the_token_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let path = scratch("mode");
    FileTokenStore::new(&path).save(tokens("a", 1)).unwrap();

    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;

    assert_eq!(mode, 0o600, "mode {mode:o}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

/// The other OS process of the test below: this test binary, run again for this test
/// alone with the path in the environment. Without it, the test does nothing.
#[test]
fn writer_process() {
    let Ok(path) = std::env::var(WRITER_PATH) else { return };
    let store = FileTokenStore::new(path);
    for n in 0..SAVES {
        store.save(tokens("child", n)).expect("a save failed");
    }
}

/// Fails before temporary files had unique names: saves failed and loads saw half files.
#[test]
fn two_processes_saving_a_thousand_times_each_never_leave_an_unreadable_file() {
    let path = scratch("writers");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "file_store::writer_process", "--test-threads", "1"])
        .env(WRITER_PATH, &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let store = FileTokenStore::new(&path);
    let (mut failed_saves, mut unreadable) = (0, 0);
    for n in 0..SAVES {
        failed_saves += usize::from(store.save(tokens("parent", n)).is_err());
        unreadable += usize::from(store.load().is_err());
    }
    let status = child.wait().unwrap();
    let stray: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();

    assert!(status.success(), "the other process's saves all succeeded");
    assert_eq!((failed_saves, unreadable), (0, 0));
    assert!(store.load().unwrap().is_some());
    assert_eq!(stray.len(), 1, "no temporary file left behind: {stray:?}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
