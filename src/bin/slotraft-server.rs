//! `slotraft-server`: one node of a slotraft cluster. With no arguments, a single-node cluster
//! on 127.0.0.1:6379 (RESP) and 127.0.0.1:16379 (gRPC) with data in ./slotraft-data.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use slotraft::config::{Args, Config};
use slotraft::node::{self, Faults};
use slotraft::server::dispatch::Context;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,openraft=error,sled=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    #[cfg(feature = "unsafe-ack")]
    eprintln!(
        "{}: this server acknowledges writes before they commit and WILL LOSE DATA; \
         it exists only to prove that the torture suite catches lost writes",
        slotraft::torture::cluster::UNSAFE_MARKER
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
    let mut running = node::start(&config, Faults::default()).await?;
    let ctx = Arc::new(Context::new(running.registry.clone(), &config));
    tracing::info!(
        node = config.topology.self_id(),
        resp = %resp_addr,
        grpc = %format!("{}:{}", config.bind, config.grpc_port),
        dir = %config.dir.display(),
        groups = running.registry.groups().count(),
        cluster = config.topology.cluster_id(),
        "slotraft-server ready"
    );
    tokio::spawn(slotraft::server::serve(listener, ctx));

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; shutting down"),
        _ = sigterm.recv() => tracing::info!("terminated; shutting down"),
        reason = fatal_reason(&mut running.fatal) => anyhow::bail!("{reason}"),
    }
    for group in running.registry.groups() {
        let _ = group.raft.shutdown().await;
    }
    Ok(())
}

/// Resolves when the node reports a fatal condition; never, if it cannot report one anymore.
async fn fatal_reason(fatal: &mut tokio::sync::watch::Receiver<Option<String>>) -> String {
    match fatal.wait_for(|f| f.is_some()).await {
        Ok(reason) => reason.clone().unwrap_or_default(),
        Err(_) => std::future::pending().await,
    }
}
