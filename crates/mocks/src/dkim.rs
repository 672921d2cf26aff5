//! DKIM verification of captured mail (RFC 6376; Ed25519-SHA256 from RFC 8463), so a
//! rehearsal shows whether what was sent would pass a receiver's check.
//!
//! The capture cannot ask DNS: it is given the public records it may use ([`DkimKeys`], the
//! running stack's own), and a signature naming any other key fails with that reason. The
//! checks are written here, over aws-lc-rs for the cryptography, on purpose apart from the
//! signer (lettre, in the publisher): a mock stands alone, so a signer's canonicalization bug
//! cannot hide behind shared code.
//!
//! Each message gets one verdict: `pass` (a signature verified), `fail` with the reason of
//! the first signature that did not, or `none` (no `DKIM-Signature` header).

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use serde::Serialize;
use std::collections::BTreeMap;

/// The public key records the capture knows, by `selector._domainkey.domain`.
#[derive(Debug, Clone, Default)]
pub struct DkimKeys {
    records: BTreeMap<String, String>,
}

impl DkimKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Knows `value` (`v=DKIM1; k=rsa; p=…`) as the record of `selector` at `domain`.
    pub fn add(&mut self, selector: &str, domain: &str, value: &str) {
        self.records
            .insert(record_name(selector, domain), value.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record names known.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.records.keys().map(String::as_str)
    }

    fn get(&self, selector: &str, domain: &str) -> Option<&str> {
        self.records
            .get(&record_name(selector, domain))
            .map(String::as_str)
    }
}

fn record_name(selector: &str, domain: &str) -> String {
    format!(
        "{}._domainkey.{}",
        selector.trim(),
        domain.trim().trim_end_matches('.')
    )
    .to_ascii_lowercase()
}

/// What the check of one message found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// `pass`, `fail` or `none`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `d=` of the signature the verdict is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `s=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// `a=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// `h=`: the headers the signature covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_headers: Option<String>,
    /// DKIM-Signature headers in the message.
    pub signatures: usize,
}

impl Verdict {
    fn none() -> Verdict {
        Verdict {
            result: "none",
            reason: Some("the message has no DKIM-Signature header".into()),
            domain: None,
            selector: None,
            algorithm: None,
            signed_headers: None,
            signatures: 0,
        }
    }
}

/// One header field: its name and its raw text (name, colon, value with any folding), without
/// the final CRLF.
#[derive(Debug)]
struct Field<'a> {
    name: &'a [u8],
    raw: &'a [u8],
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The header fields and the body (after the first empty line) of a CRLF message.
fn split(message: &[u8]) -> (Vec<Field<'_>>, &[u8]) {
    let mut fields = Vec::new();
    let mut pos = 0;
    let line_end = |from: usize| {
        message[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(message.len(), |i| from + i)
    };
    while pos < message.len() {
        if message[pos..].starts_with(b"\r\n") {
            return (fields, &message[pos + 2..]);
        }
        let start = pos;
        let mut end = line_end(pos);
        // Continuation lines start with whitespace.
        while end + 2 < message.len() && is_wsp(message[end + 2]) {
            end = line_end(end + 2);
        }
        let raw = &message[start..end];
        if let Some(colon) = raw.iter().position(|b| *b == b':') {
            let mut name = &raw[..colon];
            while let [rest @ .., last] = name
                && is_wsp(*last)
            {
                name = rest;
            }
            fields.push(Field { name, raw });
        }
        pos = (end + 2).min(message.len());
    }
    (fields, &[])
}

/// The lines of `body` without their CRLF (a last line without one included).
fn lines(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        match rest.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + 2..];
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    out
}

/// Runs of spaces and tabs become one space.
fn collapse(bytes: &[u8], out: &mut Vec<u8>) {
    let mut in_wsp = false;
    for &b in bytes {
        if is_wsp(b) {
            in_wsp = true;
        } else {
            if in_wsp {
                out.push(b' ');
            }
            in_wsp = false;
            out.push(b);
        }
    }
    if in_wsp {
        out.push(b' ');
    }
}

/// The body as RFC 6376 §3.4.3 (simple) or §3.4.4 (relaxed) canonicalizes it.
fn canonical_body(body: &[u8], relaxed: bool) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = lines(body)
        .into_iter()
        .map(|l| {
            if relaxed {
                let mut out = Vec::with_capacity(l.len());
                collapse(l, &mut out);
                while out.last() == Some(&b' ') {
                    out.pop();
                }
                out
            } else {
                l.to_vec()
            }
        })
        .collect();
    while lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    if lines.is_empty() {
        return if relaxed {
            Vec::new()
        } else {
            b"\r\n".to_vec()
        };
    }
    let mut out = Vec::with_capacity(body.len());
    for l in lines {
        out.extend_from_slice(&l);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One header field as RFC 6376 §3.4.1 (simple) or §3.4.2 (relaxed) canonicalizes it, with
/// its CRLF.
fn canonical_header(raw: &[u8], relaxed: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 2);
    if relaxed {
        let colon = raw.iter().position(|b| *b == b':').unwrap_or(raw.len());
        let name = raw[..colon].to_ascii_lowercase();
        out.extend(name.iter().copied().filter(|b| !is_wsp(*b)));
        out.push(b':');
        let value: Vec<u8> = raw
            .get(colon + 1..)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|b| *b != b'\r' && *b != b'\n')
            .collect();
        let mut collapsed = Vec::with_capacity(value.len());
        collapse(&value, &mut collapsed);
        let trimmed = collapsed.trim_ascii();
        out.extend_from_slice(trimmed);
    } else {
        out.extend_from_slice(raw);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `tag=value` pairs of a tag list (RFC 6376 §3.2), values with folding whitespace trimmed.
fn tags(text: &str) -> BTreeMap<String, String> {
    text.split(';')
        .filter_map(|t| {
            let (k, v) = t.split_once('=')?;
            let k = k.trim_matches(|c: char| c.is_ascii_whitespace());
            let v = v
                .split(['\r', '\n'])
                .map(|p| p.trim_matches([' ', '\t']))
                .collect::<Vec<_>>()
                .join(" ");
            Some((k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Base64 with any whitespace inside (folding) removed.
fn base64(v: &str) -> Option<Vec<u8>> {
    let compact: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The raw DKIM-Signature field with the value of its `b=` tag removed (§3.7).
fn without_b(raw: &[u8]) -> Vec<u8> {
    let colon = raw.iter().position(|b| *b == b':').unwrap_or(raw.len());
    let mut out = raw[..colon.min(raw.len())].to_vec();
    if colon >= raw.len() {
        return out;
    }
    out.push(b':');
    let value = &raw[colon + 1..];
    let mut first = true;
    for segment in value.split(|b| *b == b';') {
        if !first {
            out.push(b';');
        }
        first = false;
        match segment.iter().position(|b| *b == b'=') {
            Some(eq)
                if segment[..eq]
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .eq(*b"b") =>
            {
                out.extend_from_slice(&segment[..=eq]);
            }
            _ => out.extend_from_slice(segment),
        }
    }
    out
}

/// Checks every DKIM-Signature of `message` (CRLF line endings, as the capture stores it)
/// against `keys`, at `now` (Unix seconds, for `x=`).
pub fn verify(message: &[u8], keys: &DkimKeys, now: u64) -> Verdict {
    let (fields, body) = split(message);
    let signatures: Vec<&Field<'_>> = fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(b"DKIM-Signature"))
        .collect();
    if signatures.is_empty() {
        return Verdict::none();
    }
    let mut first_failure = None;
    for sig in &signatures {
        let verdict = verify_one(sig, &fields, body, keys, now, signatures.len());
        if verdict.result == "pass" {
            return verdict;
        }
        first_failure.get_or_insert(verdict);
    }
    first_failure.unwrap_or_else(Verdict::none)
}

fn verify_one(
    sig: &Field<'_>,
    fields: &[Field<'_>],
    body: &[u8],
    keys: &DkimKeys,
    now: u64,
    count: usize,
) -> Verdict {
    let text = String::from_utf8_lossy(sig.raw);
    let value = text.split_once(':').map_or("", |(_, v)| v);
    let t = tags(value);
    let tag = |k: &str| t.get(k).cloned();
    let mut verdict = Verdict {
        result: "fail",
        reason: None,
        domain: tag("d"),
        selector: tag("s"),
        algorithm: tag("a"),
        signed_headers: tag("h").map(|h| h.replace([' ', '\t'], "")),
        signatures: count,
    };
    match check(sig, &t, fields, body, keys, now) {
        Ok(()) => verdict.result = "pass",
        Err(reason) => verdict.reason = Some(reason),
    }
    verdict
}

fn check(
    sig: &Field<'_>,
    t: &BTreeMap<String, String>,
    fields: &[Field<'_>],
    body: &[u8],
    keys: &DkimKeys,
    now: u64,
) -> Result<(), String> {
    let need = |k: &str| {
        t.get(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("malformed signature: the {k}= tag is missing"))
    };
    if need("v")? != "1" {
        return Err(format!("unsupported signature version v={}", t["v"]));
    }
    let algorithm = need("a")?.to_ascii_lowercase();
    let (domain, selector, signed) = (need("d")?, need("s")?, need("h")?);
    let signature = base64(need("b")?).ok_or("malformed signature: b= is not base64")?;
    let body_hash = base64(need("bh")?).ok_or("malformed signature: bh= is not base64")?;
    if let Some(auid) = t.get("i") {
        let at = auid.rsplit_once('@').map_or(auid.as_str(), |(_, d)| d);
        let (at, d) = (at.to_ascii_lowercase(), domain.to_ascii_lowercase());
        if at != d && !at.ends_with(&format!(".{d}")) {
            return Err(format!("i={auid} is not in the signing domain d={domain}"));
        }
    }
    if let Some(x) = t.get("x").and_then(|x| x.parse::<u64>().ok())
        && x < now
    {
        return Err(format!("the signature expired (x={x})"));
    }
    let canon = t.get("c").map_or("simple/simple", String::as_str);
    let (hc, bc) = canon.split_once('/').unwrap_or((canon, "simple"));
    let relaxed = |c: &str| match c.trim() {
        "relaxed" => Ok(true),
        "simple" => Ok(false),
        other => Err(format!("unknown canonicalization {other:?}")),
    };
    let (header_relaxed, body_relaxed) = (relaxed(hc)?, relaxed(bc)?);
    if !signed
        .split(':')
        .any(|h| h.trim().eq_ignore_ascii_case("from"))
    {
        return Err("the signature does not cover From (h= must list it)".into());
    }

    // The body hash.
    let mut canonical = canonical_body(body, body_relaxed);
    if let Some(l) = t.get("l") {
        let l: usize = l.parse().map_err(|_| format!("malformed l={l}"))?;
        if l > canonical.len() {
            return Err(format!(
                "l={l} is longer than the body ({} bytes)",
                canonical.len()
            ));
        }
        canonical.truncate(l);
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &canonical);
    if digest.as_ref() != body_hash.as_slice() {
        return Err("body hash mismatch: the body changed after it was signed".into());
    }

    // The key.
    let record = keys.get(selector, domain).ok_or_else(|| {
        let known: Vec<&str> = keys.names().collect();
        format!(
            "no public key for {} (the capture does no DNS; it knows {})",
            record_name(selector, domain),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    })?;
    let r = tags(record);
    if r.get("v").is_some_and(|v| v != "DKIM1") {
        return Err("the key record is not v=DKIM1".into());
    }
    let key_type = r
        .get("k")
        .map_or("rsa", String::as_str)
        .to_ascii_lowercase();
    let public = r.get("p").ok_or("the key record has no p= tag")?;
    if public.trim().is_empty() {
        return Err("the key is revoked (empty p=)".into());
    }
    let public = base64(public).ok_or("the key record's p= is not base64")?;

    // The header hash: each signed header from the bottom up, then this signature without b=.
    let mut data = Vec::new();
    let mut used = vec![false; fields.len()];
    for name in signed.split(':').map(str::trim).filter(|n| !n.is_empty()) {
        let found = fields
            .iter()
            .enumerate()
            .rev()
            .find(|(i, f)| !used[*i] && f.name.eq_ignore_ascii_case(name.as_bytes()));
        if let Some((i, f)) = found {
            used[i] = true;
            data.extend(canonical_header(f.raw, header_relaxed));
        }
    }
    let mut own = canonical_header(&without_b(sig.raw), header_relaxed);
    own.truncate(own.len() - 2);
    data.extend(own);

    let verified = match (algorithm.as_str(), key_type.as_str()) {
        ("rsa-sha256", "rsa") => UnparsedPublicKey::new(
            &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            &public,
        )
        .verify(&data, &signature),
        ("ed25519-sha256", "ed25519") => {
            let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &data);
            UnparsedPublicKey::new(&signature::ED25519, &public).verify(hash.as_ref(), &signature)
        }
        ("rsa-sha256" | "ed25519-sha256", k) => {
            return Err(format!(
                "a={algorithm} does not match the key record's k={k}"
            ));
        }
        (a, _) => {
            return Err(format!(
                "unsupported algorithm a={a} (rsa-sha256 and ed25519-sha256 are verified; rsa-sha1 is obsolete, RFC 8301)"
            ));
        }
    };
    verified.map_err(|_| {
        "the signature does not verify: a signed header changed after signing, or the key does not match the record"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// RFC 8463 Appendix A.3: one message signed twice by someone else's implementation
    /// (Ed25519, selector brisbane; RSA 1024, selector test), with the A.2 key records.
    const RFC8463: &str = concat!(
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n",
        " d=football.example.com; i=@football.example.com;\r\n",
        " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n",
        " subject : date : message-id : from : subject : date;\r\n",
        " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n",
        " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n",
        " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n",
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n",
        " d=football.example.com; i=@football.example.com;\r\n",
        " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n",
        " date : message-id : from : subject : date;\r\n",
        " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n",
        " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n",
        " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n",
        " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n",
        "From: Joe SixPack <joe@football.example.com>\r\n",
        "To: Suzie Q <suzie@shopping.example.net>\r\n",
        "Subject: Is dinner ready?\r\n",
        "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n",
        "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n",
        "\r\n",
        "Hi.\r\n",
        "\r\n",
        "We lost the game.  Are you hungry yet?\r\n",
        "\r\n",
        "Joe.\r\n",
        "\r\n",
    );

    fn rfc8463_keys(which: &[&str]) -> DkimKeys {
        let mut keys = DkimKeys::new();
        if which.contains(&"brisbane") {
            keys.add(
                "brisbane",
                "football.example.com",
                "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            );
        }
        if which.contains(&"test") {
            keys.add(
                "test",
                "Football.Example.com.",
                "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
            );
        }
        keys
    }

    #[test]
    fn the_rfc_8463_example_passes_with_either_signature() {
        let m = RFC8463.as_bytes();
        let both = verify(m, &rfc8463_keys(&["brisbane", "test"]), 0);
        assert_eq!(both.result, "pass", "{both:?}");
        assert_eq!(both.algorithm.as_deref(), Some("ed25519-sha256"));
        assert_eq!(both.signatures, 2);
        let rsa = verify(m, &rfc8463_keys(&["test"]), 0);
        assert_eq!(
            (rsa.result, rsa.selector.as_deref()),
            ("pass", Some("test")),
            "{rsa:?}"
        );
        let ed = verify(m, &rfc8463_keys(&["brisbane"]), 0);
        assert_eq!(ed.result, "pass", "{ed:?}");

        let unknown = verify(m, &DkimKeys::new(), 0);
        assert_eq!(unknown.result, "fail");
        assert!(
            unknown
                .reason
                .unwrap()
                .contains("no public key for brisbane._domainkey.football.example.com")
        );

        let body = RFC8463.replace("We lost", "We won");
        let v = verify(body.as_bytes(), &rfc8463_keys(&["brisbane", "test"]), 0);
        assert_eq!(v.result, "fail");
        assert!(v.reason.unwrap().contains("body hash mismatch"));

        let subject = RFC8463.replace("Is dinner ready?", "Is lunch ready?");
        let v = verify(subject.as_bytes(), &rfc8463_keys(&["brisbane", "test"]), 0);
        assert_eq!(v.result, "fail");
        assert!(v.reason.unwrap().contains("does not verify"));

        // Relaxed canonicalization: refolding and extra spaces change nothing.
        let refolded = RFC8463.replace("Subject: Is dinner", "Subject:   Is\r\n\t dinner");
        let v = verify(refolded.as_bytes(), &rfc8463_keys(&["test"]), 0);
        assert_eq!(v.result, "pass", "{v:?}");

        let revoked = {
            let mut k = DkimKeys::new();
            k.add("brisbane", "football.example.com", "v=DKIM1; k=ed25519; p=");
            k
        };
        let v = verify(m, &revoked, 0);
        assert!(v.reason.unwrap().contains("revoked"));
        let json = serde_json::to_value(verify(m, &rfc8463_keys(&["test"]), 0)).unwrap();
        assert_eq!(json["result"], "pass");
        assert_eq!(json["domain"], "football.example.com");
        assert!(json.get("reason").is_none());
    }

    #[test]
    fn bodies_canonicalize_as_rfc_6376_section_3_4_5_shows() {
        let body = b" C \r\nD \t E\r\n\r\n\r\n";
        assert_eq!(canonical_body(body, true), b" C\r\nD E\r\n");
        assert_eq!(canonical_body(body, false), b" C \r\nD \t E\r\n");
        assert_eq!(canonical_body(b"", true), b"");
        assert_eq!(canonical_body(b"", false), b"\r\n");
        assert_eq!(canonical_body(b"x", true), b"x\r\n");
    }

    #[test]
    fn headers_canonicalize_as_rfc_6376_section_3_4_5_shows() {
        assert_eq!(canonical_header(b"A: X", true), b"a:X\r\n");
        assert_eq!(canonical_header(b"B : Y\t\r\n\tZ  ", true), b"b:Y Z\r\n");
        assert_eq!(
            canonical_header(b"B : Y\t\r\n\tZ  ", false),
            b"B : Y\t\r\n\tZ  \r\n"
        );
    }

    #[test]
    fn the_b_tag_value_is_removed_and_nothing_else() {
        let raw = b"DKIM-Signature: v=1; bh=abc=; b=xyz\r\n uvw; d=x";
        assert_eq!(
            without_b(raw),
            b"DKIM-Signature: v=1; bh=abc=; b=; d=x".to_vec()
        );
        assert_eq!(
            without_b(b"DKIM-Signature: a=1; b=zz"),
            b"DKIM-Signature: a=1; b="
        );
    }

    #[test]
    fn fields_fold_and_the_body_follows_the_empty_line() {
        let m = b"A: 1\r\nB: 2\r\n  more\r\n\r\nbody\r\n";
        let (fields, body) = split(m);
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].raw, b"B: 2\r\n  more");
        assert_eq!(body, b"body\r\n");
        let (fields, body) = split(b"Only: header");
        assert_eq!((fields.len(), body.len()), (1, 0));
    }

    #[test]
    fn an_unsigned_message_is_none_and_junk_never_panics() {
        let keys = DkimKeys::new();
        assert_eq!(
            verify(b"From: a@b.c\r\n\r\nhi\r\n", &keys, 0).result,
            "none"
        );
        for junk in [
            &b""[..],
            b"DKIM-Signature:",
            b"DKIM-Signature: v=1; a=rsa-sha256; b=!!; bh=; d=; s=\r\n\r\n",
            b"\r\n\r\n",
            b"DKIM-Signature: ;;;==;b\r\n",
        ] {
            let v = verify(junk, &keys, 0);
            assert!(["none", "fail"].contains(&v.result), "{v:?}");
        }
    }
}
