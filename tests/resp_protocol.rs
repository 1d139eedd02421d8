//! Bad input over a real socket: each malformed request gets Redis's exact error text, the
//! offending connection is closed (protocol errors) or kept (command errors), and the server
//! keeps serving everyone else with no data lost.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(SERVER)
        .args([
            "--port",
            &port.to_string(),
            "--proto-max-bulk-len",
            "1024",
            "--dir",
        ])
        .arg(dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while exchange(port, b"*3\r\n$3\r\nSET\r\n$4\r\nsafe\r\n$5\r\nvalue\r\n") != "+OK\r\n" {
        assert!(Instant::now() < deadline, "server not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Sends raw bytes and returns everything the server answers until it closes or goes quiet.
fn exchange(port: u16, request: &[u8]) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    if s.write_all(request).is_err() {
        return String::new();
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.ends_with(b"\r\n") && !request.ends_with(b"PING\r\n") {
                    // Give the server a moment to close (protocol errors) or stay quiet.
                    s.set_read_timeout(Some(Duration::from_millis(300)))
                        .unwrap();
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_and_invalid_requests_get_redis_errors() {
    let server = start();
    let p = server.port;
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$-3\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$2000\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$99999999999999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*99999999\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n:5\r\n",
            "-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        (
            b"SET \"unterminated\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nNOPE\r\n",
            "$-1\r\n-ERR unknown command 'NOPE', with args beginning with: \r\n",
        ),
        (
            b"*1\r\n$3\r\nGET\r\n",
            "-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n",
            "-ERR syntax error\r\n",
        ),
        (
            b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$1\r\n0\r\n",
            "-ERR invalid expire time in 'set' command\r\n",
        ),
        (
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n",
            "-ERR SELECT is not allowed in cluster mode\r\n",
        ),
        (b"*3\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\nb\r\n", "+OK\r\n"),
        (
            b"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
            "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
        ),
        (
            b"*2\r\n$4\r\nINCR\r\n$4\r\nsafe\r\n",
            "-ERR value is not an integer or out of range\r\n",
        ),
        (b"PING\r\n", "+PONG\r\n"),
    ];
    for (request, want) in cases {
        let got = exchange(p, request);
        assert_eq!(&got, want, "request {:?}", String::from_utf8_lossy(request));
    }
    // Nobody else was hurt: the server still answers and still has its data.
    assert_eq!(
        exchange(p, b"*2\r\n$3\r\nGET\r\n$4\r\nsafe\r\n"),
        "$5\r\nvalue\r\n"
    );
}

#[test]
fn overflowing_incr_is_refused_and_leaves_the_value() {
    let server = start();
    let p = server.port;
    let max = i64::MAX.to_string();
    let set = format!("*3\r\n$3\r\nSET\r\n$1\r\nn\r\n${}\r\n{max}\r\n", max.len());
    assert_eq!(exchange(p, set.as_bytes()), "+OK\r\n");
    assert_eq!(
        exchange(p, b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        exchange(p, b"*2\r\n$3\r\nGET\r\n$1\r\nn\r\n"),
        format!("${}\r\n{max}\r\n", max.len())
    );
}
