//! The async→sync bridge: a blob stream read through `std::io::Read`. Each
//! read that needs a new chunk drives the current-thread runtime until the
//! next chunk arrives; at most one chunk is held.

use std::io::{self, Read};

use futures_util::stream::BoxStream;
use futures_util::StreamExt as _;

type Chunks = BoxStream<'static, Result<bytes::Bytes, io::Error>>;

pub struct BlobReader<'r> {
    runtime: &'r tokio::runtime::Runtime,
    stream: Chunks,
    chunk: bytes::Bytes,
    done: bool,
}

impl<'r> BlobReader<'r> {
    pub fn new(runtime: &'r tokio::runtime::Runtime, stream: Chunks) -> Self {
        BlobReader {
            runtime,
            stream,
            chunk: bytes::Bytes::new(),
            done: false,
        }
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.runtime.block_on(self.stream.next()) {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(io::Error::other(super::errors::io_message(&e)));
                }
                None => self.done = true,
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        Ok(n)
    }
}
