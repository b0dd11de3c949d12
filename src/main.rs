use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = spcm::cli::Cli::parse();
    match spcm::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("spcm: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
