//! `slotraft-server`: one node of a slotraft cluster. With no arguments, a single-node cluster
//! on 127.0.0.1:6379 (RESP) and 127.0.0.1:16379 (gRPC) with data in ./slotraft-data.
//!
//! SIGTERM or SIGINT stops it gracefully (`slotraft::shutdown`): leadership is handed off and
//! clients are redirected before it exits with status 0.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use slotraft::cluster::topology::ClientNetwork;
use slotraft::config::{Args, Config};
use slotraft::node::{self, Faults};
use slotraft::server::context::Context;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,openraft=error,sled=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: container logs and log files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    #[cfg(feature = "unsafe-ack")]
    eprintln!(
        "{}: this server acknowledges writes before they commit and WILL LOSE DATA; \
         it exists only to prove that the torture suite catches lost writes",
        slotraft::UNSAFE_MARKER
    );
    let config = match Config::from_args(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("slotraft-server: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("slotraft-server: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let resp_addr = format!("{}:{}", config.bind, config.port);
    // Bind the client port first so a taken port fails fast, before any Raft state is touched.
    let listener = tokio::net::TcpListener::bind(&resp_addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for RESP on {resp_addr}: {e}"))?;
    let external = match config.external_port {
        Some(port) => {
            let addr = format!("{}:{port}", config.bind);
            let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
                anyhow::anyhow!("cannot listen for external RESP clients on {addr}: {e}")
            })?;
            Some((addr, listener))
        }
        None => None,
    };
    let mut running = node::start(&config, Faults::default()).await?;
    let ctx = Arc::new(Context::new(running.registry.clone(), &config));
    tracing::info!(
        node = config.topology.self_id(),
        resp = %resp_addr,
        external = %external.as_ref().map(|(a, _)| a.as_str()).unwrap_or("-"),
        grpc = %format!("{}:{}", config.bind, config.grpc_port),
        dir = %config.dir.display(),
        groups = running.registry.groups().len(),
        // The cluster's, not the command line's: a node that joined learned it from the cluster.
        cluster = running.registry.topology().cluster_id(),
        "slotraft-server ready"
    );
    tokio::spawn(slotraft::server::serve(listener, ctx.clone()));
    if let Some((_, listener)) = external {
        tokio::spawn(slotraft::server::serve_network(
            listener,
            ctx.clone(),
            ClientNetwork::External,
        ));
    }

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; shutting down"),
        _ = sigterm.recv() => tracing::info!("terminated; shutting down"),
        reason = fatal_reason(&mut running.fatal) => anyhow::bail!("{reason}"),
    }
    let stop = slotraft::shutdown::stop(
        &running.registry,
        &running.peers,
        &ctx.stats,
        Duration::from_millis(config.shutdown_timeout_ms),
    );
    // A second signal means "now": skip the rest of the graceful stop.
    let report = tokio::select! {
        report = stop => report,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted again; stopping at once"),
        _ = sigterm.recv() => anyhow::bail!("terminated again; stopping at once"),
    };
    tracing::info!(
        led_at_start = report.led_at_start,
        still_led = report.still_led,
        open_connections = report.open_connections,
        elapsed_ms = report.elapsed.as_millis() as u64,
        "stopped"
    );
    Ok(())
}

/// Resolves when the node reports a fatal condition; never, if it cannot report one anymore.
async fn fatal_reason(fatal: &mut tokio::sync::watch::Receiver<Option<String>>) -> String {
    match fatal.wait_for(|f| f.is_some()).await {
        Ok(reason) => reason.clone().unwrap_or_default(),
        Err(_) => std::future::pending().await,
    }
}
