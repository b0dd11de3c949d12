//! A few threads at a lower scheduling priority for the CPU-heavy part of expensive
//! requests: parsing and validating an imported catalogue, encoding an export, a full
//! listing or a page of changes. Everything else (every short request, every database
//! call) runs first, so one tenant's imports cannot take the CPU from another tenant's
//! reads and writes; the heavy work still gets its share when both cores are busy.
//!
//! Jobs hold no pooled connection and no lock: a low-priority thread holding one would
//! make the requests that wait for it wait longer (priority inversion).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The niceness of the threads: a tenth of the CPU weight of a normal thread, so the
/// work still advances on a saturated machine.
const NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The low-priority threads; they stop when the last handle is dropped.
#[derive(Clone)]
pub struct Background {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background").finish_non_exhaustive()
    }
}

/// The job panicked or its thread is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("background job failed")]
pub struct JobFailed;

impl Background {
    /// Starts `threads` threads (at least one), each at `NICENESS`.
    pub fn start(threads: usize) -> std::io::Result<Background> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new().name(format!("spcm-background-{n}")).spawn(move || {
                lower_priority(NICENESS);
                loop {
                    // The lock is held only while waiting for the next job.
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking job fails alone; the thread goes on with the next.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(mpsc::RecvError) => return,
                    }
                }
            })?;
        }
        Ok(Background { jobs })
    }

    /// Runs `f` on a low-priority thread and waits for its result without blocking the
    /// caller's executor. Jobs run in the order they came.
    pub async fn run<T, F>(&self, f: F) -> Result<T, JobFailed>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (reply, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic drops `reply`, which the caller sees as a failed job.
            let _ = reply.send(f());
        });
        self.jobs.send(job).map_err(|_| JobFailed)?;
        result.await.map_err(|_| JobFailed)
    }
}

/// Lowers the calling thread's scheduling priority (raises its niceness); the process's
/// other threads keep theirs. Where threads cannot be niced one by one, nothing changes.
pub fn lower_priority(niceness: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no arguments; setpriority with PRIO_PROCESS and a thread id
    // changes only that thread's niceness on Linux, and its failure is harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, niceness);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = niceness;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn jobs_run_at_a_lower_priority_and_a_panic_is_a_failed_job() {
        let background = Background::start(1).expect("threads start");
        let niceness = background
            .run(|| {
                // SAFETY: getpriority of the calling thread only reads.
                #[cfg(target_os = "linux")]
                unsafe {
                    *libc::__errno_location() = 0;
                    libc::getpriority(libc::PRIO_PROCESS, libc::syscall(libc::SYS_gettid) as libc::id_t)
                }
                #[cfg(not(target_os = "linux"))]
                NICENESS
            })
            .await
            .expect("the job runs");
        assert!(niceness >= NICENESS, "niceness {niceness}");
        assert_eq!(background.run(|| -> u8 { panic!("boom") }).await, Err(JobFailed));
        assert_eq!(background.run(|| 7).await, Ok(7), "the thread survives a panicking job");
    }
}
