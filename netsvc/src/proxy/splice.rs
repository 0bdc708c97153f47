//! Zero-copy TCP forwarding on Linux: each direction of a proxied connection moves bytes
//! socket → pipe → socket with `splice(2)`, so they never enter userspace.
//!
//! Each direction owns a non-blocking pipe and alternates two steps, driven by tokio
//! readiness (`readable()`/`writable()` + `try_io`):
//!
//! 1. *fill*: with the pipe empty, splice up to the pipe's capacity from the source socket;
//!    0 bytes means EOF;
//! 2. *drain*: splice everything in the pipe into the destination socket, in as many partial
//!    splices as the destination's send buffer takes.
//!
//! Filling only an empty pipe makes `EAGAIN` unambiguous: on the fill step it can only mean
//! "source socket has no data", on the drain step only "destination send buffer full", so
//! tokio clears the readiness of the right socket and the task sleeps until it changes.
//!
//! On EOF the direction shuts down the destination's write side (half-close) while the other
//! direction goes on. An error in either direction ends both (the caller drops both sockets).
//! A direction falls back to a userspace copy when no pipe can be created (e.g. `EMFILE`) or
//! when the kernel refuses to splice these sockets (`EINVAL`/`ENOSYS`) before any byte moved.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering;

use rustix::io::Errno;
use rustix::pipe::{
    PipeFlags, SpliceFlags, fcntl_getpipe_size, fcntl_setpipe_size, pipe_with, splice,
};
use tokio::io::{AsyncWriteExt, BufReader, Interest};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};

use super::{ProxyOptions, ProxyStats};

/// Forwards both directions between `client` and `backend` until both reached EOF (each
/// half-closed in turn) or one failed.
///
/// # Errors
/// The first IO error of either direction (the other direction is abandoned).
pub(super) async fn bidirectional(
    client: &mut TcpStream,
    backend: &mut TcpStream,
    options: &ProxyOptions,
    stats: &ProxyStats,
) -> io::Result<()> {
    let (mut client_read, mut client_write) = client.split();
    let (mut backend_read, mut backend_write) = backend.split();
    tokio::try_join!(
        direction(&mut client_read, &mut backend_write, options, stats),
        direction(&mut backend_read, &mut client_write, options, stats),
    )?;
    Ok(())
}

/// One direction: splice (or, when unavailable, copy) `src` into `dst` until EOF, then
/// half-close `dst`.
async fn direction(
    src: &mut ReadHalf<'_>,
    dst: &mut WriteHalf<'_>,
    options: &ProxyOptions,
    stats: &ProxyStats,
) -> io::Result<()> {
    let pumped = match Pipe::new(options.splice_pipe_size) {
        Ok(pipe) => pipe.pump(src.as_ref(), dst.as_ref()).await?,
        Err(e) => Pumped::Unsupported(e),
    };
    match pumped {
        Pumped::Eof(bytes) => {
            stats.spliced.fetch_add(1, Ordering::Relaxed);
            tracing::trace!(bytes, "spliced direction reached EOF");
        }
        Pumped::Unsupported(error) => {
            stats.splice_fallbacks.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%error, "splice unavailable, copying this direction in userspace");
            let mut reader = BufReader::with_capacity(options.copy_buffer.max(1), &mut *src);
            tokio::io::copy_buf(&mut reader, dst).await?;
        }
    }
    // Half-close: the peer sees EOF on this direction while the other one continues. A peer
    // that is already gone makes this fail; the other direction finds out on its own.
    if let Err(error) = dst.shutdown().await {
        tracing::trace!(%error, "half-close after EOF failed");
    }
    Ok(())
}

/// How a direction's splice loop ended without an IO error.
enum Pumped {
    /// The source reached EOF and every byte reached the destination.
    Eof(u64),
    /// No byte moved: splice (or the pipe) is not available for these sockets.
    Unsupported(io::Error),
}

/// A non-blocking pipe used as the kernel-side buffer of one direction.
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Bytes one fill step asks for (the pipe's capacity).
    capacity: usize,
}

impl Pipe {
    /// A non-blocking, close-on-exec pipe, grown to `size` bytes when the kernel allows it
    /// (`/proc/sys/fs/pipe-max-size`, per-user pipe limits); otherwise it keeps the size it
    /// got.
    fn new(size: usize) -> io::Result<Self> {
        let (read, write) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
        let capacity = match fcntl_setpipe_size(&write, size.max(1)) {
            Ok(capacity) => capacity,
            Err(error) => {
                tracing::debug!(%error, size, "pipe size not granted, keeping the default");
                fcntl_getpipe_size(&write)?
            }
        };
        Ok(Self {
            read,
            write,
            capacity: capacity.max(1),
        })
    }

    /// Moves `src` into `dst` until EOF on `src`.
    async fn pump(&self, src: &TcpStream, dst: &TcpStream) -> io::Result<Pumped> {
        let flags = SpliceFlags::MOVE | SpliceFlags::NONBLOCK;
        let mut total = 0u64;
        loop {
            // Fill (the pipe is empty here, so EAGAIN means the socket has no data).
            src.readable().await?;
            let filled = src.try_io(Interest::READABLE, || {
                splice(src, None, &self.write, None, self.capacity, flags).map_err(io::Error::from)
            });
            let mut in_pipe = match filled {
                Ok(0) => return Ok(Pumped::Eof(total)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if total == 0 && refused(&e) => return Ok(Pumped::Unsupported(e)),
                Err(e) => return Err(e),
            };
            total += in_pipe as u64;
            // Drain (the pipe holds data, so EAGAIN means the send buffer is full).
            while in_pipe > 0 {
                dst.writable().await?;
                let drained = dst.try_io(Interest::WRITABLE, || {
                    splice(&self.read, None, dst, None, in_pipe, flags).map_err(io::Error::from)
                });
                match drained {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => in_pipe = in_pipe.saturating_sub(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// The kernel cannot splice these file descriptors at all.
fn refused(e: &io::Error) -> bool {
    matches!(Errno::from_io_error(e), Some(Errno::INVAL | Errno::NOSYS))
}
