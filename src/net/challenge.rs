//! `WWW-Authenticate` as RFC 9110 section 11.6.1 writes it: an answer may carry several
//! fields, and each field several challenges (`Bearer realm="api", DPoP error="..."`),
//! so a challenge is found by parsing, never by where a field starts.

use crate::types::http::HttpHeader;

/// One challenge: its scheme, and its parameters with names in lower case. A token68
/// (`Basic dXNlcg==`) gives none.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The values of the `WWW-Authenticate` fields among an answer's headers, as the app
/// sees them (`HttpHeader` records).
pub(crate) fn www_authenticate_fields(headers: &[HttpHeader]) -> impl Iterator<Item = &str> {
    headers.iter().filter(|h| h.name.eq_ignore_ascii_case("www-authenticate")).map(|h| h.value.as_str())
}

/// Every challenge in `fields`, in order. What cannot be read is skipped up to the next
/// comma, so one broken challenge does not hide those after it.
pub(crate) fn challenges<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut found = Vec::new();
    for field in fields {
        let mut r = Reader { s: field.as_bytes(), at: 0 };
        loop {
            r.skip(|b| b == b',' || is_space(b));
            if r.at >= r.s.len() {
                break;
            }
            let scheme = r.token();
            if scheme.is_empty() {
                r.skip(|b| b != b',');
                continue;
            }
            let mut challenge = Challenge { scheme, params: Vec::new() };
            r.params(&mut challenge.params);
            found.push(challenge);
        }
    }
    found
}

struct Reader<'a> {
    s: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn skip(&mut self, mut while_: impl FnMut(u8) -> bool) {
        while self.peek().is_some_and(&mut while_) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> String {
        let start = self.at;
        self.skip(is_tchar);
        String::from_utf8_lossy(&self.s[start..self.at]).into_owned()
    }

    /// The parameters after a scheme, up to the next challenge: a list element that is
    /// not `name=value` starts that one.
    fn params(&mut self, params: &mut Vec<(String, String)>) {
        if !self.peek().is_some_and(is_space) {
            return;
        }
        let mut first = true;
        loop {
            let element = self.at;
            self.skip(|b| is_space(b) || (!first && b == b','));
            let name = self.token();
            self.skip(is_space);
            let is_param = !name.is_empty() && self.peek() == Some(b'=') && {
                self.at += 1;
                self.skip(is_space);
                // `abc=` or `abc==` then the end of the element: a token68.
                !matches!(self.peek(), None | Some(b',' | b'='))
            };
            if !is_param {
                if first {
                    self.skip(|b| b != b',');
                } else {
                    self.at = element;
                }
                return;
            }
            let value = if self.peek() == Some(b'"') { self.quoted() } else { self.token() };
            params.push((name.to_ascii_lowercase(), value));
            self.skip(is_space);
            if self.peek() != Some(b',') {
                // The end, or something unreadable: skip to the next element.
                self.skip(|b| b != b',');
            }
            first = false;
        }
    }

    fn quoted(&mut self) -> String {
        let mut value = Vec::new();
        self.at += 1;
        while let Some(b) = self.peek() {
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        value.push(escaped);
                        self.at += 1;
                    }
                }
                _ => value.push(b),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// RFC 9110 section 5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(fields: &[&str]) -> Vec<(String, Vec<(String, String)>)> {
        challenges(fields.iter().copied()).into_iter().map(|c| (c.scheme, c.params)).collect()
    }

    fn challenge(scheme: &str, params: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
        (scheme.into(), params.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect())
    }

    #[test]
    fn several_challenges_in_one_field_are_told_apart() {
        assert_eq!(
            read(&[r#"Bearer realm="api", DPoP algs="ES256 PS256", error="use_dpop_nonce""#]),
            [
                challenge("Bearer", &[("realm", "api")]),
                challenge("DPoP", &[("algs", "ES256 PS256"), ("error", "use_dpop_nonce")])
            ]
        );
        assert_eq!(
            read(&["Basic dXNlcjpwYXNz==, Newauth, DPoP Error = invalid_dpop_proof"]),
            [challenge("Basic", &[]), challenge("Newauth", &[]), challenge("DPoP", &[("error", "invalid_dpop_proof")])]
        );
    }

    #[test]
    fn challenges_in_several_fields_are_all_read() {
        assert_eq!(
            read(&[r#"Bearer realm="api""#, r#"DPoP error="use_dpop_nonce""#]),
            [challenge("Bearer", &[("realm", "api")]), challenge("DPoP", &[("error", "use_dpop_nonce")])]
        );
    }

    #[test]
    fn quoted_strings_keep_their_commas_and_escapes() {
        assert_eq!(
            read(&[r#"Bearer realm="a, \"b\" DPoP error=use_dpop_nonce", error="invalid_token""#]),
            [challenge("Bearer", &[("realm", r#"a, "b" DPoP error=use_dpop_nonce"#), ("error", "invalid_token")])]
        );
    }

    #[test]
    fn what_cannot_be_read_hides_nothing_after_it() {
        assert_eq!(
            read(&[r#", ,=x, Bearer realm="a" junk, "open, DPoP error="use_dpop_nonce""#]),
            [challenge("Bearer", &[("realm", "a")]), challenge("DPoP", &[("error", "use_dpop_nonce")])]
        );
        assert_eq!(read(&[r#"DPoP error="unterminated"#]), [challenge("DPoP", &[("error", "unterminated")])]);
        assert_eq!(read(&[r#"DPoP error="ends in \"#]), [challenge("DPoP", &[("error", "ends in ")])]);
        assert!(read(&["", " , "]).is_empty());
    }
}
