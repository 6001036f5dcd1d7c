//! A reader that stops after a byte budget: the guard that turns an
//! archive bomb into a warning instead of exhausted memory or time.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

pub struct Budget<R> {
    inner: R,
    left: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Budget<R> {
    /// The reader and a flag set once it has refused to read further.
    pub fn new(inner: R, budget: u64) -> (Budget<R>, Rc<Cell<bool>>) {
        let exceeded = Rc::new(Cell::new(false));
        (
            Budget {
                inner,
                left: budget,
                exceeded: Rc::clone(&exceeded),
            },
            exceeded,
        )
    }
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Only an error if there is more to read.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.exceeded.set(true);
            return Err(io::Error::other("expansion budget exceeded"));
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}
