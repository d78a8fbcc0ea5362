//! One HTTP/1.1 connection, served by hyper with the axum router.
//!
//! Two deadlines keep a connection from being held open by a client that
//! says nothing or too little: hyper's header read timeout (which needs a
//! timer to apply at all) covers the request headers, including the wait
//! for the next request on a kept-alive connection; and the whole HTTP
//! exchange, up to the upgrade to a WebSocket, must end within
//! `http_timeout` (slow bodies, answers the client does not read, an
//! upgrade that never completes). After the upgrade the WebSocket has
//! timeouts of its own.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tower::ServiceExt;

use super::{AllowedHosts, Peer};
use crate::Shared;

/// How long a connection past its deadline (or at shutdown) may take to
/// finish the response in progress.
const CLOSING_GRACE: Duration = Duration::from_secs(1);

/// What every HTTP connection of one server shares.
#[derive(Debug)]
pub(super) struct Front {
    pub app: Router,
    pub hosts: AllowedHosts,
    pub shared: Arc<Shared>,
}

impl Front {
    /// Answers one request: refused if its `Host` is not allowed, else
    /// routed.
    async fn handle(&self, request: Request<Incoming>) -> Response {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        if !self.hosts.allows(host) {
            tracing::debug!(host, "refused a request for a host that is not allowed");
            return (
                StatusCode::MISDIRECTED_REQUEST,
                "this server does not serve that host name; see --public-url\n",
            )
                .into_response();
        }
        match self.app.clone().oneshot(request.map(Body::new)).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Serves HTTP on `stream` until the client is done, a deadline passes, the
/// connection becomes a WebSocket, or the server shuts down.
pub(super) async fn serve<S>(stream: S, peer: Peer, front: Arc<Front>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = &front.shared.config;
    let (header_timeout, http_timeout) = (config.header_timeout, config.http_timeout);
    let shutdown = front.shared.shutdown.clone();
    let for_requests = front.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(peer.clone());
        let front = for_requests.clone();
        async move { Ok::<_, Infallible>(front.handle(request).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
            return;
        }
        () = tokio::time::sleep(http_timeout) => {
            tracing::debug!("HTTP connection open too long; closing it");
        }
        () = shutdown.cancelled() => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(CLOSING_GRACE, connection).await;
}
