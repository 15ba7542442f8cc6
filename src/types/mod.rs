//! The records and errors every layer speaks: tokens, HTTP requests and
//! responses, errors, step-up challenges.

pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod jwt;
pub(crate) mod state;
pub(crate) mod step_up;
pub(crate) mod tokens;
