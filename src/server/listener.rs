//! Accepts RESP clients: one task per connection, at most `maxclients` at once. A client over
//! the limit gets Redis's error and is closed, without disturbing anyone else.
//!
//! A node may have two listeners: `--port` for clients on the cluster network and
//! `--external-port` for clients outside it; the listener a client came through decides the
//! node addresses it is given. Both stop accepting when the node starts closing.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::connection::Connection;
use super::context::Context;
use crate::cluster::topology::ClientNetwork;
use crate::group::Lifecycle;

/// Serves clients on the cluster network (`--port`).
pub async fn serve(listener: TcpListener, ctx: Arc<Context>) {
    serve_network(listener, ctx, ClientNetwork::Cluster).await
}

/// Serves clients that reach this node through `network`.
pub async fn serve_network(listener: TcpListener, ctx: Arc<Context>, network: ClientNetwork) {
    let permits = Arc::new(Semaphore::new(ctx.maxclients));
    let mut lifecycle = ctx.registry.watch_lifecycle();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // Dropping the listener refuses new connections while existing ones drain.
            _ = lifecycle.wait_for(|l| *l == Lifecycle::Closing) => return,
        };
        let (mut socket, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // Typically EMFILE: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            ctx.stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let _ = socket
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
            });
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            ctx.stats.connected_clients.fetch_add(1, Ordering::Relaxed);
            ctx.stats.total_connections.fetch_add(1, Ordering::Relaxed);
            let conn = Connection::new(socket, peer, network, ctx.clone());
            if let Err(e) = conn.run().await {
                tracing::debug!(%peer, error = %e, "connection closed with error");
            }
            ctx.stats.connected_clients.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}
