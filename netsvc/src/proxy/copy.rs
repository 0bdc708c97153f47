//! The userspace copy path of a proxied TCP connection, with buffers that grow only for bulk
//! flows.
//!
//! Each direction reads into its own buffer and writes out what it read. The buffer starts at
//! [`COPY_BUFFER_START`] bytes (at most [`super::ProxyOptions::copy_buffer`]) and doubles,
//! up to `copy_buffer`, each time a read fills it completely: a request/response connection
//! keeps a small buffer, a bulk transfer soon moves up to `copy_buffer` bytes per
//! `read`/`write` pair, which is what keeps the proxy's syscalls (and wake-ups) per byte low.
//! An EOF half-closes the destination (`shutdown(SHUT_WR)`) while the other direction goes
//! on; an error in either direction ends both.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The first buffer of a direction (bytes).
pub const COPY_BUFFER_START: usize = 64 * 1024;

/// Copies both directions between `client` and `backend` until both reached EOF.
pub(super) async fn bidirectional(
    client: &mut TcpStream,
    backend: &mut TcpStream,
    max_buffer: usize,
) -> io::Result<()> {
    let (mut client_read, mut client_write) = client.split();
    let (mut backend_read, mut backend_write) = backend.split();
    tokio::try_join!(
        direction(&mut client_read, &mut backend_write, max_buffer),
        direction(&mut backend_read, &mut client_write, max_buffer),
    )?;
    Ok(())
}

/// One direction: [`pump`], then half-close `dst`.
async fn direction<R, W>(src: &mut R, dst: &mut W, max_buffer: usize) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let bytes = pump(src, dst, max_buffer).await?;
    tracing::trace!(bytes, "copied direction reached EOF");
    // A peer that is already gone makes this fail; the other direction finds out on its own.
    if let Err(error) = dst.shutdown().await {
        tracing::trace!(%error, "half-close after EOF failed");
    }
    Ok(())
}

/// Copies `src` into `dst` until `src` reaches EOF, growing the buffer from
/// [`COPY_BUFFER_START`] to `max_buffer` while reads fill it; returns the bytes copied.
pub(super) async fn pump<R, W>(src: &mut R, dst: &mut W, max_buffer: usize) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let max_buffer = max_buffer.max(1);
    let mut buf = vec![0u8; COPY_BUFFER_START.min(max_buffer)];
    let mut total = 0u64;
    loop {
        let n = src.read(&mut buf).await?;
        if n == 0 {
            dst.flush().await?;
            return Ok(total);
        }
        dst.write_all(buf.get(..n).unwrap_or(&buf)).await?;
        total += n as u64;
        if n == buf.len() && buf.len() < max_buffer {
            buf.resize((buf.len() * 2).min(max_buffer), 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out `chunks` one per read (each read returns at most the chunk).
    struct Chunks(Vec<Vec<u8>>, Vec<usize>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            // Record the buffer size each read was offered.
            let offered = buf.remaining();
            self.1.push(offered);
            if let Some(mut chunk) = (!self.0.is_empty()).then(|| self.0.remove(0)) {
                let n = chunk.len().min(offered);
                buf.put_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.0.insert(0, chunk.split_off(n));
                }
            }
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// The buffer doubles only after full reads and never passes the maximum; every byte
    /// arrives in order.
    #[tokio::test]
    async fn buffer_grows_on_full_reads_up_to_the_maximum() {
        let k = COPY_BUFFER_START;
        // (chunks the source yields, maximum, buffer sizes offered to successive reads)
        let table: Vec<(Vec<usize>, usize, Vec<usize>)> = vec![
            // Small reads: the buffer stays at the start size.
            (vec![100, 200, 300], 1 << 20, vec![k, k, k, k]),
            // Bulk: full reads double the buffer up to the maximum, then it stays.
            (
                vec![k, 2 * k, 4 * k, 4 * k, 10],
                4 * k,
                vec![k, 2 * k, 4 * k, 4 * k, 4 * k, 4 * k],
            ),
            // A maximum below the start size caps the first buffer.
            (vec![1000, 1000], 1000, vec![1000, 1000, 1000]),
            // A zero maximum still moves bytes (one at a time).
            (vec![3], 0, vec![1, 1, 1, 1]),
        ];
        for (chunks, max, offered) in table {
            let data: Vec<Vec<u8>> = chunks
                .iter()
                .enumerate()
                .map(|(i, &n)| (0..n).map(|j| (i * 7 + j) as u8).collect())
                .collect();
            let expected: Vec<u8> = data.concat();
            let mut src = Chunks(data, Vec::new());
            let mut dst = Vec::new();
            let copied = pump(&mut src, &mut dst, max).await.unwrap();
            assert_eq!(copied, expected.len() as u64);
            assert_eq!(dst, expected);
            assert_eq!(src.1, offered, "chunks {chunks:?}, max {max}");
        }
    }
}
