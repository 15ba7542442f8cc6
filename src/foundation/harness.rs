//! The seam a test harness installs on its thread to run the library deterministically
//! (the simulation, tests/sim): the wall-clock time, and where the library's tasks run.
//! Only with the non-default `simulation` feature; the library asks it only here, in the
//! foundation, and nothing changes while no harness is installed.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::SystemTime;

/// What a harness provides in place of the library's runtime and clock.
pub trait Harness {
    /// The wall-clock time, for token expiry.
    fn now(&self) -> SystemTime;
    /// Starts one of the library's tasks on the harness's runtime; it runs to its end
    /// even if nobody awaits it.
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>);
}

thread_local! {
    static INSTALLED: RefCell<Option<Rc<dyn Harness>>> = const { RefCell::new(None) };
}

/// Runs the library on `harness` on this thread: its tasks, its app calls (in place, on
/// this thread) and its clock, until `remove`.
pub fn install(harness: Rc<dyn Harness>) {
    INSTALLED.set(Some(harness));
}

/// Gives this thread back to the library's own runtime and clock.
pub fn remove() {
    INSTALLED.set(None);
}

pub(crate) fn installed() -> Option<Rc<dyn Harness>> {
    INSTALLED.with_borrow(Clone::clone)
}

pub(crate) fn active() -> bool {
    INSTALLED.with_borrow(Option::is_some)
}
