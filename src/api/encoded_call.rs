//! `execute` for the Kotlin layer (`ObservableSession`) without JNA structures. Through
//! the generated bindings one call builds about ten JNA `Structure`s (each a malloc, a
//! reflective walk of its fields and an entry in JNA's global map of native memory);
//! from 64 JVM threads that was 0.31 of OkHttp's throughput (BENCHMARKS.md §3). Here the
//! request and the answer cross as bytes in UniFFI's own encoding (so Kotlin reads them
//! with the generated converters: the same records, the same typed errors), through C
//! functions of integers and one byte array that JNA's direct mapping calls as they are.
//!
//! The session is named by a number the bindings hand out (`Session::encoded_calls_id`),
//! looked up in the lease registry, which holds it weakly: no handle or pointer of
//! UniFFI's crosses here. The only pointers are the request's bytes, read before the
//! function returns, and the answer's buffer, passed as a `u64` (so a 32-bit ABI never
//! splits it) that the caller gives back to `refreshkit_encoded_free`.
//!
//! Each call runs as one task on the library's runtime. `refreshkit_execute_start` returns
//! at once and the answer goes to the caller's queue (`refreshkit_completions_open`), from
//! which the Kotlin layer's one completion thread takes whatever is done
//! (`refreshkit_completions_wait`: many answers per wake-up under load) and resumes the
//! suspended callers: no JVM thread waits per call. `refreshkit_call_cancel` ends a started
//! call. `refreshkit_execute_encoded` is the blocking form, for threads that may block,
//! bounded by the request timeout.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use once_cell::sync::Lazy;
use tokio::sync::Notify;

use crate::api::session::Session;
use crate::engine::{lease, Engine};
use crate::foundation::runtime::{block_on_call, spawn_call};
use crate::types::error::SessionError;
use crate::types::http::{HttpRequest, HttpResponse};
use crate::types::state::SessionState;
use crate::UniFfiTag;

/// Calls that may be cancelled, by the id `refreshkit_call_begin` gave out.
static CALLS: Lazy<Mutex<HashMap<u64, Arc<Notify>>>> = Lazy::new(Default::default);
static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

/// Answers of started calls by queue, as (call id, buffer address), until the queue's
/// completion thread takes them; the condvar wakes the threads that wait. A queue per
/// consumer: two copies of the Kotlin layer (two class loaders) never take each other's.
static QUEUES: Lazy<(Mutex<Queues>, Condvar)> = Lazy::new(Default::default);
static NEXT_QUEUE: AtomicU64 = AtomicU64::new(1);

type Queues = HashMap<u64, Vec<Answer>>;
type Answer = (u64, u64);

/// The largest answer the buffer carries: UniFFI writes lengths as `i32`, and Kotlin reads
/// the buffer's length as an `Int`. Headers and the rest of the record fit in the margin.
const LARGEST_BODY: usize = i32::MAX as usize - 1024 * 1024;

#[uniffi::export]
impl Session {
    /// The number `ObservableSession` (Kotlin) names this session by in its direct calls
    /// into the library; apps have no use for it. Registered at the first ask; the
    /// session is forgotten when it is dropped, and a call naming it then is `Cancelled`.
    pub fn encoded_calls_id(&self) -> u64 {
        self.registry_id()
    }
}

/// A new call id, for `refreshkit_call_cancel` and one `refreshkit_execute_start` or
/// `refreshkit_execute_encoded`, which ends it.
#[no_mangle]
pub extern "C" fn refreshkit_call_begin() -> u64 {
    let id = NEXT_CALL.fetch_add(1, Ordering::Relaxed);
    calls().insert(id, Arc::new(Notify::new()));
    id
}

/// Cancels call `call`, before or while it runs; nothing once it ended.
#[no_mangle]
pub extern "C" fn refreshkit_call_cancel(call: u64) {
    if let Some(cancel) = calls().get(&call) {
        // A permit is kept, so a cancel that comes before the call starts is seen too.
        cancel.notify_one();
    }
}

/// A new queue for the answers of `refreshkit_execute_start`, one per consumer.
#[no_mangle]
pub extern "C" fn refreshkit_completions_open() -> u64 {
    NEXT_QUEUE.fetch_add(1, Ordering::Relaxed)
}

/// `execute` for session `session_id` (`Session::encoded_calls_id`) with `request`
/// holding `len` bytes of an `HttpRequest` in UniFFI's encoding. Blocks until the answer
/// (within the request timeout) and ends call `call`. Returns the address of a buffer for
/// `refreshkit_encoded_free`: 4 bytes of length (native order, at most `i32::MAX`), then 0
/// and the `HttpResponse`, or 1 and the `SessionError`, each in UniFFI's encoding. Never
/// unwinds.
///
/// # Safety
/// `request` must point to `len` readable bytes while this function runs.
#[no_mangle]
pub unsafe extern "C" fn refreshkit_execute_encoded(session_id: u64, call: u64, request: *const u8, len: i32) -> u64 {
    let bytes = unsafe { request_bytes(request, len) };
    let result = catch_unwind(|| {
        let cancel = calls().get(&call).cloned();
        execute(session_id, bytes, cancel)
    });
    calls().remove(&call);
    encoded(result.unwrap_or_else(|_| Err(panicked())))
}

/// Starts `execute` as `refreshkit_execute_encoded` does, without waiting: its answer, a
/// buffer as that function returns, goes to queue `queue` under call id `call`, always
/// (an error too). Never unwinds.
///
/// # Safety
/// `request` must point to `len` readable bytes while this function runs.
#[no_mangle]
pub unsafe extern "C" fn refreshkit_execute_start(queue: u64, session_id: u64, call: u64, request: *const u8, len: i32) {
    let bytes = unsafe { request_bytes(request, len) };
    let started = catch_unwind(|| {
        let cancel = calls().get(&call).cloned();
        match prepare(session_id, bytes, cancel) {
            Ok((engine, request, cancel)) => {
                spawn_call(engine.execute(request), async move { cancel.notified().await }, move |result| {
                    calls().remove(&call);
                    complete(queue, call, encoded(result));
                })
            }
            Err(error) => {
                calls().remove(&call);
                complete(queue, call, encoded(Err(error)));
            }
        }
    });
    if started.is_err() {
        calls().remove(&call);
        complete(queue, call, encoded(Err(panicked())));
    }
}

/// Waits until queue `queue` holds at least one answer, then writes up to `capacity` of
/// them into `out` as pairs (call id, buffer address for `refreshkit_encoded_free`) and
/// returns how many. Waits without bound and without waking while nothing is done: the
/// caller is a thread kept for this.
///
/// # Safety
/// `out` must point to `2 * capacity` writable `u64`s.
#[no_mangle]
pub unsafe extern "C" fn refreshkit_completions_wait(queue: u64, out: *mut u64, capacity: i32) -> i32 {
    let capacity = usize::try_from(capacity).unwrap_or(0);
    if out.is_null() || capacity == 0 {
        return 0;
    }
    let (queues, ready) = &*QUEUES;
    let mut all = queues.lock().unwrap_or_else(|p| p.into_inner());
    let taken: Vec<Answer> = loop {
        let answers = all.entry(queue).or_default();
        if !answers.is_empty() {
            let count = capacity.min(answers.len());
            break answers.drain(..count).collect();
        }
        all = ready.wait(all).unwrap_or_else(|p| p.into_inner());
    };
    drop(all);
    let out = unsafe { std::slice::from_raw_parts_mut(out, 2 * taken.len()) };
    for (slot, (call, buffer)) in out.chunks_exact_mut(2).zip(&taken) {
        slot[0] = *call;
        slot[1] = *buffer;
    }
    taken.len() as i32
}

/// The state of session `session_id` as UniFFI encodes a `SessionState` (an `i32`), or 0
/// for a session that is gone. Never blocks, never unwinds.
#[no_mangle]
pub extern "C" fn refreshkit_session_state(session_id: u64) -> i32 {
    catch_unwind(|| {
        let Some(engine) = lease::engine(session_id) else { return 0 };
        let mut buf = Vec::with_capacity(4);
        <SessionState as uniffi::Lower<UniFfiTag>>::write(engine.session_state(), &mut buf);
        buf.try_into().map(i32::from_be_bytes).unwrap_or(0)
    })
    .unwrap_or(0)
}

/// Gives back a buffer from `refreshkit_execute_encoded` or a queue; 0 is ignored.
///
/// # Safety
/// `buffer` must come from this library's answers, given back once.
#[no_mangle]
pub unsafe extern "C" fn refreshkit_encoded_free(buffer: u64) {
    let buffer = buffer as usize as *mut u8;
    if buffer.is_null() {
        return;
    }
    let mut len = [0u8; 4];
    unsafe { std::ptr::copy_nonoverlapping(buffer, len.as_mut_ptr(), 4) };
    let total = u32::from_ne_bytes(len) as usize + 4;
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buffer, total)) });
}

/// The request's bytes; none for a null pointer or a negative length.
///
/// # Safety
/// As for the functions that take `request` and `len`.
unsafe fn request_bytes<'a>(request: *const u8, len: i32) -> &'a [u8] {
    match usize::try_from(len) {
        Ok(len) if !request.is_null() => unsafe { std::slice::from_raw_parts(request, len) },
        _ => &[],
    }
}

fn calls() -> std::sync::MutexGuard<'static, HashMap<u64, Arc<Notify>>> {
    CALLS.lock().unwrap_or_else(|p| p.into_inner())
}

fn panicked() -> SessionError {
    SessionError::Internal { detail: "the library panicked".into() }
}

/// Queues the answer of `call` on `queue` and wakes the threads that wait, if it was empty.
fn complete(queue: u64, call: u64, buffer: u64) {
    let (queues, ready) = &*QUEUES;
    let mut all = queues.lock().unwrap_or_else(|p| p.into_inner());
    let answers = all.entry(queue).or_default();
    let was_empty = answers.is_empty();
    answers.push((call, buffer));
    drop(all);
    if was_empty {
        // Each waiter looks at its own queue; there is one per copy of the Kotlin layer.
        ready.notify_all();
    }
}

fn execute(session_id: u64, bytes: &[u8], cancel: Option<Arc<Notify>>) -> Result<HttpResponse, SessionError> {
    let (engine, request, cancel) = prepare(session_id, bytes, cancel)?;
    block_on_call(engine.execute(request), async move { cancel.notified().await })
}

/// The session, the request read from `bytes`, and the call's cancel.
fn prepare(
    session_id: u64,
    mut bytes: &[u8],
    cancel: Option<Arc<Notify>>,
) -> Result<(Arc<Engine>, HttpRequest, Arc<Notify>), SessionError> {
    let Some(cancel) = cancel else {
        return Err(SessionError::InvalidRequest { detail: "unknown call id".into() });
    };
    let request = <HttpRequest as uniffi::Lift<UniFfiTag>>::try_read(&mut bytes)
        .ok()
        .filter(|_| bytes.is_empty())
        .ok_or_else(|| SessionError::InvalidRequest { detail: "the request could not be read".into() })?;
    // A session that is gone: what a call on a closed session gets from the wrapper.
    let engine = lease::engine(session_id).ok_or(SessionError::Cancelled)?;
    Ok((engine, request, cancel))
}

/// The answer's buffer, as an address. A body too large for it is `ResponseTooLarge`, and
/// a panic while encoding is `Internal`: every call gets an answer.
fn encoded(result: Result<HttpResponse, SessionError>) -> u64 {
    let result = match result {
        Ok(response) if response.body.len() > LARGEST_BODY => {
            Err(SessionError::ResponseTooLarge { limit_bytes: LARGEST_BODY as u64 })
        }
        other => other,
    };
    let mut buf = catch_unwind(AssertUnwindSafe(|| encode(result))).unwrap_or_else(|_| encode(Err(panicked())));
    let len = (buf.len() - 4) as u32;
    buf[..4].copy_from_slice(&len.to_ne_bytes());
    Box::into_raw(buf.into_boxed_slice()).cast::<u8>() as usize as u64
}

fn encode(result: Result<HttpResponse, SessionError>) -> Vec<u8> {
    let mut buf = vec![0u8; 4];
    match result {
        Ok(response) => {
            buf.push(0);
            <HttpResponse as uniffi::Lower<UniFfiTag>>::write(response, &mut buf);
        }
        Err(error) => {
            buf.push(1);
            <SessionError as uniffi::Lower<UniFfiTag>>::write(error, &mut buf);
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer as Kotlin reads it: its length, then the tag and the encoded result.
    fn take(address: u64) -> Result<HttpResponse, SessionError> {
        let buffer = address as usize as *const u8;
        let len = u32::from_ne_bytes(unsafe { std::slice::from_raw_parts(buffer, 4) }.try_into().unwrap()) as usize;
        let mut bytes = unsafe { std::slice::from_raw_parts(buffer.add(4), len) }.to_vec();
        unsafe { refreshkit_encoded_free(address) };
        let tag = bytes.remove(0);
        let mut rest = bytes.as_slice();
        let result = if tag == 0 {
            Ok(<HttpResponse as uniffi::Lift<UniFfiTag>>::try_read(&mut rest).unwrap())
        } else {
            Err(<SessionError as uniffi::Lift<UniFfiTag>>::try_read(&mut rest).unwrap())
        };
        assert!(rest.is_empty(), "bytes left after the answer");
        result
    }

    fn encoded_request(request: HttpRequest) -> Vec<u8> {
        let mut buf = Vec::new();
        <HttpRequest as uniffi::Lower<UniFfiTag>>::write(request, &mut buf);
        buf
    }

    fn execute_bytes(session_id: u64, call: u64, bytes: &[u8]) -> Result<HttpResponse, SessionError> {
        take(unsafe { refreshkit_execute_encoded(session_id, call, bytes.as_ptr(), bytes.len() as i32) })
    }

    #[test]
    fn an_answer_crosses_whole_and_its_buffer_is_given_back() {
        let body = vec![7u8; 300_000];
        let response = HttpResponse { status: 200, headers: vec![], body: body.clone() };
        let Ok(back) = take(encoded(Ok(response))) else { panic!("an error came back") };
        assert_eq!((back.status, back.body), (200, body));
        assert!(matches!(take(encoded(Err(SessionError::Timeout))), Err(SessionError::Timeout)));
        unsafe { refreshkit_encoded_free(0) };
    }

    #[test]
    fn a_call_for_a_session_that_is_gone_is_cancelled_and_ends_its_call_id() {
        let call = refreshkit_call_begin();
        let bytes = encoded_request(HttpRequest::get("/api/resource"));
        assert!(matches!(execute_bytes(u64::MAX, call, &bytes), Err(SessionError::Cancelled)));
        assert!(!calls().contains_key(&call), "the call id outlived its call");
        assert_eq!(refreshkit_session_state(u64::MAX), 0);
    }

    #[test]
    fn bytes_that_are_no_request_and_unknown_call_ids_are_invalid_requests() {
        let call = refreshkit_call_begin();
        let garbage = [1u8, 2, 3];
        assert!(matches!(execute_bytes(u64::MAX, call, &garbage), Err(SessionError::InvalidRequest { .. })));
        let mut trailing = encoded_request(HttpRequest::get("/x"));
        trailing.push(0);
        let call = refreshkit_call_begin();
        assert!(matches!(execute_bytes(u64::MAX, call, &trailing), Err(SessionError::InvalidRequest { .. })));
        assert!(matches!(execute_bytes(u64::MAX, u64::MAX, &[]), Err(SessionError::InvalidRequest { .. })));
        let empty = unsafe { refreshkit_execute_encoded(u64::MAX, refreshkit_call_begin(), std::ptr::null(), -1) };
        assert!(matches!(take(empty), Err(SessionError::InvalidRequest { .. })));
    }

    #[test]
    fn a_started_call_is_answered_on_its_own_queue_only() {
        let call = refreshkit_call_begin();
        let bytes = encoded_request(HttpRequest::get("/api/resource"));
        let (mine, other) = (refreshkit_completions_open(), refreshkit_completions_open());
        unsafe { refreshkit_execute_start(mine, u64::MAX, call, bytes.as_ptr(), bytes.len() as i32) };
        let (tx, rx) = std::sync::mpsc::channel();
        for queue in [other, mine] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut out = [0u64; 4];
                let count = unsafe { refreshkit_completions_wait(queue, out.as_mut_ptr(), 2) };
                tx.send((queue, count, out)).ok();
            });
        }
        let (queue, count, out) = rx.recv_timeout(std::time::Duration::from_secs(30)).expect("no answer came");
        assert_eq!((queue, count, out[0]), (mine, 1, call), "the answer went to its own queue");
        assert!(matches!(take(out[1]), Err(SessionError::Cancelled)));
        assert!(!calls().contains_key(&call), "the call id outlived its call");
    }
}
