//! An admitted TCP connection: the socket together with its admission
//! permit, so the permit lives exactly as long as the socket (also after
//! the HTTP server hands the socket over to a WebSocket), and a way to
//! hang up hard.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::admission::Permit;

/// Set by the connection code when its peer stopped reading: the socket is
/// then closed with a reset, which discards what the kernel still holds for
/// the peer (megabytes, for a client that never read) at once, instead of
/// keeping it around, trying to deliver it after we are gone.
#[derive(Debug, Clone, Default)]
pub struct Hangup(Arc<AtomicBool>);

impl Hangup {
    /// Close with a reset when the socket is dropped.
    pub fn abort(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn aborted(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A TCP stream that holds its admission permit and obeys its [`Hangup`].
#[derive(Debug)]
pub struct Admitted {
    tcp: TcpStream,
    hangup: Hangup,
    _permit: Permit,
}

impl Admitted {
    pub fn new(tcp: TcpStream, permit: Permit) -> (Self, Hangup) {
        let hangup = Hangup::default();
        let stream = Admitted {
            tcp,
            hangup: hangup.clone(),
            _permit: permit,
        };
        (stream, hangup)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.hangup.aborted() {
            let _ = self.tcp.set_zero_linger();
        }
    }
}

impl AsyncRead for Admitted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Admitted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}
