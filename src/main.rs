use std::process::ExitCode;

use clap::Parser;

/// glibc's allocator gives each thread that allocates its own arena and keeps freed
/// memory for reuse; with a pool of blocking threads that grows the resident set far past
/// what the service uses. Two arenas, and large blocks (argon2's 19 MiB, big responses)
/// mapped and returned to the system, keep it small without measurable cost.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = spcm::cli::Cli::parse();
    match spcm::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("spcm: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
