//! One client connection: reads bytes, decodes requests (RESP multibulk or inline), executes
//! them one after another and writes the replies in request order. Replies of a pipelined
//! batch are written together.
//!
//! Commands run strictly in order: a read that follows a write on the same connection must see
//! it, and a read can be confirmed (ReadIndex) before a still-pending earlier write commits, so
//! the next command starts only when the previous one has its reply.
//!
//! When the node is stopping (lifecycle `Closing`) the connection closes as soon as it has no
//! partly received request and no command running: a client never loses a reply it waits for.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::context::Context;
use super::session::Session;
use crate::cluster::topology::ClientNetwork;
use crate::group::Lifecycle;
use crate::resp::{decode_request, Frame};

pub struct Connection {
    socket: TcpStream,
    ctx: Arc<Context>,
    session: Session,
    input: BytesMut,
    output: BytesMut,
}

impl Connection {
    pub fn new(
        socket: TcpStream,
        peer: SocketAddr,
        network: ClientNetwork,
        ctx: Arc<Context>,
    ) -> Self {
        let mut session = Session::new(ctx.stats.next_client_id(), peer, network);
        session.local = socket.local_addr().ok();
        Self {
            socket,
            ctx,
            session,
            input: BytesMut::with_capacity(16 * 1024),
            output: BytesMut::with_capacity(16 * 1024),
        }
    }

    pub async fn run(mut self) -> std::io::Result<()> {
        let kill = self.ctx.clients.register(self.session.info());
        let result = tokio::select! {
            r = self.serve() => r,
            // `CLIENT KILL` closes the connection between commands.
            _ = kill.notified() => Ok(()),
        };
        self.ctx.clients.unregister(self.session.id);
        result
    }

    async fn serve(&mut self) -> std::io::Result<()> {
        let mut lifecycle = self.ctx.registry.watch_lifecycle();
        loop {
            // Execute every complete request already buffered, then flush their replies at once.
            loop {
                match decode_request(&mut self.input, &self.ctx.limits) {
                    Ok(Some(args)) => {
                        let outcome = self.ctx.execute(&mut self.session, args).await;
                        self.ctx.clients.update(self.session.info());
                        outcome
                            .frame
                            .encode(&mut self.output, self.session.protocol);
                        if outcome.close {
                            self.socket.write_all(&self.output).await?;
                            return Ok(());
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // As Redis does: report the protocol error, then close the connection.
                        Frame::Error(e.to_string()).encode(&mut self.output, self.session.protocol);
                        self.socket.write_all(&self.output).await?;
                        return Ok(());
                    }
                }
            }
            if !self.output.is_empty() {
                self.socket.write_all(&self.output).await?;
                self.output.clear();
            }
            if self.input.capacity() - self.input.len() < 4096 {
                self.input.reserve(16 * 1024);
            }
            let idle = self.input.is_empty();
            tokio::select! {
                read = self.socket.read_buf(&mut self.input) => {
                    if read? == 0 {
                        return Ok(());
                    }
                }
                // Only between requests: a half-received request is read and answered first.
                _ = lifecycle.wait_for(|l| *l == Lifecycle::Closing), if idle => return Ok(()),
            }
        }
    }
}
