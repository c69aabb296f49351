//! `fernhand server`: the control plane. Not built yet; the command exists so
//! that the README's first command answers honestly.

use crate::cli::ServerArgs;
use std::process::ExitCode;

/// Report that the control plane is not available in this build.
pub fn run(args: &ServerArgs) -> anyhow::Result<ExitCode> {
    eprintln!(
        "fernhand server: not yet. This build has the end-to-end security layer \
         (try `fernhand bench e2e`); the control plane that would listen on {} with \
         data in {} is not built yet.",
        args.listen,
        args.data.display()
    );
    Ok(ExitCode::from(2))
}
