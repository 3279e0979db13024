//! HTTP/1.1 on the wire: writing requests, reading responses (also used
//! for Envoy's admin API), and the parsed `Response` every client returns.

use serde_json::Value;
use std::io::{self, BufRead, Write};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Sent in order, exactly as given (duplicates and odd case included).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn get(path: &str) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn post(path: &str, body: &[u8]) -> Request {
        Request {
            method: "POST".into(),
            path: path.into(),
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Clone)]
pub struct Response {
    /// `HTTP/1.1` or `HTTP/2`.
    pub version: String,
    pub status: u16,
    /// Names lowercased, in received order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Body as text, so a failing assertion shows something readable.
impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("version", &self.version)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.text())
            .finish()
    }
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header_values(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {}", self.text()))
    }
}

/// Writes `req` with `Host: host`, a `content-length` when there is a body,
/// and no other header the caller did not ask for.
pub fn write_request(out: &mut impl Write, req: &Request, host: &str) -> io::Result<()> {
    let mut head = format!("{} {} HTTP/1.1\r\nhost: {host}\r\n", req.method, req.path);
    for (name, value) in &req.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !req.body.is_empty() {
        head.push_str(&format!("content-length: {}\r\n", req.body.len()));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(&req.body)?;
    out.flush()
}

/// Reads one response; `head_only` for replies to HEAD, which have no body.
pub fn read_response(input: &mut impl BufRead, head_only: bool) -> io::Result<Response> {
    let status_line = read_line(input)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let headers = read_headers(input)?;
    let mut response = Response {
        version,
        status,
        headers,
        body: Vec::new(),
    };
    if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(response);
    }
    response.body = read_body(input, &response.headers)?;
    Ok(response)
}

/// Header lines up to the blank line, names lowercased.
pub fn read_headers(input: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(input)?;
        if line.is_empty() {
            return Ok(headers);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line {line:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

/// A message body framed by `content-length` or chunked encoding; without
/// either, everything until the peer closes.
pub fn read_body(input: &mut impl BufRead, headers: &[(String, String)]) -> io::Result<Vec<u8>> {
    read_body_and_trailers(input, headers).map(|(body, _)| body)
}

/// Header or trailer fields: names lowercased, in received order.
pub type Fields = Vec<(String, String)>;

/// The body as [`read_body`] reads it, and the trailers of a chunked one
/// (names lowercased, in received order).
pub fn read_body_and_trailers(
    input: &mut impl BufRead,
    headers: &[(String, String)],
) -> io::Result<(Vec<u8>, Fields)> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        loop {
            let size_line = read_line(input)?;
            let size_hex = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| bad(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                let trailers = read_headers(input)?;
                return Ok((body, trailers));
            }
            let start = body.len();
            body.resize(start + size, 0);
            input.read_exact(&mut body[start..])?;
            read_line(input)?;
        }
    }
    match find("content-length") {
        Some(len) => {
            let len: usize = len
                .parse()
                .map_err(|_| bad(format!("bad content-length {len:?}")))?;
            body.resize(len, 0);
            input.read_exact(&mut body)?;
        }
        None => {
            input.read_to_end(&mut body)?;
        }
    }
    Ok((body, Vec::new()))
}

/// One CRLF-terminated line without the terminator; EOF before it is an
/// error, and so are bytes that are not UTF-8.
pub fn read_line(input: &mut impl BufRead) -> io::Result<String> {
    String::from_utf8(read_line_bytes(input)?).map_err(|_| bad("line is not UTF-8".to_string()))
}

/// As [`read_line`], whatever the bytes.
pub fn read_line_bytes(input: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    input.read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\n") {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-message",
        ));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(line)
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
