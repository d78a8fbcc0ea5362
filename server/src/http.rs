//! The HTTP side: the embedded web page, a health endpoint, and the
//! WebSocket upgrade at `/ws` with its `Origin` check, the per-address
//! limit for clients behind a trusted proxy, and buffer sizes. (Connection
//! limits, timeouts and the `Host` check happen before, in `front`.)

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::FutureExt;

use crate::front::{Peer, proxy};
use crate::{Shared, assets, connection, origin};

/// The page may load scripts, styles, images and connections only from its
/// own origin, and nothing inline: user text can never become code.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/ws", get(upgrade))
        .route("/healthz", get(health))
        .fallback(get(asset))
        .with_state(shared)
}

async fn upgrade(
    State(shared): State<Arc<Shared>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let origin = header_str(header::ORIGIN);
    if !origin::is_allowed(
        origin,
        header_str(header::HOST),
        &shared.config.allowed_origins,
    ) {
        tracing::info!(origin, "refused WebSocket from another origin");
        crate::metrics::refused(crate::metrics::Refused::Origin);
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    if shared.shutdown.is_cancelled() {
        crate::metrics::refused(crate::metrics::Refused::ShuttingDown);
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    let hangup = peer.as_ref().map(|p| p.hangup.clone()).unwrap_or_default();
    // Behind a trusted proxy the per-address limits apply to the client it
    // forwards, known only now; they hold as long as the WebSocket does.
    let forwarded = match peer {
        Some(Extension(peer)) if shared.admission.is_trusted_proxy(peer.addr.ip()) => {
            let client = proxy::client_address(peer.addr.ip(), &headers, |ip| {
                shared.admission.is_trusted_proxy(ip)
            });
            match shared.admission.admit_forwarded(client) {
                Ok(permit) => Some(permit),
                Err(refusal) => {
                    let body = format!("{refusal}; try again later\n");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(header::RETRY_AFTER, "10")],
                        body,
                    )
                        .into_response();
                }
            }
        }
        _ => None,
    };
    let max = protocol::limits::MAX_FRAME_BYTES;
    let tracker = shared.connections.clone();
    ws.read_buffer_size(shared.config.read_buffer_bytes)
        // Queued frames are fed into this buffer and written together when
        // the connection loop flushes; it only grows as far as a burst needs.
        .write_buffer_size(64 * 1024)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            // The permit is dropped when the connection ends. Not an async
            // block around the connection: that would keep a second copy
            // of the socket in every idle connection's task.
            let serve = connection::serve(socket, shared, hangup);
            tracker.track_future(serve.map(move |()| drop(forwarded)))
        })
}

/// `{"status":"ok"|"degraded"|"shutting down","rooms":N,"connections":N,
/// "websockets":N,"refused":N[,"redis":"ok"|"unreachable"]}`: open TCP
/// connections (this one included), chat connections among them, and
/// connections refused since start.
/// Degraded (Redis unreachable in cluster mode) still answers 200: the
/// instance keeps serving its clients as well as it can.
async fn health(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let health = shared.registry.backend().health();
    let status = if shared.shutdown.is_cancelled() {
        "shutting down"
    } else if health.is_degraded() {
        "degraded"
    } else {
        "ok"
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        format!(
            "{{\"status\":\"{status}\",\"rooms\":{},\"connections\":{},\"websockets\":{},\"refused\":{}{}}}\n",
            shared.registry.running_rooms(),
            shared.admission.open(),
            shared.connections.len(),
            shared.admission.refused(),
            health.json_fields()
        ),
    )
}

async fn asset(uri: Uri) -> Response {
    let Some(asset) = assets::find(uri.path()) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        asset.body,
    )
        .into_response()
}
