//! Acknowledgements wait for the disk.
//!
//! - `reply_follows_fdatasync`: runs a real single-node server under `strace` and checks that
//!   between reading a client's SET and writing its `+OK` the server called `fdatasync`.
//! - `failing_sync_fails_the_write`: an in-process node whose log sync is made to fail (as a
//!   dying disk would) must not acknowledge the write.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

fn resp_command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Sends one command on a raw socket and returns the reply line.
fn raw_request(stream: &mut TcpStream, args: &[&str]) -> String {
    stream.write_all(&resp_command(args)).unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn wait_for_port(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            // Ready when the groups have leaders and a write goes through.
            if raw_request(&mut s, &["SET", "warmup", "1"]).starts_with("+OK") {
                return s;
            }
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn reply_follows_fdatasync() {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.map(|o| o.status.success()).unwrap_or(false),
        "strace is required for this test (the README's test command installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.txt");
    let port = free_port();
    let mut child = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-s",
            "80",
            "-e",
            "trace=fdatasync,fsync,sync_file_range,read,recvfrom,write,sendto,writev",
            "-o",
        ])
        .arg(&trace)
        .arg(SERVER)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut s = wait_for_port(port);
    let markers: Vec<String> = (0..5).map(|i| format!("durable-marker-{i}")).collect();
    for m in &markers {
        assert_eq!(raw_request(&mut s, &["SET", "k", m]), "+OK\r\n");
    }
    // A value this large becomes a separate sled blob file, which sled itself never syncs.
    let big = "b".repeat(300 * 1024);
    assert_eq!(raw_request(&mut s, &["SET", "big-marker", &big]), "+OK\r\n");
    // Kill the server, not strace: killing strace detaches its tracee, which then runs on
    // without its (deleted) data directory after the test. strace exits once the server is gone.
    let tracer = child.id();
    let server = std::fs::read_to_string(format!("/proc/{tracer}/task/{tracer}/children"))
        .expect("read strace's children");
    let server = server.trim();
    assert!(
        !server.is_empty() && !server.contains(' '),
        "expected strace to have one child (the server), got {server:?}"
    );
    let killed = Command::new("kill").args(["-9", server]).status().unwrap();
    assert!(killed.success(), "kill -9 {server} failed");
    let _ = child.wait();
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let request = lines
        .iter()
        .position(|l| l.contains("big-marker"))
        .expect("big SET in the trace");
    let reply = lines[request..]
        .iter()
        .position(|l| l.contains("+OK\\r\\n"))
        .map(|i| i + request)
        .expect("reply to the big SET");
    assert!(
        lines[request..reply].iter().any(|l| completed(l, "fsync")),
        "the blob file holding a large value was not fsynced before +OK"
    );
    for m in &markers {
        // With -f, strace may split a call into `read(12, <unfinished ...>` and a later
        // `<... read resumed>"…data…"`: the data, and so the marker, is on the resumed line.
        let request = lines.iter().position(|l| {
            l.contains(m.as_str())
                && ["read(", "recvfrom(", "read resumed>", "recvfrom resumed>"]
                    .iter()
                    .any(|call| l.contains(call))
        });
        let request =
            request.unwrap_or_else(|| panic!("request with {m} not found in strace output"));
        let reply = lines[request..]
            .iter()
            .position(|l| {
                l.contains("+OK\\r\\n")
                    && (l.contains("write(") || l.contains("sendto(") || l.contains("writev("))
            })
            .map(|i| i + request)
            .unwrap_or_else(|| panic!("reply to {m} not found"));
        let synced = lines[request..reply]
            .iter()
            .any(|l| completed(l, "fdatasync"));
        assert!(
            synced,
            "no completed fdatasync between the request {m} (line {request}) and its +OK (line {reply}):\n{}",
            lines[request..=reply].join("\n")
        );
    }
}

/// Whether strace line `l` shows `call` returning: a whole `call(…) = 0`, or the
/// `<... call resumed>… = 0` half of a call strace split because another thread ran meanwhile.
fn completed(l: &str, call: &str) -> bool {
    let whole = l.contains(&format!("{call}(")) && !l.contains("unfinished");
    let resumed = l.contains(&format!("<... {call} resumed>"));
    (whole || resumed) && l.contains("= 0")
}

#[test]
fn failing_sync_fails_the_write() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let args = slotraft::config::Args {
            port: Some(port),
            dir: Some(dir.path().join("data")),
            election_timeout_ms: Some(300),
            heartbeat_ms: Some(100),
            write_timeout_ms: Some(3000),
            ..Default::default()
        };
        let config = slotraft::config::Config::from_args(args).unwrap();
        let faults = slotraft::node::Faults::default();
        let running = slotraft::node::start(&config, faults.clone())
            .await
            .unwrap();
        let mut ctx = slotraft::server::context::Context::new(running.registry.clone(), &config);
        ctx.maxclients = 100;
        ctx.leader_wait = Duration::from_millis(600);
        ctx.write_timeout = Duration::from_millis(3000);
        let ctx = Arc::new(ctx);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        tokio::spawn(slotraft::server::serve(listener, ctx));
        let result = tokio::task::spawn_blocking(move || {
            let mut s = wait_for_port(port);
            assert_eq!(raw_request(&mut s, &["SET", "before", "1"]), "+OK\r\n");
            faults.fail_sync.store(true, Ordering::SeqCst);
            let reply = raw_request(&mut s, &["SET", "during", "1"]);
            assert!(
                reply.starts_with('-'),
                "a write whose log sync failed was acknowledged: {reply:?}"
            );
            assert!(!reply.starts_with("-MOVED"), "{reply}");
            reply
        })
        .await
        .unwrap();
        eprintln!("reply to a write whose sync failed: {result:?}");
    });
}
