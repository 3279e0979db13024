//! An HTTP/2 client over TLS (ALPN h2, OpenSSL) that sends exactly the
//! bytes a test gives: any `:path` bytes, any header names, request
//! trailers. curl (`curl.rs`) refuses or rewrites such requests. Header
//! blocks are encoded as literals without indexing or Huffman coding, so
//! what is written is what Envoy decodes; responses are decoded with the
//! `fluke-hpack` crate.

use super::client::PreparedClient;
use super::http::Response;
use fluke_hpack::Decoder;
use openssl::ssl::SslStream;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const ALPN_H2: &[u8] = b"\x02h2";

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;

const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// One request as it goes on the wire. Names and values are bytes; nothing
/// is lowercased, checked or added.
#[derive(Clone, Debug, Default)]
pub struct H2Request {
    /// Pseudo-headers first (`:method`, `:scheme`, `:authority`, `:path`),
    /// then the others, all in this order.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Sent as a last HEADERS frame (with END_STREAM) after the body.
    pub trailers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl H2Request {
    /// `method` on `path` (raw bytes) to the test server, over https.
    pub fn new(method: &str, path: &[u8]) -> H2Request {
        H2Request {
            headers: vec![
                (b":method".to_vec(), method.as_bytes().to_vec()),
                (b":scheme".to_vec(), b"https".to_vec()),
                (b":authority".to_vec(), b"localhost".to_vec()),
                (b":path".to_vec(), path.to_vec()),
            ],
            ..H2Request::default()
        }
    }

    pub fn get(path: &str) -> H2Request {
        H2Request::new("GET", path.as_bytes())
    }

    pub fn header(mut self, name: &[u8], value: &[u8]) -> H2Request {
        self.headers.push((name.to_vec(), value.to_vec()));
        self
    }

    pub fn body(mut self, body: &[u8]) -> H2Request {
        self.body = body.to_vec();
        self
    }

    pub fn trailer(mut self, name: &[u8], value: &[u8]) -> H2Request {
        self.trailers.push((name.to_vec(), value.to_vec()));
        self
    }
}

/// How a request ended other than with a response.
#[derive(Debug, PartialEq, Eq)]
pub enum H2Error {
    /// The server reset the stream, with this error code.
    Reset(u32),
    /// The server closed the connection (GOAWAY with this code, or EOF: `None`).
    Closed(Option<u32>),
    Io(String),
    Protocol(String),
}

impl From<io::Error> for H2Error {
    fn from(e: io::Error) -> H2Error {
        match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => H2Error::Closed(None),
            _ => H2Error::Io(e.to_string()),
        }
    }
}

/// One HTTP/2 connection; requests go one after another on streams 1, 3, …
pub struct H2Connection {
    tls: SslStream<TcpStream>,
    decoder: Decoder<'static>,
    next_stream: u32,
}

impl H2Connection {
    /// Connects with `client` (its certificate and chain, if any), offering
    /// only h2, and exchanges the connection preface and settings.
    pub fn connect(client: &super::client::TlsClient, addr: SocketAddr) -> H2Connection {
        let prepared: PreparedClient = client
            .prepare_alpn(ALPN_H2)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut tls = prepared.connect_tls(addr).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            tls.ssl().selected_alpn_protocol(),
            Some(&b"h2"[..]),
            "the server did not pick h2"
        );
        tls.write_all(PREFACE).expect("write preface");
        let mut conn = H2Connection {
            tls,
            decoder: Decoder::new(),
            next_stream: 1,
        };
        conn.write_frame(SETTINGS, 0, 0, &[])
            .expect("write settings");
        conn
    }

    /// Sends `req` on a new stream and reads its response.
    pub fn send(&mut self, req: &H2Request) -> Result<Response, H2Error> {
        let stream = self.next_stream;
        self.next_stream += 2;
        let only_headers = req.body.is_empty() && req.trailers.is_empty();
        self.write_headers(stream, &req.headers, only_headers)?;
        if !req.body.is_empty() {
            let end = if req.trailers.is_empty() {
                END_STREAM
            } else {
                0
            };
            // Frames within the default 16 KiB size; test bodies stay
            // within the initial 64 KiB window.
            let chunks: Vec<&[u8]> = req.body.chunks(16_384).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                let flags = if i + 1 == chunks.len() { end } else { 0 };
                self.write_frame(DATA, flags, stream, chunk)?;
            }
        }
        if !req.trailers.is_empty() {
            self.write_headers(stream, &req.trailers, true)?;
        }
        self.read_response(stream)
    }

    fn write_headers(
        &mut self,
        stream: u32,
        fields: &[(Vec<u8>, Vec<u8>)],
        end_stream: bool,
    ) -> io::Result<()> {
        let block = encode_literals(fields);
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        self.write_frame(HEADERS, flags, stream, &block)
    }

    fn write_frame(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len()).expect("frame fits");
        let mut frame = Vec::with_capacity(9 + payload.len());
        frame.extend_from_slice(&len.to_be_bytes()[1..]);
        frame.push(kind);
        frame.push(flags);
        frame.extend_from_slice(&stream.to_be_bytes());
        frame.extend_from_slice(payload);
        self.tls.write_all(&frame)?;
        self.tls.flush()
    }

    fn read_frame(&mut self) -> io::Result<(u8, u8, u32, Vec<u8>)> {
        let mut head = [0u8; 9];
        self.tls.read_exact(&mut head)?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0; len];
        self.tls.read_exact(&mut payload)?;
        Ok((head[3], head[4], stream, payload))
    }

    /// Frames until `stream` ends, answering the connection's SETTINGS and PINGs.
    fn read_response(&mut self, stream: u32) -> Result<Response, H2Error> {
        let mut block = Vec::new();
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut body = Vec::new();
        loop {
            let (kind, flags, on, payload) = self.read_frame()?;
            match kind {
                SETTINGS if flags & ACK == 0 => self.write_frame(SETTINGS, ACK, 0, &[])?,
                PING if flags & ACK == 0 => self.write_frame(PING, ACK, 0, &payload)?,
                GOAWAY => {
                    let code = payload
                        .get(4..8)
                        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                    return Err(H2Error::Closed(code));
                }
                RST_STREAM if on == stream => {
                    let code = payload
                        .get(..4)
                        .map_or(0, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                    return Err(H2Error::Reset(code));
                }
                HEADERS | CONTINUATION if on == stream => {
                    let fragment = match kind {
                        HEADERS => header_fragment(flags, &payload)?,
                        _ => &payload[..],
                    };
                    block.extend_from_slice(fragment);
                    if flags & END_HEADERS != 0 {
                        let decoded = self
                            .decoder
                            .decode(&block)
                            .map_err(|e| H2Error::Protocol(format!("HPACK: {e:?}")))?;
                        block.clear();
                        // Informational responses (1xx) precede the real one.
                        let informational = decoded
                            .iter()
                            .any(|(n, v)| n == b":status" && v.first() == Some(&b'1'));
                        if !informational {
                            fields.extend(decoded);
                        }
                    }
                    if flags & END_STREAM != 0 {
                        return response(fields, body);
                    }
                }
                DATA if on == stream => {
                    body.extend_from_slice(data_payload(flags, &payload)?);
                    if flags & END_STREAM != 0 {
                        return response(fields, body);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Literal header fields without indexing, names and values as raw octets
/// (no Huffman coding): RFC 7541 section 6.2.2.
fn encode_literals(fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in fields {
        block.push(0x00);
        encode_string(&mut block, name);
        encode_string(&mut block, value);
    }
    block
}

/// A string literal with a 7-bit prefix length and H = 0.
fn encode_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut len = bytes.len();
    if len < 0x7f {
        out.push(len as u8);
    } else {
        out.push(0x7f);
        len -= 0x7f;
        while len >= 0x80 {
            out.push((len % 0x80) as u8 | 0x80);
            len /= 0x80;
        }
        out.push(len as u8);
    }
    out.extend_from_slice(bytes);
}

fn unpadded(flags: u8, payload: &[u8], skip: usize) -> Result<&[u8], H2Error> {
    let bad = || H2Error::Protocol("frame shorter than its padding".into());
    let (pad, start) = match flags & PADDED {
        0 => (0, 0),
        _ => (*payload.first().ok_or_else(bad)? as usize, 1),
    };
    let end = payload.len().checked_sub(pad).ok_or_else(bad)?;
    payload.get(start + skip..end).ok_or_else(bad)
}

fn header_fragment(flags: u8, payload: &[u8]) -> Result<&[u8], H2Error> {
    let priority = if flags & PRIORITY != 0 { 5 } else { 0 };
    unpadded(flags, payload, priority)
}

fn data_payload(flags: u8, payload: &[u8]) -> Result<&[u8], H2Error> {
    unpadded(flags, payload, 0)
}

/// The response in the HTTP/1.1 client's terms: status, lowercase names.
fn response(fields: Vec<(Vec<u8>, Vec<u8>)>, body: Vec<u8>) -> Result<Response, H2Error> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let status = fields
        .iter()
        .find(|(n, _)| n == b":status")
        .and_then(|(_, v)| text(v).parse().ok())
        .ok_or_else(|| H2Error::Protocol("response without :status".into()))?;
    let headers = fields
        .iter()
        .filter(|(n, _)| !n.starts_with(b":"))
        .map(|(n, v)| (text(n).to_ascii_lowercase(), text(v)))
        .collect();
    Ok(Response {
        version: "HTTP/2".to_string(),
        status,
        headers,
        body,
    })
}
