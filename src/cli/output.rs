//! Standard output of the commands. Writes return their error instead of panicking as
//! `println!` does, so that a reader that stops early (`spcm … | head`) ends the
//! command quietly: a broken pipe counts as success.

use std::io::Write;

/// `text` and a newline on stdout.
pub fn line(text: impl std::fmt::Display) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")?;
    stdout.flush()?;
    Ok(())
}

/// Several lines on stdout, flushed once.
pub fn lines<I: IntoIterator<Item = String>>(texts: I) -> anyhow::Result<()> {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for text in texts {
        writeln!(stdout, "{text}")?;
    }
    stdout.flush()?;
    Ok(())
}

/// Bytes on stdout, as they are.
pub fn bytes(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(())
}

/// True when the error, or one of its causes, is a write to a closed pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
