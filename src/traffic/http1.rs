//! A minimal keep-alive HTTP/1.1 client connection for plain-HTTP traffic.
//!
//! The engine's hot path: one task owns one connection and writes the request,
//! then reads the answer, with no pool, no connection task and no per-request
//! header map. About three times the rate hyper's pooled client reached here.
//! Answers are read with `httparse` (hyper's own parser); bodies by
//! `Content-Length`, chunked encoding or connection close.

use std::io;

use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;

/// Where and what to send: the fixed part of every request.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port` to connect to.
    pub addr: String,
    /// `METHOD /path HTTP/1.1\r\nHost: …\r\n`.
    pub head: Vec<u8>,
    /// Extra header lines and the end of the head (with the body for a POST).
    pub tail: Vec<u8>,
}

impl Target {
    pub fn new(url: &url::Url, post: bool) -> Option<Self> {
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let method = if post { "POST" } else { "GET" };
        let tail = if post {
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".to_vec()
        } else {
            b"\r\n".to_vec()
        };
        Some(Self {
            addr: format!("{host}:{port}"),
            head: format!("{method} {path} HTTP/1.1\r\nHost: {host_header}\r\n").into_bytes(),
            tail,
        })
    }
}

/// One connection, opened on first use and again after any error.
pub struct Conn {
    stream: Option<TcpStream>,
    out: Vec<u8>,
    buf: Vec<u8>,
}

/// An answer: its status and body.
pub struct Answer<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

/// Answers larger than this are refused (the engine only reads short refusals).
const MAX_ANSWER: usize = 1 << 20;

impl Default for Conn {
    fn default() -> Self {
        Self::new()
    }
}

impl Conn {
    pub fn new() -> Self {
        Self {
            stream: None,
            out: Vec::with_capacity(1024),
            buf: Vec::with_capacity(4096),
        }
    }

    /// Forgets the connection (after an exchange was abandoned half-way).
    pub fn reset(&mut self) {
        self.stream = None;
    }

    /// Sends one request whose extra headers are `(name, value)` pairs, and reads
    /// the whole answer. On any error the connection is dropped.
    pub async fn send(
        &mut self,
        target: &Target,
        headers: &[(&[u8], &[u8])],
    ) -> io::Result<Answer<'_>> {
        self.out.clear();
        self.out.extend_from_slice(&target.head);
        for (name, value) in headers {
            self.out.extend_from_slice(name);
            self.out.extend_from_slice(b": ");
            self.out.extend_from_slice(value);
            self.out.extend_from_slice(b"\r\n");
        }
        self.out.extend_from_slice(&target.tail);
        // A kept-alive connection may have been closed by the server since the
        // last answer: retry once on a fresh one when nothing was read back.
        let reused = self.stream.is_some();
        match self.exchange(target).await {
            Ok(span) => Ok(self.answer(span)),
            Err(e) if reused && is_stale(&e) => {
                let span = self.exchange(target).await?;
                Ok(self.answer(span))
            }
            Err(e) => Err(e),
        }
    }

    fn answer(&self, (status, start, end): (u16, usize, usize)) -> Answer<'_> {
        Answer {
            status,
            body: &self.buf[start..end],
        }
    }

    async fn exchange(&mut self, target: &Target) -> io::Result<(u16, usize, usize)> {
        let result = self.try_exchange(target).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn try_exchange(&mut self, target: &Target) -> io::Result<(u16, usize, usize)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&target.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(&self.out).await?;
        self.buf.clear();
        loop {
            let head = parse_head(&self.buf)?;
            if let Some(head) = head {
                if (100..200).contains(&head.status) {
                    self.buf.drain(..head.len);
                    continue;
                }
                let (start, end, keep) = read_body(stream, &mut self.buf, &head).await?;
                if keep {
                    // The whole answer is read and nothing else is expected: mark
                    // the socket not readable without a syscall, so the next
                    // exchange waits for the next answer's event instead of
                    // trying a read that would block.
                    let _ = stream.try_io(Interest::READABLE, || {
                        Err::<(), _>(io::ErrorKind::WouldBlock.into())
                    });
                } else {
                    self.stream = None;
                }
                return Ok((head.status, start, end));
            }
            fill(stream, &mut self.buf).await?;
        }
    }
}

/// The error of a kept-alive connection the server had already closed.
fn is_stale(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        UnexpectedEof | ConnectionReset | BrokenPipe | ConnectionAborted
    )
}

/// What the head of an answer says.
struct Head {
    status: u16,
    len: usize,
    body: BodyKind,
    close: bool,
}

enum BodyKind {
    Length(usize),
    Chunked,
    UntilClose,
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn parse_head(buf: &[u8]) -> io::Result<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(&format!("bad answer head: {e}"))),
    };
    let status = resp.code.unwrap_or(0);
    let mut body = BodyKind::UntilClose;
    let mut close = resp.version == Some(0);
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| invalid("bad Content-Length"))?;
            body = BodyKind::Length(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if contains_token(h.value, b"chunked") {
                body = BodyKind::Chunked;
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = contains_token(h.value, b"close");
        }
    }
    // Answers that never have a body.
    if status == 204 || status == 304 {
        body = BodyKind::Length(0);
    }
    Ok(Some(Head {
        status,
        len,
        body,
        close,
    }))
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Reads what has arrived, waiting for readiness first: after a complete answer
/// the read readiness is cleared (see [`Conn::try_exchange`]), so no read is
/// wasted on an empty socket (one syscall less per request).
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.len() > MAX_ANSWER {
        return Err(invalid("answer too large"));
    }
    if buf.capacity() - buf.len() < 2048 {
        buf.reserve(4096);
    }
    loop {
        stream.readable().await?;
        match stream.try_read_buf(buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads the body; returns its span in `buf` and whether the connection stays open.
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &Head,
) -> io::Result<(usize, usize, bool)> {
    let start = head.len;
    match head.body {
        BodyKind::Length(n) => {
            while buf.len() < start + n {
                fill(stream, buf).await?;
            }
            // Bytes past the answer would be a protocol error (no pipelining).
            Ok((start, start + n, !head.close && buf.len() == start + n))
        }
        BodyKind::UntilClose => {
            loop {
                match fill(stream, buf).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            Ok((start, buf.len(), false))
        }
        BodyKind::Chunked => {
            // Decode in place: chunk data is moved down over the size lines.
            let mut read = start;
            let mut write = start;
            loop {
                let (size, line) = loop {
                    match httparse::parse_chunk_size(&buf[read..]) {
                        Ok(httparse::Status::Complete((line, size))) => break (size, line),
                        Ok(httparse::Status::Partial) => fill(stream, buf).await?,
                        Err(_) => return Err(invalid("bad chunk size")),
                    }
                };
                let size = usize::try_from(size).map_err(|_| invalid("chunk too large"))?;
                read += line;
                if size == 0 {
                    // Trailers (rare) end with an empty line.
                    loop {
                        if let Some(pos) = find_crlf_crlf_or_end(&buf[read..]) {
                            read += pos;
                            break;
                        }
                        fill(stream, buf).await?;
                    }
                    return Ok((start, write, !head.close && buf.len() == read));
                }
                while buf.len() < read + size + 2 {
                    fill(stream, buf).await?;
                }
                buf.copy_within(read..read + size, write);
                write += size;
                read += size + 2;
            }
        }
    }
}

/// After the last chunk: the length of the (empty or trailer) section ending in CRLF CRLF.
fn find_crlf_crlf_or_end(rest: &[u8]) -> Option<usize> {
    if rest.starts_with(b"\r\n") {
        return Some(2);
    }
    rest.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// A server that answers requests with the canned answers in order, one
    /// connection at a time, closing a connection after an answer marked `true`.
    /// Returns the requests and how many connections were accepted.
    async fn server(
        answers: Vec<(&'static [u8], bool)>,
    ) -> (String, tokio::task::JoinHandle<(Vec<Vec<u8>>, usize)>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let (mut requests, mut connections) = (Vec::new(), 0);
            let mut answers = answers.into_iter();
            'accept: loop {
                let (mut s, _) = listener.accept().await.unwrap();
                connections += 1;
                loop {
                    let mut req = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            continue 'accept;
                        }
                        req.extend_from_slice(&chunk[..n]);
                    }
                    requests.push(req);
                    let Some((answer, close)) = answers.next() else {
                        return (requests, connections);
                    };
                    s.write_all(answer).await.unwrap();
                    if answers.len() == 0 {
                        return (requests, connections);
                    }
                    if close {
                        continue 'accept;
                    }
                }
            }
        });
        (addr, task)
    }

    fn target(addr: &str) -> Target {
        Target::new(&format!("http://{addr}/mcp/v1/").parse().unwrap(), false).unwrap()
    }

    #[tokio::test]
    async fn reads_length_and_chunked_answers_on_one_connection() {
        let (addr, task) = server(vec![
            (&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..], false),
            (b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n", false),
            (b"HTTP/1.1 204 No Content\r\n\r\n", false),
        ])
        .await;
        let t = target(&addr);
        let mut c = Conn::new();
        let a = c
            .send(&t, &[(b"Authorization", b"Bearer x")])
            .await
            .unwrap();
        assert_eq!((a.status, a.body), (200, &b"ok"[..]));
        let a = c.send(&t, &[]).await.unwrap();
        assert_eq!((a.status, a.body), (401, &b"{\"a\":1}"[..]));
        let a = c.send(&t, &[]).await.unwrap();
        assert_eq!((a.status, a.body.len()), (204, 0));
        drop(c);
        let (requests, connections) = task.await.unwrap();
        assert_eq!(
            (requests.len(), connections),
            (3, 1),
            "one connection served all three"
        );
        let first = String::from_utf8(requests[0].clone()).unwrap();
        assert!(first.starts_with("GET /mcp/v1/ HTTP/1.1\r\nHost: 127.0.0.1:"));
        assert!(first.contains("\r\nAuthorization: Bearer x\r\n"));
    }

    #[tokio::test]
    async fn reconnects_after_a_close_and_after_an_idle_close() {
        let (addr, task) = server(vec![
            // Announced close.
            (
                &b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"[..],
                true,
            ),
            // Unannounced: the server drops a kept-alive connection after answering.
            (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            (
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
                false,
            ),
        ])
        .await;
        let t = target(&addr);
        let mut c = Conn::new();
        assert_eq!(c.send(&t, &[]).await.unwrap().status, 200);
        assert_eq!(c.send(&t, &[]).await.unwrap().status, 200);
        assert_eq!(c.send(&t, &[]).await.unwrap().status, 503);
        drop(c);
        let (requests, connections) = task.await.unwrap();
        // The third request was written to the dropped connection, then retried.
        assert_eq!(connections, 3);
        assert!(requests.len() >= 3);
    }

    #[tokio::test]
    async fn garbage_is_an_error_not_a_panic() {
        let (addr, _task) = server(vec![(&b"SSH-2.0-OpenSSH\r\n\r\n"[..], false)]).await;
        let mut c = Conn::new();
        let e = c.send(&target(&addr), &[]).await.err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn post_target_carries_its_body() {
        let t = Target::new(&"http://h:9/mcp/resources/list?x=1".parse().unwrap(), true).unwrap();
        assert_eq!(t.addr, "h:9");
        assert!(
            t.head
                .starts_with(b"POST /mcp/resources/list?x=1 HTTP/1.1\r\nHost: h:9\r\n")
        );
        assert!(t.tail.ends_with(b"Content-Length: 2\r\n\r\n{}"));
    }
}
