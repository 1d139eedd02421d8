//! One RESP connection to one node, one exchange at a time: requests are written as RESP
//! arrays of bulk strings, replies parsed with `resp::Frame::parse` as they arrive.

use std::io;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::resp::Frame;

pub struct Connection {
    stream: TcpStream,
    /// Bytes read and not yet parsed: a reply can arrive in pieces.
    rbuf: BytesMut,
}

impl Connection {
    /// Connects to `addr` (`host:port`) within `timeout`.
    pub async fn connect(addr: &str, timeout: Duration) -> io::Result<Connection> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect to {addr}: timed out"),
                )
            })??;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            rbuf: BytesMut::with_capacity(16 * 1024),
        })
    }

    /// Writes `request` (one or several encoded commands: a pipeline).
    pub async fn send(&mut self, request: &[u8]) -> io::Result<()> {
        self.stream.write_all(request).await
    }

    /// Reads the next reply.
    pub async fn read_frame(&mut self) -> io::Result<Frame> {
        loop {
            match Frame::parse(&self.rbuf) {
                Ok(Some((frame, used))) => {
                    self.rbuf.advance(used);
                    return Ok(frame);
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed by the server",
                ));
            }
        }
    }

    /// Sends one command and reads its reply.
    pub async fn call(&mut self, args: &[&[u8]]) -> io::Result<Frame> {
        let mut request = Vec::new();
        encode_request(&mut request, args);
        self.send(&request).await?;
        self.read_frame().await
    }
}

/// Appends `args` to `out` as a RESP array of bulk strings: a command as clients send it.
pub fn encode_request(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.reserve(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_bulk_string_arrays_and_pipelines() {
        let mut out = Vec::new();
        encode_request(&mut out, &[b"SET", b"k", b"v1"]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n".to_vec());
        encode_request(&mut out, &[b"GET", b""]);
        assert!(out.ends_with(b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n"));
    }

    #[tokio::test]
    async fn reads_replies_that_arrive_in_pieces() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            let _ = s.read(&mut buf).await.unwrap();
            for piece in [&b"*2\r\n$3\r\nfo"[..], b"o\r\n:4", b"2\r\n"] {
                s.write_all(piece).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let mut c = Connection::connect(&addr, Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(
            c.call(&[b"X"]).await.unwrap(),
            Frame::Array(vec![Frame::bulk("foo"), Frame::Integer(42)])
        );
        let closed = c.read_frame().await.unwrap_err();
        assert_eq!(closed.kind(), io::ErrorKind::UnexpectedEof);
    }
}
