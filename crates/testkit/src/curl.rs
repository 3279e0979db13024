//! HTTP/2 (and anything else OpenSSL-by-hand does not cover) through the
//! `curl` command line; responses come back as the same `Response`.

use super::client::SERVER_NAME;
use super::http::{Response, read_headers, read_line};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Debug)]
pub struct Curl {
    addr: SocketAddr,
    /// `None` for cleartext HTTP/2 (prior knowledge, no upgrade dance).
    ca: Option<PathBuf>,
    args: Vec<String>,
}

impl Curl {
    /// HTTP/2 over TLS (ALPN h2), verifying the server against `ca`.
    pub fn h2(addr: SocketAddr, ca: &Path) -> Curl {
        let args = vec!["--http2".to_string()];
        Curl {
            addr,
            ca: Some(ca.to_path_buf()),
            args,
        }
    }

    /// HTTP/2 without TLS, starting with the connection preface.
    pub fn h2c(addr: SocketAddr) -> Curl {
        Curl {
            addr,
            ca: None,
            args: vec!["--http2-prior-knowledge".to_string()],
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Curl {
        self.args
            .extend(["-H".to_string(), format!("{name}: {value}")]);
        self
    }

    pub fn client_cert(mut self, cert: &Path, key: &Path) -> Curl {
        self.args.extend([
            "--cert".into(),
            path_arg(cert),
            "--key".into(),
            path_arg(key),
        ]);
        self
    }

    /// Pins the TLS version, e.g. `"1.2"`.
    pub fn tls_version(mut self, version: &str) -> Curl {
        self.args.extend([
            format!("--tlsv{version}"),
            "--tls-max".to_string(),
            version.to_string(),
        ]);
        self
    }

    pub fn get(&self, path: &str) -> Response {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("curl GET {path}: {e}"))
    }

    pub fn try_get(&self, path: &str) -> Result<Response, String> {
        let port = self.addr.port();
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "15", "-D", "-", "--path-as-is"])
            .args(&self.args);
        let url = match &self.ca {
            Some(ca) => {
                cmd.arg("--cacert").arg(ca);
                cmd.arg("--resolve")
                    .arg(format!("{SERVER_NAME}:{port}:{}", self.addr.ip()));
                format!("https://{SERVER_NAME}:{port}{path}")
            }
            None => format!("http://{}{path}", self.addr),
        };
        let out = cmd
            .arg(&url)
            .output()
            .map_err(|e| format!("cannot run curl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "curl {url} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        parse_dump(&out.stdout)
    }
}

/// Parses `curl -D -` (or `curl -i`) output: header block(s), then the body.
pub fn parse_dump(bytes: &[u8]) -> Result<Response, String> {
    let mut input = bytes;
    loop {
        let status_line = read_line(&mut input).map_err(|e| e.to_string())?;
        let mut parts = status_line.split(' ');
        let version = parts.next().unwrap_or_default().to_string();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or(format!("bad status line {status_line:?}"))?;
        let headers = read_headers(&mut input).map_err(|e| e.to_string())?;
        if (100..200).contains(&status) {
            continue; // interim response; the real one follows
        }
        // curl already removed the framing; the rest of the output is the body.
        return Ok(Response {
            version,
            status,
            headers,
            body: input.to_vec(),
        });
    }
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
