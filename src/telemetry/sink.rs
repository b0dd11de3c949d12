//! Where log lines go: a bounded in-memory buffer that one thread writes to stderr in
//! batches, so that a request never waits on the log's file or pipe and the cost per
//! line is one short lock and a copy, not a system call or a thread wake-up.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// How long a line may wait in the buffer.
const LINGER: Duration = Duration::from_millis(10);
/// Buffered bytes that wake the writer before `LINGER` is up.
const EAGER: usize = 256 << 10;
/// Buffered bytes beyond which lines are dropped (and counted) rather than kept.
const LIMIT: usize = 8 << 20;

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct LogBuffer {
    buffer: Mutex<Buffer>,
    wake: Condvar,
    dropped: AtomicU64,
}

/// Writes into the buffer; cheap to clone, one per log line.
#[derive(Clone)]
pub struct LogSink {
    shared: Arc<LogBuffer>,
}

/// Flushes what is buffered and stops the writer when dropped: keep it alive.
pub struct LogGuard {
    shared: Arc<LogBuffer>,
    writer: Option<JoinHandle<()>>,
}

impl LogSink {
    /// The sink and the guard of its writer thread, which writes to `out`.
    pub fn start(out: impl Write + Send + 'static) -> std::io::Result<(LogSink, LogGuard)> {
        let shared = Arc::new(LogBuffer::default());
        let for_writer = shared.clone();
        let writer = std::thread::Builder::new().name("spcm-log".into()).spawn(move || write_out(&for_writer, out))?;
        Ok((LogSink { shared: shared.clone() }, LogGuard { shared, writer: Some(writer) }))
    }
}

fn write_out(shared: &LogBuffer, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let closed = {
            let mut buffer = shared.buffer.lock();
            if !buffer.closed && buffer.bytes.len() < EAGER {
                shared.wake.wait_for(&mut buffer, LINGER);
            }
            std::mem::swap(&mut batch, &mut buffer.bytes);
            buffer.closed
        };
        let dropped = shared.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            batch.extend_from_slice(
                format!("{{\"level\":\"WARN\",\"message\":\"{dropped} log lines dropped\"}}\n").as_bytes(),
            );
        }
        if !batch.is_empty() {
            // Nowhere to report a failing stderr; the lines are lost either way.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            batch.shrink_to(EAGER);
        }
        if closed {
            return;
        }
    }
}

impl Write for LogSink {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.shared.buffer.lock();
        if buffer.bytes.len() + line.len() > LIMIT {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            buffer.bytes.extend_from_slice(line);
            if buffer.bytes.len() >= EAGER && buffer.bytes.len() - line.len() < EAGER {
                self.shared.wake.notify_one();
            }
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogSink {
    type Writer = LogSink;

    fn make_writer(&'a self) -> LogSink {
        self.clone()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.buffer.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `Write` whose bytes the test can read back.
    #[derive(Clone, Default)]
    pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_in_order_and_all_are_flushed_by_the_guard() {
        let out = Captured::default();
        let (sink, guard) = LogSink::start(out.clone()).unwrap();
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let mut sink = sink.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        sink.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        writers.into_iter().for_each(|w| w.join().unwrap());
        drop(guard);
        let text = String::from_utf8(out.0.lock().clone()).unwrap();
        assert_eq!(text.lines().count(), 4000);
        for t in 0..4 {
            let mine: Vec<usize> =
                text.lines().filter_map(|l| l.strip_prefix(&format!("{t} "))).map(|i| i.parse().unwrap()).collect();
            assert_eq!(mine, (0..1000).collect::<Vec<_>>(), "thread {t}'s lines, in order");
        }
    }

    #[test]
    fn a_full_buffer_drops_lines_and_says_so() {
        let shared = Arc::new(LogBuffer::default());
        let mut sink = LogSink { shared: shared.clone() };
        shared.buffer.lock().bytes.resize(LIMIT - 10, b'x');
        sink.write_all(b"fits\n").unwrap();
        sink.write_all(b"one too many\n").unwrap();
        shared.buffer.lock().closed = true;
        let out = Captured::default();
        write_out(&shared, out.clone());
        let text = String::from_utf8(out.0.lock().clone()).unwrap();
        assert!(text.contains("xfits\n"));
        assert!(!text.contains("one too many"));
        assert!(text.ends_with("\"1 log lines dropped\"}\n"), "{}", &text[text.len() - 80..]);
    }
}
