//! Zero-copy TCP forwarding on Linux: each direction of a proxied connection moves bytes
//! socket → pipe → socket with `splice(2)`, so they never enter userspace.
//!
//! Each direction owns a non-blocking pipe (grown with `F_SETPIPE_SZ`) and one loop that
//! overlaps both ends: it *fills* (splices from the source socket) while the pipe has room and
//! *drains* (splices into the destination socket) while the pipe holds data, so the source
//! keeps being read while the destination's send buffer is full and the reverse. It counts the
//! bytes in the pipe itself (spliced in minus spliced out), and sleeps only when neither end
//! moved, driven by tokio readiness (`try_io` + `readable()`/`writable()`):
//!
//! * a drain `EAGAIN` (the pipe holds data) can only mean "destination send buffer full": it
//!   goes through `try_io`, which clears the write readiness, and the loop waits for
//!   `writable()`;
//! * a fill `EAGAIN` is unambiguous only on an empty pipe ("no data"): only then does it go
//!   through `try_io` (clearing the read readiness) and the loop waits for `readable()`. On a
//!   non-empty pipe the fill is a plain `splice` whose `EAGAIN` may also mean "pipe full in
//!   slots" (a slot holds one socket buffer fragment, which may be smaller than a page); the
//!   read readiness is left untouched and the drain, which must happen first anyway, wakes
//!   the loop. So read readiness is cleared only when the socket really was empty, and no
//!   wakeup is lost.
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
use tokio::io::{AsyncWriteExt, Interest};
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
            super::copy::pump(src, dst, options.copy_buffer).await?;
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
    /// The pipe's capacity in bytes: the most the loop keeps in it.
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

    /// Moves `src` into `dst` until EOF on `src`, reading while the pipe has room and
    /// draining while it holds data (see the module docs for the readiness rules).
    async fn pump(&self, src: &TcpStream, dst: &TcpStream) -> io::Result<Pumped> {
        let flags = SpliceFlags::MOVE | SpliceFlags::NONBLOCK;
        let mut total = 0u64;
        // Bytes spliced into the pipe and not yet out of it: exact, so `in_pipe == 0` means
        // the pipe is empty.
        let mut in_pipe = 0usize;
        let mut eof = false;
        loop {
            let mut progressed = false;
            // Fill while the pipe has room.
            let mut fill_blocked = false;
            if !eof && in_pipe < self.capacity {
                let room = self.capacity - in_pipe;
                let fill =
                    || splice(src, None, &self.write, None, room, flags).map_err(io::Error::from);
                let filled = if in_pipe == 0 {
                    // Empty pipe: EAGAIN can only mean "no data", so tokio may clear the
                    // socket's read readiness and wake the task on the next data.
                    src.try_io(Interest::READABLE, fill)
                } else {
                    // The pipe may be full in slots (each holds one socket buffer fragment,
                    // possibly less than a page): EAGAIN is ambiguous, readiness is left alone.
                    fill()
                };
                match filled {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        in_pipe += n;
                        total += n as u64;
                        progressed = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => fill_blocked = true,
                    Err(e) if total == 0 && refused(&e) => return Ok(Pumped::Unsupported(e)),
                    Err(e) => return Err(e),
                }
            }
            // Drain while the pipe holds data (EAGAIN: the destination's send buffer is full).
            let mut drain_blocked = false;
            if in_pipe > 0 {
                let drained = dst.try_io(Interest::WRITABLE, || {
                    splice(&self.read, None, dst, None, in_pipe, flags).map_err(io::Error::from)
                });
                match drained {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        in_pipe = in_pipe.saturating_sub(n);
                        progressed = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => drain_blocked = true,
                    Err(e) => return Err(e),
                }
            }
            if eof && in_pipe == 0 {
                return Ok(Pumped::Eof(total));
            }
            if progressed {
                // Stay fair to the other tasks of this worker.
                tokio::task::consume_budget().await;
            } else if drain_blocked {
                // The pipe holds data: the destination draining is the next progress, and a
                // full pipe is only emptied that way.
                dst.writable().await?;
            } else if fill_blocked && in_pipe == 0 {
                // Read readiness is only ever cleared on an empty pipe (above), i.e. when the
                // socket really had no data; a stale readiness costs one more round.
                src.readable().await?;
            }
        }
    }
}

/// The kernel cannot splice these file descriptors at all.
fn refused(e: &io::Error) -> bool {
    matches!(Errno::from_io_error(e), Some(Errno::INVAL | Errno::NOSYS))
}
