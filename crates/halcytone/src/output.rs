//! What the command line prints on standard output. Every line goes through [`write`], which
//! returns the write's error instead of panicking as `println!` does, so a reader that stops
//! early (`halcytone generate doc.md | head`) ends the command quietly: `main` sees the
//! broken pipe and exits with status 141, as a program killed by SIGPIPE would.

use std::io::Write;

/// Writes `args` to standard output.
pub fn write(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)?;
    out.flush()
}

/// Whether `err` comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The exit status of a command whose output was cut off (128 + SIGPIPE).
pub const BROKEN_PIPE_STATUS: u8 = 141;

/// `println!` that returns the write's error to the enclosing function.
macro_rules! outln {
    () => {
        $crate::output::write(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` that returns the write's error to the enclosing function.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))?
    };
}

pub(crate) use {out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_recognised_through_context() {
        let e = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing the bundle");
        assert!(is_broken_pipe(&e));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
