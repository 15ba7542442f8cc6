//! `/chunks?count=N&size=S[&stall=1]`: a body sent in N chunks of S bytes, with no
//! length announced; with `stall`, the body then stops coming and the connection stays
//! open. Chunk i is filled with the letter `a` + i % 26, so a client can check order.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::Frame;

pub async fn chunks(Query(query): Query<HashMap<String, String>>) -> Response {
    let number = |name: &str, default: usize| query.get(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let body =
        Chunks { sent: 0, count: number("count", 4), size: number("size", 16), stall: query.contains_key("stall") };
    Body::new(body).into_response()
}

struct Chunks {
    sent: usize,
    count: usize,
    size: usize,
    stall: bool,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.sent < self.count {
            let letter = b'a' + (self.sent % 26) as u8;
            self.sent += 1;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![letter; self.size])))));
        }
        // A stalled body never wakes its task; the client's bound is what ends the call.
        if self.stall {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    }
}
